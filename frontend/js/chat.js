// The conversation: who we are, which room we are in, every message we know of, and what is still
// on its way. It speaks the protocol over a ReconnectingSocket and tells the page what changed
// through events; it never touches the DOM, so the UI can be rebuilt without touching the logic.
import { ReconnectingSocket } from "./connection.js";
import { History } from "./history.js";
import { RoomState, record } from "./room.js";
import {
  MAX_FRAME_BYTES,
  describeClose,
  describeError,
  frameBytes,
  frames,
  parseFrame,
  socketUrl,
  validRoom,
} from "./protocol.js";

let refCounter = 0;
// Refs only need to be unique per connection; time plus a counter also survives reloads.
const newRef = () => `c${Date.now().toString(36)}.${(refCounter++).toString(36)}`;
const HISTORY_ON_JOIN = 50;
const RESUBSCRIBE_AFTER_MS = 2000;

/**
 * Events (CustomEvent, data in `detail`):
 *  status  {state, delay, reason}     welcome {name}         room {room, joined}
 *  reset   {room, messages}           message {record, live, history}  update {record}
 *  members {room, names, count, me}   notice  {text}
 */
export class Chat extends EventTarget {
  constructor({ name = null, room, history = new History(), backoff } = {}) {
    super();
    this.wantedName = name; // what the user chose (null: let the server pick a guest name)
    this.name = null; // what the server calls us, once welcomed
    this.room = room;
    this.joined = false;
    this.rooms = new Map();
    this.outbox = []; // our records waiting for a connection, oldest first
    // The server answers every frame exactly once, in order (ack/subscribed/unsubscribed/pong or
    // error). Keeping what we sent in order lets an error without a `ref` (rate_limited) be tied
    // to the frame it refused.
    this.inflight = [];
    this.history = history;
    this.socket = new ReconnectingSocket(() => socketUrl(this.name ?? this.wantedName), {
      parse: parseFrame,
      heartbeat: () => this.sendTracked(frames.ping(), { kind: "ping" }),
      backoff,
    });
    this.socket.addEventListener("state", (e) => this.onState(e.detail));
    this.socket.addEventListener("objects", (e) => e.detail.objects.forEach((o) => this.onObject(o)));
  }

  start() {
    this.socket.start();
    return this;
  }

  roomState(room) {
    let state = this.rooms.get(room);
    if (!state) this.rooms.set(room, (state = new RoomState()));
    return state;
  }

  // Outgoing

  /** Publish `text` in the current room. Returns an error in plain words, or null when accepted. */
  send(text) {
    if (!text || !text.trim()) return "Type a message first.";
    const ref = newRef();
    if (frameBytes(frames.publish(this.room, text, ref)) > MAX_FRAME_BYTES) {
      return `That message is too long to send (the limit is ${MAX_FRAME_BYTES / 1024} KB). Please shorten it.`;
    }
    const mine = record({
      key: ref,
      ref,
      room: this.room,
      sender: this.name ?? this.wantedName ?? "you",
      text,
      ts: new Date().toISOString(),
      mine: true,
      state: "queued",
    });
    this.roomState(this.room).messages.push(mine);
    this.emit("message", { record: mine, live: false });
    this.outbox.push(mine);
    if (this.joined) this.flush();
    return null;
  }

  /** Try a refused message again. */
  retry(key) {
    const mine = this.roomState(this.room).messages.find((m) => m.key === key && m.state === "failed");
    if (!mine) return;
    Object.assign(mine, { state: "queued", error: null });
    this.emit("update", { record: mine });
    this.outbox.push(mine);
    if (this.joined) this.flush();
  }

  flush() {
    while (this.outbox.length) {
      const mine = this.outbox[0];
      const frame = frames.publish(mine.room, mine.text, mine.ref);
      if (!this.sendTracked(frame, { kind: "publish", ref: mine.ref, record: mine })) return;
      this.outbox.shift();
      mine.state = "sending";
      this.emit("update", { record: mine });
    }
  }

