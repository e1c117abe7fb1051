// The frame dispatcher: what the Chat does with each object the server sends. Answers settle the
// frame they answer by its `ref` (see inflight.js); messages, amendments, typing and presence
// update the room they belong to. Whether a message is ours is decided by sender id only.
import { record } from "./room.js";
import { describeError, describeRecovery } from "./protocol.js";

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
      chat.inflight.settle(obj.ref);
      onSubscribed(chat, obj);
      break;
    case "unsubscribed":
      chat.inflight.settle(obj.ref);
      // What was heard before the server let us out is not news for a later subscribe.
      if (chat.rooms.has(obj.room)) chat.roomState(obj.room).early = [];
      break;
    case "ack":
      onAck(chat, obj);
      break;
    case "message":
      addMessage(chat, obj, chat.rooms.get(obj.room)?.catchingUp ? "replay" : "live");
      break;
    case "edited":
    case "deleted":
      amend(chat, obj, "live");
      break;
    case "typing":
      if (obj.id !== chat.you?.id) chat.emit("typing", { room: obj.room, id: obj.id, name: obj.name });
      break;
    case "presence":
      onPresence(chat, obj);
      break;
    case "pong":
      caughtUp(chat, chat.inflight.pong());
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
  chat.you = obj.you ?? { id: null, name: obj.name, guest: true };
  chat.limits = obj.limits ?? null;
  chat.outbox.setLimits(chat.limits);
  chat.budget.setLimits(chat.limits);
  chat.inflight.clear();
  chat.emit("welcome", { name: obj.name, you: chat.you, limits: chat.limits });
  for (const room of chat.openRooms) chat.subscribe(room);
}

function onSubscribed(chat, obj) {
  const state = chat.roomState(obj.room);
  const early = state.early;
  state.early = [];
  if (!chat.openRooms.includes(obj.room)) {
    // Left while this was on its way: do not stay in a room nobody is looking at.
    chat.unsubscribe(obj.room);
    return;
  }
  const resumed = state.synced;
  const already = state.joined; // answered again (asking for the epoch): nothing new to show
  state.synced = true;
  state.joined = true;
  if (!already) {
    // The roster is who was here when the server let us in; the presence that reached us before
    // this answer came after that (a tab of ours joining, the page before a reload leaving).
    // Answered again on the same connection, the members kept by live presence stand.
    state.seat(chat.you, obj.roster ?? []);
    for (const event of early) countPresence(state, event);
  }
  state.count = obj.count; // counted when this was sent: after the early presence
  if (obj.recovered === false && resumed) {
    // Not exact: say so, and reload the latest instead of pretending nothing was missed.
    const voided = obj.reason === "epoch_changed" || obj.reason === "unknown_offset";
    const lastId = state.lastId ?? 0;
    if (voided) state.forgetIds();
    state.epoch = obj.epoch ?? null;
    chat.emit("notice", { text: describeRecovery(obj.reason), room: obj.room });
    reload(chat, obj.room, lastId, voided);
  } else if (obj.epoch) {
    state.epoch = obj.epoch;
  }
  if (obj.room === chat.room && !already) chat.emit("room", { room: obj.room, joined: true });
  chat.emitMembers(obj.room);
  chat.emitRooms();
  chat.outbox.flush();
}

function caughtUp(chat, entry) {
  if (entry && entry.caughtUp) chat.roomState(entry.caughtUp).catchingUp = null;
}

/** Show the latest stored messages behind a divider: what came after `lastId` is not all there. */
async function reload(chat, room, lastId, voided) {
  const state = chat.roomState(room);
  const divider = state.gap(room, voided ? Number.MAX_SAFE_INTEGER - 1 : lastId);
  if (voided) divider.order = null; // another log: the divider goes after all we had
  chat.emit("message", { record: divider, live: false, history: !voided, room });
  const latest = await chat.history.latest(room, HISTORY_ON_JOIN);
  for (const entry of latest ?? []) {
    const obj = { ...entry, room };
    if ((entry.type ?? "message") === "message") addMessage(chat, obj, voided ? "live-quiet" : "reload");
    else amend(chat, obj, "reload");
  }
}

function onAck(chat, obj) {
  const entry = chat.inflight.settle(obj.ref);
  if (!entry) return;
  if (entry.kind === "publish") {
    const mine = chat.outbox.acked(entry.record, obj.id);
    // Known by id from now on, so history repeating it is not shown twice.
    chat.roomState(mine.room).byId.set(obj.id, mine);
    chat.emit("update", { record: mine });
  } else if (entry.kind === "amend") {
    // The server does not echo our own edit back to us: its ack says it is stored.
    const mine = entry.record;
    if (entry.text === null) Object.assign(mine, { deleted: true, text: "", data: null });
    else Object.assign(mine, { text: entry.text, editedAt: new Date().toISOString() });
    chat.emit("update", { record: mine });
  }
}

