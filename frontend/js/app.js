// Wiring: preferences in, Chat events to the view, user actions to the Chat. Also keeps the
// original page's contract alive (#messageInput, #messages, global sendMessage() and socket) so
// instructions written for it still work.
import { Auth, askForLogin } from "./auth.js";
import { Chat } from "./chat.js";
import { Alerts } from "./notifications.js";
import { Push } from "./push.js";
import { DEFAULT_ROOM, describeError, validName, validRoom } from "./protocol.js";
import { ChatView } from "./ui.js";

const $ = (id) => document.getElementById(id);
const KEYS = { name: "desafio.name", room: "desafio.room", draft: "desafio.draft" };

// Storage can be disabled (privacy modes, file://); the chat must work without it.
const store = {
  get(area, key) {
    try {
      return window[area].getItem(key);
    } catch {
      return null;
    }
  },
  set(area, key, value) {
    try {
      if (value) window[area].setItem(key, value);
      else window[area].removeItem(key);
    } catch {
      /* nothing to remember with */
    }
  },
};

function initialRoom() {
  const fromUrl = new URLSearchParams(location.search).get("room");
  if (fromUrl && validRoom(fromUrl)) return fromUrl;
  const saved = store.get("localStorage", KEYS.room);
  return saved && validRoom(saved) ? saved : DEFAULT_ROOM;
}

function initialName() {
  const saved = store.get("localStorage", KEYS.name);
  return saved && validName(saved) ? saved : null;
}

/** Keep ?room= in the address bar, so the URL can be shared to bring someone into the room. */
function showRoomInUrl(room) {
  if (!location.protocol.startsWith("http")) return;
  const url = new URL(location.href);
  url.searchParams.set("room", room);
  history.replaceState(null, "", url);
}

const view = new ChatView();
const chat = new Chat({ name: initialName(), room: initialRoom() });
const input = $("messageInput");
const alerts = new Alerts({ button: $("notifyButton"), onShow: () => input.focus() });

// Chat -> page

chat.addEventListener("status", (e) => view.setStatus(e.detail.state, e.detail));
chat.addEventListener("welcome", (e) => view.setName(e.detail.name));
chat.addEventListener("room", (e) => {
  view.setRoom(e.detail.room);
  alerts.setRoom(e.detail.room);
  showRoomInUrl(e.detail.room);
});
chat.addEventListener("reset", (e) => view.reset(e.detail.messages));
chat.addEventListener("message", (e) => {
  view.add(e.detail.record, { history: e.detail.history });
  if (e.detail.live) alerts.incoming(e.detail.record);
});
chat.addEventListener("update", (e) => view.update(e.detail.record));
chat.addEventListener("members", (e) => view.setMembers(e.detail.names, e.detail.count, e.detail.me));
chat.addEventListener("notice", (e) => view.showNotice(e.detail.text));

// Page -> chat

/** Send what is in #messageInput (the original page's global, kept for old instructions). */
function sendMessage() {
  const problem = chat.send(input.value);
  if (problem) {
    view.showNotice(problem);
  } else {
    input.value = "";
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

// A draft survives a reconnect (the input is never touched) and even a reload of the tab.
input.value = store.get("sessionStorage", KEYS.draft) ?? "";
input.addEventListener("input", () => store.set("sessionStorage", KEYS.draft, input.value));

$("roomForm").addEventListener("submit", (event) => {
  event.preventDefault();
  const room = $("roomInput").value.trim();
  const problem = chat.switchRoom(room);
  if (problem) {
    view.showNotice(problem);
    return;
  }
  store.set("localStorage", KEYS.room, room);
  view.hideNotice();
  closeMenu();
  input.focus();
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
  closeMenu();
  input.focus();
});

$("retryButton").addEventListener("click", () => chat.socket.reconnectNow());
view.onRetry = (key) => chat.retry(key);

// On a phone the side panel (name, room, people) folds away behind the menu button.
const menu = $("menuButton");
function closeMenu() {
  $("sidebar").classList.remove("open");
  menu.setAttribute("aria-expanded", "false");
}
menu.addEventListener("click", () => {
  const open = $("sidebar").classList.toggle("open");
  menu.setAttribute("aria-expanded", String(open));
});

// Old instructions call sendMessage() and look at `socket`; `socket` is whichever WebSocket is
// current, since reconnecting replaces it.
window.sendMessage = sendMessage;
Object.defineProperty(window, "socket", { get: () => chat.socket.ws, configurable: true });
// For the console and for tests: the live objects, and a sign the app started (see disk-hint.js).
window.desafio = { chat, view, alerts, describeError };

view.setRoom(chat.room);
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