  sendTracked(frame, entry) {
    if (!this.socket.send(frame)) return false;
    this.inflight.push(entry);
    return true;
  }

  /** Leave the current room for `room`. Returns an error in plain words, or null. */
  switchRoom(room) {
    if (!validRoom(room)) return describeError("invalid_room");
    if (room === this.room) return null;
    if (this.joined) this.sendTracked(frames.unsubscribe(this.room), { kind: "unsubscribe" });
    this.room = room;
    this.joined = false;
    const state = this.roomState(room);
    state.members.clear();
    state.count = 0;
    this.emit("room", { room, joined: false });
    this.emit("reset", { room, messages: state.messages });
    this.emitMembers();
    if (this.name !== null) this.subscribe();
    return null;
  }

  /** Reconnect under another display name (the server takes names at the handshake). */
  rename(name) {
    this.wantedName = name;
    this.name = null;
    this.socket.restart();
  }

  /** Join the current room: its latest history the first time, what was missed afterwards. */
  subscribe() {
    const room = this.room;
    const state = this.roomState(room);
    const options = state.subscribeOptions(HISTORY_ON_JOIN);
    if (!this.sendTracked(frames.subscribe(room, options), { kind: "subscribe", room })) return;
    state.catchingUp = state.synced ? "since" : "history";
    // The server answers frames in order and sends the whole replay before reading the next
    // one, so the answer to this ping marks where the replay ends and live messages begin.
    this.sendTracked(frames.ping(), { kind: "ping", caughtUp: room });
  }

  // Incoming

  onState({ state, delay, code }) {
    if (state !== "open") this.joined = false;
    if (state === "reconnecting") {
      // Sent but never acknowledged: the server may or may not have it. Sending again is the
      // lesser evil (a rare duplicate) next to silently losing what someone wrote.
      const unconfirmed = this.inflight
        .filter((entry) => entry.kind === "publish")
        .map((entry) => entry.record);
      for (const mine of unconfirmed) {
        mine.state = "queued";
        this.emit("update", { record: mine });
      }
      this.outbox.unshift(...unconfirmed);
      this.inflight = [];
    }
    this.emit("status", { state, delay, reason: describeClose(code) });
  }

  onObject(obj) {
    switch (obj.type) {
      case "welcome":
        this.onWelcome(obj);
        break;
      case "subscribed":
        this.settle((e) => e.kind === "subscribe" && e.room === obj.room);
        this.onSubscribed(obj);
        break;
      case "unsubscribed":
        this.settle((e) => e.kind === "unsubscribe");
        break;
      case "ack":
        this.onAck(obj);
        break;
      case "message":
        this.addMessage(obj, this.rooms.get(obj.room)?.catchingUp ? "replay" : "live");
        break;
      case "presence":
        this.onPresence(obj);
        break;
      case "pong":
        this.caughtUp(this.settle((e) => e.kind === "ping"));
        break;
      case "error":
        this.onError(obj);
        break;
      default:
        break; // newer servers may say more; this page ignores what it does not know
    }
  }

  settle(match) {
    const index = this.inflight.findIndex(match);
    return index === -1 ? null : this.inflight.splice(index, 1)[0];
  }

  onWelcome(obj) {
    this.name = obj.name;
    this.inflight = [];
    this.emit("welcome", { name: obj.name });
    this.subscribe();
  }

  onSubscribed(obj) {
    if (obj.room !== this.room) {
      // We moved on while this was on its way: do not stay in a room nobody is looking at.
      this.sendTracked(frames.unsubscribe(obj.room), { kind: "unsubscribe" });
      return;
    }
    this.joined = true;
    const state = this.roomState(obj.room);
    state.synced = true;
    state.members.clear();
    for (const name of [this.name, ...(obj.members || [])]) {
      state.members.set(name, (state.members.get(name) || 0) + 1);
    }
    state.count = obj.count;
    this.emit("room", { room: obj.room, joined: true });
    this.emitMembers();
    this.flush();
    // The replay (if any) follows; `false` means it cannot: too much was missed, or it is gone.
    if (obj.recovered === false) this.reload(obj.room, state.lastId ?? 0);
  }