/** A message from the socket ("live", or "replay" after a subscribe) or HTTP ("reload"). */
export function addMessage(chat, obj, source) {
  if (!Number.isInteger(obj.id) || typeof obj.room !== "string") return null;
  const state = chat.roomState(obj.room);
  if (source !== "older") state.saw(obj.id, source === "live" || source === "replay");
  if (source === "live" && state.epoch === null && state.joined && !state.askedEpoch) {
    // Joined while the room had no log yet, so no epoch came with it: ask again (a subscribe
    // to a room we are in, resuming from here), so that a later recovery can be checked.
    state.askedEpoch = true;
    chat.subscribe(obj.room);
  }
  if (state.knows(obj)) return null;
  const senderId = typeof obj.sender_id === "string" ? obj.sender_id : null;
  const mine = senderId !== null && senderId === chat.you?.id;
  const message = record({
    key: `m:${obj.room}:${obj.id}:${senderId}`,
    id: obj.id,
    room: obj.room,
    sender: String(obj.sender ?? "?"),
    senderId,
    guest: obj.guest === true,
    text: String(obj.text ?? ""),
    data: obj.data ?? null,
    ts: obj.ts,
    editedAt: obj.edited_at ?? null,
    deleted: obj.deleted === true,
    mine,
    state: mine ? "sent" : "received",
  });
  state.add(message);
  // What was missed while away is news (unread, notified); history from before joining is not.
  const news = source === "live" || (source === "replay" && state.catchingUp === "since");
  chat.noteIncoming(message, news && !mine);
  chat.emit("message", {
    record: message,
    room: obj.room,
    live: news && !mine,
    history: source !== "live" && source !== "live-quiet",
  });
  return message;
}

/** An edit or a delete of message `target` (an entry of the room's log itself). */
export function amend(chat, obj, source) {
  if (!Number.isInteger(obj.id) || !Number.isInteger(obj.target)) return;
  const state = chat.roomState(obj.room);
  if (source === "live") state.saw(obj.id, true);
  const target = state.byId.get(obj.target);
  if (!target || target.deleted) return;
  if (obj.type === "deleted") Object.assign(target, { deleted: true, text: "", data: null });
  else Object.assign(target, { text: String(obj.text ?? ""), editedAt: obj.ts });
  chat.emit("update", { record: target });
}

function onPresence(chat, obj) {
  const state = chat.rooms.get(obj.room);
  if (!state || typeof obj.id !== "string") return;
  if (!state.joined) {
    // Our subscribe's answer is still on its way (the server sends it after the roster was
    // taken and presence already flows to us): counted once the roster is known.
    if (chat.openRooms.includes(obj.room)) state.early.push(obj);
    return;
  }
  countPresence(state, obj);
  state.count = obj.count;
  if (obj.event === "leave") chat.emit("typing", { room: obj.room, id: obj.id, name: null });
  chat.emitMembers(obj.room);
}

function countPresence(state, obj) {
  if (obj.event === "join") state.join({ id: obj.id, name: obj.name, guest: obj.guest === true });
  else state.leave(obj.id);
}

function onError(chat, obj) {
  const entry = chat.inflight.settle(obj.ref);
  const words = describeError(obj.code, obj.detail);
  if (entry && entry.kind === "publish") {
    chat.outbox.failed(entry.record, words);
  } else if (entry && entry.kind === "amend") {
    chat.emit("notice", { text: words });
  } else if (entry && entry.kind === "subscribe" && obj.code === "rate_limited") {
    // Not our user's doing: try the room again shortly instead of leaving them nowhere.
    setTimeout(() => {
      if (chat.openRooms.includes(entry.room) && !chat.roomState(entry.room).joined) {
        chat.subscribe(entry.room);
      }
    }, RESUBSCRIBE_AFTER_MS);
    return;
  } else if (entry && entry.kind === "subscribe") {
    // Refused for good (forbidden, too many rooms): the room is not open, and what was written
    // for it cannot go.
    chat.refused(entry.room, words);
  } else if (!obj.ref && obj.code === "rate_limited") {
    // A frame with no ref was dropped: a ping (answered all the same, as far as catching up
    // goes) or a typing notice. Nothing the person did, so nothing to tell them.
    caughtUp(chat, chat.inflight.pong());
    return;
  }
  chat.emit("notice", { text: words });
}

/** Older stored messages of `chat`'s current room, before the oldest it holds; how many came. */
export async function loadOlder(chat, limit = 50) {
  const room = chat.room;
  const state = chat.roomState(room);
  const oldest = state.oldestId();
  if (oldest === null || oldest <= 1 || !state.olderAvailable) return 0;
  const entries = await chat.history.older(room, oldest, limit);
  if (entries === null) return 0;
  if (entries.length < limit) state.olderAvailable = false;
  let added = 0;
  for (const entry of entries) {
    const obj = { ...entry, room };
    if ((entry.type ?? "message") === "message") added += addMessage(chat, obj, "older") ? 1 : 0;
    else amend(chat, obj, "older");
  }
  return added;
}
