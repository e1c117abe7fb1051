// Wiring: preferences in, Chat events to the view, user actions to the Chat. Also keeps the
// original page's contract alive (#messageInput, #messages, global sendMessage() and socket) so
// instructions written for it still work.
import { Auth, askForLogin } from "./auth.js";
import { Chat } from "./chat.js";
import { Alerts } from "./notifications.js";
import { Push } from "./push.js";
import { confirmDelete, editInPlace, fit, wireComposer } from "./composer.js";
import {
  KEYS,
  initialName,
  initialRoom,
  initialRooms,
  sessionSecret,
  showRoomInUrl,
  store,
} from "./prefs.js";
import { describeError, validName } from "./protocol.js";
import { Sidebar } from "./sidebar.js";
import { TypingView } from "./typing.js";
import { ChatView } from "./ui.js";

const $ = (id) => document.getElementById(id);

const view = new ChatView();
const chat = new Chat({
  name: initialName(),
  room: initialRoom(),
  rooms: initialRooms(),
  session: sessionSecret(),
});
const input = $("messageInput");
const alerts = new Alerts({ button: $("notifyButton"), onShow: () => input.focus() });
const typing = new TypingView($("typing"));

// Chat -> page

chat.addEventListener("status", (e) => view.setStatus(e.detail.state, e.detail));
chat.addEventListener("welcome", (e) => {
  view.setName(e.detail.name);
  view.me = e.detail.name;
});
chat.addEventListener("room", (e) => {
  view.setRoom(e.detail.room);
  alerts.setRoom(e.detail.room);
  showRoomInUrl(e.detail.room);
});
chat.addEventListener("reset", (e) => {
  typing.clear();
  view.reset(e.detail.messages);
});
chat.addEventListener("message", (e) => {
  const { record } = e.detail;
  if (record.senderId) typing.stopped(record.senderId);
  if (e.detail.room === chat.room) view.add(record, { history: e.detail.history });
  if (e.detail.live && (e.detail.room === chat.room || record.mention)) alerts.incoming(record);
});
chat.addEventListener("update", (e) => view.update(e.detail.record));
chat.addEventListener("remove", (e) => view.remove(e.detail.record));
chat.addEventListener("members", (e) =>
  sidebar.setMembers(e.detail.members, e.detail.count, e.detail.me, e.detail.online),
);
chat.addEventListener("rooms", (e) => {
  sidebar.setRooms(e.detail.rooms);
  store.set("localStorage", KEYS.rooms, e.detail.rooms.map((r) => r.room).join(","));
});
chat.addEventListener("notice", (e) => view.showNotice(e.detail.text));
chat.addEventListener("typing", (e) => {
  const { room, id, name } = e.detail;
  if (room !== chat.room) return;
  if (name === null) typing.stopped(id);
  else typing.typing(id, name);
});

// Page -> chat

/** Send what is in #messageInput (the original page's global, kept for old instructions). */
function sendMessage() {
  const problem = chat.send(input.value);
  if (problem) {
    view.showNotice(problem);
  } else {
    input.value = "";
    fit(input);
    store.set("sessionStorage", KEYS.draft, "");
    view.hideNotice();
  }
  // Enter sends, and the next message can be typed straight away.
  input.focus();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
});

function editLast() {
  const mine = [...chat.roomState(chat.room).messages].reverse().find((m) => m.mine && m.state === "sent" && !m.deleted);
  const item = mine && view.items.get(mine.key);
  if (!item) return false;
  view.onEdit(mine.key, item);
  return true;
}

wireComposer(input, { onSubmit: sendMessage, onTyping: () => chat.typing(), onEditLast: editLast });

// A draft survives a reconnect (the input is never touched) and even a reload of the tab.
input.value = store.get("sessionStorage", KEYS.draft) ?? "";
input.addEventListener("input", () => store.set("sessionStorage", KEYS.draft, input.value));

function goTo(room) {
  const problem = chat.switchRoom(room);
  if (problem) {
    view.showNotice(problem);
    return false;
  }
  store.set("localStorage", KEYS.room, room);
  view.hideNotice();
  sidebar.close();
  input.focus();
  return true;
}

const sidebar = new Sidebar({
  onSwitch: goTo,
  onLeave: (room) => chat.leaveRoom(room),
});

$("roomForm").addEventListener("submit", (event) => {
  event.preventDefault();
  goTo($("roomInput").value.trim());
});

$("nameForm").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("nameInput").value.trim();
  if (!validName(name)) {
    view.showNotice("A name needs 1 to 32 characters.");
    return;
  }
  if (name === chat.name) return;
  store.set("localStorage", KEYS.name, name);
  view.hideNotice();
  chat.rename(name);
  sidebar.close();
  input.focus();
});

$("retryButton").addEventListener("click", () => chat.socket.reconnectNow());
view.onRetry = (key) => chat.retry(key);
view.onDiscard = (key) => chat.discard(key);
view.onOlder = (limit) => chat.loadOlder(limit);
view.hasOlder = () => {
  const state = chat.roomState(chat.room);
  return state.olderAvailable && (state.oldestId() ?? 0) > 1;
};
view.onEdit = (key, item) => {
  const mine = chat.roomState(chat.room).messages.find((m) => m.key === key);
  if (!mine) return;
  editInPlace(item, mine.text, (text) => (text === mine.text ? null : chat.amend(key, text)));
};
view.onDelete = (key, item) => {
  confirmDelete(item, () => {
    const problem = chat.amend(key, null);
    if (problem) view.showNotice(problem);
  });
};

// Old instructions call sendMessage() and look at `socket`; `socket` is whichever WebSocket is
// current, since reconnecting replaces it.
window.sendMessage = sendMessage;
Object.defineProperty(window, "socket", { get: () => chat.socket.ws, configurable: true });
// For the console and for tests: the live objects, and a sign the app started (see disk-hint.js).
window.desafio = { chat, view, alerts, describeError };

view.setRoom(chat.room);
view.reset(chat.roomState(chat.room).messages);
chat.emitRooms();
alerts.setRoom(chat.room);
view.setStatus("connecting");
// Authentication (auth.js): with AUTH_REQUIRED the server wants a token; ask for a login first,
// and again when the token has expired (the server then closes with 4001).
const auth = new Auth();
let asking = null;
function logIn() {
  asking ??= askForLogin(auth, document.querySelector(".chat")).then(() => {
    asking = null;
    chat.socket.reconnectNow();
  });
  return asking;
}
const socketUrl = chat.socket.url;
chat.socket.url = () => {
  if (auth.config.auth_required && !auth.token) logIn();
  return auth.withToken(socketUrl());
};
const fetchHistory = chat.history.fetcher;
chat.history.fetcher = (url) =>
  auth.token ? fetch(url, { headers: { Accept: "application/json", ...auth.headers() } })
    : fetchHistory(url);
window.desafio.auth = auth;
// Web Push (push.js): follow a room to be notified while no tab is open.
const push = new Push({ auth, button: $("pushButton"), login: logIn });
window.desafio.push = push;
push.setRoom(chat.room);
chat.addEventListener("room", (e) => push.setRoom(e.detail.room));
auth.loadConfig().then(async (config) => {
  if (config.auth_required && !auth.token) await logIn();
  chat.start();
  input.focus();
  push.start();
});
