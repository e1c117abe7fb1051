// The conversation: who we are, which rooms are open (one connection holds them all), which one
// is on screen, every message we know of, and what is still on its way. It speaks the protocol
// over a ReconnectingSocket and tells the page what changed through events; it never touches
// the DOM. What arrives is handled in dispatch.js; our own messages wait in outbox.js; every
// frame sent is tracked until answered, by its ref, in inflight.js.
import { ReconnectingSocket } from "./connection.js";
import { HISTORY_ON_JOIN, dispatch, loadOlder } from "./dispatch.js";
import { History } from "./history.js";
import { InFlight } from "./inflight.js";
import { Outbox, RateBudget, ownMessage } from "./outbox.js";
import { mentions } from "./mentions.js";
import { RoomState } from "./room.js";
import {
  describeClose,
  describeError,
  frames,
  newRef,
  parseFrame,
  socketUrl,
  validRoom,
} from "./protocol.js";

// Send a typing notice at most this often while the person types (the server relays one per 2 s).
const TYPING_EVERY_MS = 2500;

/**
 * Events (CustomEvent, data in `detail`):
 *  status  {state, delay, reason}      welcome {name, you, limits}   room {room, joined}
 *  reset   {room, messages}            message {record, room, live, history}  update {record}
 *  members {room, members, count, me}  notice  {text}   rooms {rooms: [{room, unread, mentions}]}
 *  typing  {room, id, name}            mention {record}
 */
export class Chat extends EventTarget {
  constructor({ name = null, room, rooms = [], session = null, history = new History(), backoff } = {}) {
    super();
    this.wantedName = name; // what the user chose (null: let the server pick a guest name)
    this.name = null; // what the server calls us, once welcomed
    this.you = null; // {id, name, guest}: who the server says we are
    this.limits = null;
    this.session = session;
    this.room = room;
    this.openRooms = [...new Set([...rooms, room])];
    this.rooms = new Map();
    this.history = history;
    this.lastTyping = 0;
    this.socket = new ReconnectingSocket(() => socketUrl(this.name ?? this.wantedName, this.session), {
      parse: parseFrame,
      heartbeat: () => this.budget.take(true) && this.inflight.send(frames.ping(), { kind: "ping" }),
      backoff,
    });
    this.budget = new RateBudget();
    this.inflight = new InFlight(this.socket);
    this.outbox = new Outbox(
      this.inflight,
      (record) => this.emit("update", { record }),
      (room) => this.roomState(room).joined,
      this.budget,
    );
    this.socket.addEventListener("state", (e) => this.onState(e.detail));
    this.socket.addEventListener("objects", (e) => e.detail.objects.forEach((o) => dispatch(this, o)));
  }

  start() {
    this.socket.start();
    return this;
  }

  get joined() {
    return this.roomState(this.room).joined;
  }

  roomState(room) {
    let state = this.rooms.get(room);
    if (!state) this.rooms.set(room, (state = new RoomState()));
    return state;
  }

  /** Publish `text` in the current room. Returns an error in plain words, or null when accepted. */
  send(text) {
    if (!text || !text.trim()) return "Type a message first.";
    const me = this.you ?? { id: null, name: this.name ?? this.wantedName ?? "you", guest: true };
    const { problem, record: mine } = ownMessage(this.room, me, text, this.limits);
    if (problem) return problem;
    this.roomState(this.room).add(mine);
    this.emit("message", { record: mine, room: this.room, live: false });
    this.outbox.add(mine);
    this.outbox.flush();
    this.lastTyping = 0;
    return null;
  }

  /** Try a failed message again (only ever on the person's request). */
  retry(key) {
    const mine = this.roomState(this.room).messages.find((m) => m.key === key && m.state === "failed");
    if (!mine) return;
    this.outbox.retry(mine);
    this.outbox.flush();
  }

  /** Remove a message of ours that was never delivered. */
  discard(key) {
    const state = this.roomState(this.room);
    const mine = state.messages.find((m) => m.key === key && m.mine && m.state !== "sent");
    if (!mine) return;
    this.outbox.drop(mine);
    state.remove(mine);
    this.emit("remove", { record: mine });
  }

  /** Edit (text) or delete (text null) one of our sent messages; an error in words, or null. */
  amend(key, text) {
    const state = this.roomState(this.room);
    const mine = state.messages.find((m) => m.key === key && m.mine && m.id !== null);
    if (!mine || mine.deleted) return "That message can no longer be changed.";
    if (text !== null && !text.trim()) return "A message cannot be empty; delete it instead.";
    const ref = newRef("a");
    const frame = text === null ? frames.delete(this.room, mine.id, ref) : frames.edit(this.room, mine.id, text, ref);
    if (!this.budget.take(true) || !this.inflight.send(frame, { kind: "amend", record: mine, text })) {
      return "You are offline; try again once connected.";
    }
    return null;
  }

