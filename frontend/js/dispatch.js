// The frame dispatcher: what the Chat does with each object the server sends. Answers settle the
// frame they answer (see inflight.js); messages and presence update the room they belong to.
import { record } from "./room.js";
import { describeError, frames } from "./protocol.js";

// Messages shown on joining a room, whether replayed over the socket or reloaded over HTTP.
export const HISTORY_ON_JOIN = 50;
const RESUBSCRIBE_AFTER_MS = 2000;

/** Handle one server object for `chat` (a Chat, see chat.js). */
export function dispatch(chat, obj) {
  switch (obj.type) {
    case "welcome":
      onWelcome(chat, obj);
      break;
    case "subscribed":
      chat.inflight.settle((e) => e.kind === "subscribe" && e.room === obj.room);
      onSubscribed(chat, obj);
      break;
    case "unsubscribed":
      chat.inflight.settle((e) => e.kind === "unsubscribe");
      break;
    case "ack":
      onAck(chat, obj);
      break;
    case "message":
      addMessage(chat, obj, chat.rooms.get(obj.room)?.catchingUp ? "replay" : "live");
      break;
    case "presence":
      onPresence(chat, obj);
      break;
    case "pong":
      caughtUp(chat, chat.inflight.settle((e) => e.kind === "ping"));
      break;
    case "error":
      onError(chat, obj);
      break;
    default:
      break; // newer servers may say more; this page ignores what it does not know
  }
}

function onWelcome(chat, obj) {
  chat.name = obj.name;
  chat.inflight.clear();
  chat.emit("welcome", { name: obj.name });
  chat.subscribe();
}

function onSubscribed(chat, obj) {
  if (obj.room !== chat.room) {
    // We moved on while this was on its way: do not stay in a room nobody is looking at.
    chat.inflight.send(frames.unsubscribe(obj.room), { kind: "unsubscribe" });
    return;
  }
  chat.joined = true;
  const state = chat.roomState(obj.room);
  state.synced = true;
  state.members.clear();
  for (const name of [chat.name, ...(obj.members || [])]) {
    state.members.set(name, (state.members.get(name) || 0) + 1);
  }
  state.count = obj.count;
  chat.emit("room", { room: obj.room, joined: true });
  chat.emitMembers();
  chat.outbox.flush();
  // The replay (if any) follows; `false` means it cannot: too much was missed, or it is gone.
  if (obj.recovered === false) reload(chat, obj.room, state.lastId ?? 0);
}

function caughtUp(chat, entry) {
  if (entry && entry.caughtUp) chat.roomState(entry.caughtUp).catchingUp = null;
}

/** Show the latest stored messages, behind a divider when they do not reach back to `lastId`. */
async function reload(chat, room, lastId) {
  const latest = await chat.history.latest(room, HISTORY_ON_JOIN);
  const state = chat.roomState(room);
  if (!latest || !latest.length || latest[0].id > lastId + 1) {
    const divider = state.gap(room, lastId);
    if (room === chat.room) chat.emit("message", { record: divider, live: false, history: true });
  }
  // Stored ids behind ours: the history was replaced (or emptied), and ids start again.
  if (latest && (latest.length ? latest[latest.length - 1].id : 0) < lastId) state.lastId = null;
  for (const message of latest ?? []) addMessage(chat, { ...message, room }, "reload");
}

function onAck(chat, obj) {
  const mine = chat.outbox.acked(obj.ref, obj.id);
  if (!mine) return;
  // Known by id from now on, so history repeating it is not shown twice.
  chat.roomState(mine.room).byId.set(obj.id, mine);
  chat.emit("update", { record: mine });
}

/** A message from the socket ("live", or "replay" after a subscribe) or HTTP ("reload"). */
function addMessage(chat, obj, source) {
  if (!Number.isInteger(obj.id) || typeof obj.room !== "string") return;
  const state = chat.roomState(obj.room);
  state.saw(obj.id, source !== "reload");
  if (state.knows(obj)) return;
  // History carries our own messages under our name: they are shown as ours.
  const mine = obj.sender === chat.name;
  // A reused id (replaced history) still needs a key of its own.
  const reused = state.byId.has(obj.id) ? `:${state.messages.length}` : "";
  const message = record({
    key: `m:${obj.room}:${obj.id}${reused}`,
    id: obj.id,
    room: obj.room,
    sender: String(obj.sender ?? "?"),
    text: String(obj.text ?? ""),
    data: obj.data ?? null,
    ts: obj.ts,
    mine,
    state: mine ? "sent" : "received",
  });
  state.add(message);
  if (obj.room === chat.room) {
    // What was missed while away is news (unread, notified); history from before joining is not.
    const news = source === "live" || (source === "replay" && state.catchingUp === "since");
    chat.emit("message", { record: message, live: news && !mine, history: source !== "live" });
  }
}

function onPresence(chat, obj) {
  if (obj.room !== chat.room || !chat.joined) return;
  const state = chat.roomState(obj.room);
  const seen = state.members.get(obj.name) || 0;
  if (obj.event === "join") state.members.set(obj.name, seen + 1);
  else if (seen <= 1) state.members.delete(obj.name);
  else state.members.set(obj.name, seen - 1);
  state.count = obj.count;
  chat.emitMembers();
}

function onError(chat, obj) {
  const entry = obj.ref ? chat.inflight.settle((e) => e.ref === obj.ref) : chat.inflight.oldest();
  const words = describeError(obj.code, obj.detail);
  if (entry && entry.kind === "publish") {
    chat.outbox.failed(entry.record, words);
  } else if (entry && entry.kind === "subscribe" && obj.code === "rate_limited") {
    // Not our user's doing: try the room again shortly instead of leaving them nowhere.
    setTimeout(() => {
      if (chat.room === entry.room && !chat.joined && chat.name !== null) chat.subscribe();
    }, RESUBSCRIBE_AFTER_MS);
    return;
  } else if (entry && entry.kind === "ping") {
    caughtUp(chat, entry); // refused, but answered in order all the same
    return; // a dropped heartbeat still proved the connection alive
  }
  chat.emit("notice", { text: words });
}