  caughtUp(entry) {
    if (entry && entry.caughtUp) this.roomState(entry.caughtUp).catchingUp = null;
  }

  /** Show the latest stored messages, behind a divider when they do not reach back to `lastId`. */
  async reload(room, lastId) {
    const latest = await this.history.latest(room, HISTORY_ON_JOIN);
    const state = this.roomState(room);
    if (!latest || !latest.length || latest[0].id > lastId + 1) {
      const divider = state.gap(room, lastId);
      if (room === this.room) this.emit("message", { record: divider, live: false, history: true });
    }
    // Stored ids behind ours: the history was replaced (or emptied), and ids start again.
    if (latest && (latest.length ? latest[latest.length - 1].id : 0) < lastId) state.lastId = null;
    for (const message of latest ?? []) this.addMessage({ ...message, room }, "reload");
  }

  onAck(obj) {
    const entry = this.settle((e) => e.kind === "publish" && e.ref === obj.ref);
    if (!entry) return;
    const mine = entry.record;
    Object.assign(mine, { id: obj.id, state: "sent" });
    // Known by id from now on, so history repeating it is not shown twice.
    this.roomState(mine.room).byId.set(obj.id, mine);
    this.emit("update", { record: mine });
  }

  /** A message from the socket ("live", or "replay" after a subscribe) or HTTP ("reload"). */
  addMessage(obj, source) {
    if (!Number.isInteger(obj.id) || typeof obj.room !== "string") return;
    const state = this.roomState(obj.room);
    state.saw(obj.id, source !== "reload");
    if (state.knows(obj)) return;
    // History carries our own messages under our name: they are shown as ours.
    const mine = obj.sender === this.name;
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
    if (obj.room === this.room) {
      // What was missed while away is news (unread, notified); history from before joining is not.
      const news = source === "live" || (source === "replay" && state.catchingUp === "since");
      this.emit("message", { record: message, live: news && !mine, history: source !== "live" });
    }
  }

  onPresence(obj) {
    if (obj.room !== this.room || !this.joined) return;
    const state = this.roomState(obj.room);
    const seen = state.members.get(obj.name) || 0;
    if (obj.event === "join") state.members.set(obj.name, seen + 1);
    else if (seen <= 1) state.members.delete(obj.name);
    else state.members.set(obj.name, seen - 1);
    state.count = obj.count;
    this.emitMembers();
  }

  onError(obj) {
    const entry = obj.ref
      ? this.settle((e) => e.ref === obj.ref)
      : this.inflight.shift() ?? null;
    const words = describeError(obj.code, obj.detail);
    if (entry && entry.kind === "publish") {
      Object.assign(entry.record, { state: "failed", error: words });
      this.emit("update", { record: entry.record });
    } else if (entry && entry.kind === "subscribe" && obj.code === "rate_limited") {
      // Not our user's doing: try the room again shortly instead of leaving them nowhere.
      setTimeout(() => {
        if (this.room === entry.room && !this.joined && this.name !== null) this.subscribe();
      }, RESUBSCRIBE_AFTER_MS);
      return;
    } else if (entry && entry.kind === "ping") {
      this.caughtUp(entry); // refused, but answered in order all the same
      return; // a dropped heartbeat still proved the connection alive
    }
    this.emit("notice", { text: words });
  }

  emitMembers() {
    const state = this.roomState(this.room);
    const names = [...state.members.keys()].sort((a, b) => a.localeCompare(b));
    this.emit("members", { room: this.room, names, count: state.count, me: this.name });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
