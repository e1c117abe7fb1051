// Our own messages on their way out: written while offline they wait here, and leave in the
// order they were written once the room is joined. A record's `state` says how far it got
// (see record() in room.js): queued, sending, sent, or failed.
import { record } from "./room.js";
import { MAX_FRAME_BYTES, frameBytes, frames } from "./protocol.js";

let refCounter = 0;
// Refs only need to be unique per connection; time plus a counter also survives reloads.
const newRef = () => `c${Date.now().toString(36)}.${(refCounter++).toString(36)}`;

/** Our record of `text` for `room`, or {problem} in plain words when it cannot be sent. */
export function ownMessage(room, sender, text) {
  const ref = newRef();
  if (frameBytes(frames.publish(room, text, ref)) > MAX_FRAME_BYTES) {
    return {
      problem: `That message is too long to send (the limit is ${MAX_FRAME_BYTES / 1024} KB). Please shorten it.`,
    };
  }
  const mine = record({
    key: ref,
    ref,
    room,
    sender,
    text,
    ts: new Date().toISOString(),
    mine: true,
    state: "queued",
  });
  return { record: mine };
}

export class Outbox {
  /**
   * @param {import("./inflight.js").InFlight} inflight where publishes go, tracked for their ack
   * @param {(record: object) => void} onUpdate told whenever one of our records changes state
   */
  constructor(inflight, onUpdate) {
    this.inflight = inflight;
    this.onUpdate = onUpdate;
    this.queue = []; // our records waiting for a connection, oldest first
  }

  add(mine) {
    this.queue.push(mine);
  }

  /** Queue a refused message once more. */
  retry(mine) {
    Object.assign(mine, { state: "queued", error: null });
    this.onUpdate(mine);
    this.queue.push(mine);
  }

  /** Send what is queued, in order, for as long as the socket takes it. */
  flush() {
    while (this.queue.length) {
      const mine = this.queue[0];
      const frame = frames.publish(mine.room, mine.text, mine.ref);
      if (!this.inflight.send(frame, { kind: "publish", ref: mine.ref, record: mine })) return;
      this.queue.shift();
      mine.state = "sending";
      this.onUpdate(mine);
    }
  }

  /** Put records that were sent but never acknowledged back in front of the queue. */
  requeue(records) {
    for (const mine of records) {
      mine.state = "queued";
      this.onUpdate(mine);
    }
    this.queue.unshift(...records);
  }

  /** The server stored our message `ref` as `id`: the record, now sent, or null if not ours. */
  acked(ref, id) {
    const entry = this.inflight.settle((e) => e.kind === "publish" && e.ref === ref);
    if (!entry) return null;
    Object.assign(entry.record, { id, state: "sent" });
    return entry.record;
  }

  /** The server refused our message; `words` say why. */
  failed(mine, words) {
    Object.assign(mine, { state: "failed", error: words });
    this.onUpdate(mine);
  }
}