  /** Tell the room we are typing (at most every few seconds). */
  typing() {
    const now = Date.now();
    if (!this.joined || now - this.lastTyping < TYPING_EVERY_MS) return;
    // Only from what the rate leaves over: a notice must never cost a message its turn.
    if (this.outbox.queue.length || !this.budget.take()) return;
    this.lastTyping = now;
    this.socket.send(frames.typing(this.room));
  }

  /** Show `room` (joining it if it is not open yet). Returns an error in plain words, or null. */
  switchRoom(room) {
    if (!validRoom(room)) return describeError("invalid_room");
    if (room === this.room) return null;
    if (!this.openRooms.includes(room)) {
      const most = this.limits?.rooms ?? 32;
      if (this.openRooms.length >= most) return describeError("too_many_rooms");
      this.openRooms.push(room);
      if (this.name !== null) this.subscribe(room);
    }
    this.room = room;
    const state = this.roomState(room);
    state.unread = state.mentions = 0;
    this.emit("room", { room, joined: state.joined });
    this.emit("reset", { room, messages: state.messages });
    this.emitMembers(room);
    this.emitRooms();
    return null;
  }

  /** Leave an open room that is not the one on screen. */
  leaveRoom(room) {
    if (room === this.room || !this.openRooms.includes(room)) return;
    this.openRooms = this.openRooms.filter((r) => r !== room);
    this.unsubscribe(room);
    this.emitRooms();
  }

  /** The server refused to let us into `room`: close it, and fail what waits for it. */
  refused(room, words) {
    this.openRooms = this.openRooms.filter((r) => r !== room);
    for (const mine of [...this.outbox.queue]) if (mine.room === room) this.outbox.failed(mine, words);
    this.emitRooms();
  }

  unsubscribe(room) {
    const state = this.roomState(room);
    state.joined = false;
    this.budget.take(true);
    this.inflight.send(frames.unsubscribe(room, newRef("u")), { kind: "unsubscribe", room });
  }

  /** Reconnect under another display name (the server takes names at the handshake). */
  rename(name) {
    this.wantedName = name;
    this.name = null;
    this.socket.restart();
  }

  /** Join `room`: its latest history the first time, what was missed afterwards. */
  subscribe(room = this.room) {
    const state = this.roomState(room);
    const options = state.subscribeOptions(HISTORY_ON_JOIN);
    const frame = frames.subscribe(room, options, newRef("s"));
    if (!this.inflight.send(frame, { kind: "subscribe", room })) return;
    state.catchingUp = state.synced ? "since" : "history";
    // The server sends the whole replay before it reads the next frame, so the answer to this
    // ping marks where the replay ends and live messages begin.
    this.inflight.send(frames.ping(), { kind: "ping", caughtUp: room });
    this.budget.take(true);
    this.budget.take(true);
  }

  /** Older stored messages of the current room, before the oldest we hold; how many came. */
  loadOlder(limit = 50) {
    return loadOlder(this, limit);
  }

  /** A message arrived for some room: count it unread there unless it is on screen. */
  noteIncoming(message, news) {
    const mention = news && mentions(message.text, this.you?.name ?? this.name);
    message.mention = mention;
    if (news && mention) this.emit("mention", { record: message });
    if (!news || message.room === this.room) return;
    const state = this.roomState(message.room);
    state.unread += 1;
    if (mention) state.mentions += 1;
    this.emitRooms();
  }

  onState({ state, delay, code, until }) {
    if (state !== "open") {
      // A new connection is let in afresh: what the old one heard says nothing of its roster.
      for (const room of this.rooms.values()) Object.assign(room, { joined: false, early: [] });
    }
    if (state === "reconnecting") {
      // Sent but never acknowledged: the server may or may not have it. Sending again with the
      // same ref is safe (the server acknowledges a copy it stored instead of storing it twice),
      // unless the server closed because of the message itself (too big).
      const refusal = code === 1009 ? describeClose(1009) : null;
      this.outbox.requeue(this.inflight.unconfirmed(), refusal);
      this.inflight.clear();
    }
    this.emit("status", { state, delay, until, reason: describeClose(code) });
    this.emitMembers(this.room);
  }

  emitMembers(room) {
    if (room !== this.room) return;
    const state = this.roomState(room);
    const members = [...state.members.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
    );
    this.emit("members", { room, members, count: state.count, me: this.you?.id ?? null, online: this.socket.state === "open" });
  }

  emitRooms() {
    const rooms = this.openRooms.map((room) => {
      const state = this.roomState(room);
      return { room, unread: state.unread, mentions: state.mentions, current: room === this.room };
    });
    this.emit("rooms", { rooms });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
