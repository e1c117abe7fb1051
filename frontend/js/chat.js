// The conversation: who we are, which room we are in, every message we know of, and what is still
// on its way. It speaks the protocol over a ReconnectingSocket and tells the page what changed
// through events; it never touches the DOM, so the UI can be rebuilt without touching the logic.
// What arrives is handled in dispatch.js; our own messages wait in outbox.js; every frame sent
// is tracked until answered in inflight.js.
import { ReconnectingSocket } from "./connection.js";
import { HISTORY_ON_JOIN, dispatch } from "./dispatch.js";
import { History } from "./history.js";
import { InFlight } from "./inflight.js";
import { Outbox, ownMessage } from "./outbox.js";
import { RoomState } from "./room.js";
import {
  describeClose,
  describeError,
  frames,
  parseFrame,
  socketUrl,
  validRoom,
} from "./protocol.js";

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
    this.history = history;
    this.socket = new ReconnectingSocket(() => socketUrl(this.name ?? this.wantedName), {
      parse: parseFrame,
      heartbeat: () => this.inflight.send(frames.ping(), { kind: "ping" }),
      backoff,
    });
    this.inflight = new InFlight(this.socket);
    this.outbox = new Outbox(this.inflight, (record) => this.emit("update", { record }));
    this.socket.addEventListener("state", (e) => this.onState(e.detail));
    this.socket.addEventListener("objects", (e) => e.detail.objects.forEach((o) => dispatch(this, o)));
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

  /** Publish `text` in the current room. Returns an error in plain words, or null when accepted. */
  send(text) {
    if (!text || !text.trim()) return "Type a message first.";
    const sender = this.name ?? this.wantedName ?? "you";
    const { problem, record: mine } = ownMessage(this.room, sender, text);
    if (problem) return problem;
    this.roomState(this.room).messages.push(mine);
    this.emit("message", { record: mine, live: false });
    this.outbox.add(mine);
    if (this.joined) this.outbox.flush();
    return null;
  }

  /** Try a refused message again. */
  retry(key) {
    const mine = this.roomState(this.room).messages.find((m) => m.key === key && m.state === "failed");
    if (!mine) return;
    this.outbox.retry(mine);
    if (this.joined) this.outbox.flush();
  }

  /** Leave the current room for `room`. Returns an error in plain words, or null. */
  switchRoom(room) {
    if (!validRoom(room)) return describeError("invalid_room");
    if (room === this.room) return null;
    if (this.joined) this.inflight.send(frames.unsubscribe(this.room), { kind: "unsubscribe" });
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
    if (!this.inflight.send(frames.subscribe(room, options), { kind: "subscribe", room })) return;
    state.catchingUp = state.synced ? "since" : "history";
    // The server answers frames in order and sends the whole replay before reading the next
    // one, so the answer to this ping marks where the replay ends and live messages begin.
    this.inflight.send(frames.ping(), { kind: "ping", caughtUp: room });
  }

  onState({ state, delay, code }) {
    if (state !== "open") this.joined = false;
    if (state === "reconnecting") {
      // Sent but never acknowledged: the server may or may not have it. Sending again is the
      // lesser evil (a rare duplicate) next to silently losing what someone wrote.
      this.outbox.requeue(this.inflight.unconfirmed());
      this.inflight.clear();
    }
    this.emit("status", { state, delay, reason: describeClose(code) });
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
