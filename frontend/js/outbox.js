// Our own messages on their way out: written while offline they wait here, and leave in the
// order they were written once their room is joined, paced to the server's advertised rate.
// A record's `state` says how far it got (see record() in room.js): queued, sending, sent, or
// failed. A failed message is never re-sent by itself (only the person's Retry does), and it
// leaves the queue: one stuck message never holds back the ones written after it.
import { record } from "./room.js";
import { MAX_FRAME_BYTES, frameBytes, frames, newRef } from "./protocol.js";

// A message sent this many times without an acknowledgement (each time the connection dropped
// before the answer) is failed rather than sent once more: something about it is wrong.
const MAX_ATTEMPTS = 3;
// A token of the server's bucket kept for the heartbeat's ping.
const SPARE_TOKENS = 1;

/**
 * The server's rate limit as the page keeps to it: a token bucket like the connection's own
 * (`welcome.limits`), spent by every frame sent, so that publishes wait their turn instead of
 * being refused. Subscribes and pings spend even when it is empty (they must go); typing
 * notices and publishes wait (or, for typing, are skipped).
 */
export class RateBudget {
  constructor() {
    this.limits = null;
    this.tokens = 0;
    this.refilled = 0;
  }

  /** A new connection starts with a full bucket. */
  setLimits(limits) {
    this.limits = limits;
    this.tokens = limits?.rate_burst ?? 0;
    this.refilled = performance.now();
  }

  refill() {
    const rate = this.limits?.rate_per_second;
    const now = performance.now();
    if (rate) this.tokens = Math.min(this.limits.rate_burst, this.tokens + ((now - this.refilled) / 1000) * rate);
    this.refilled = now;
  }

  /** Spend a token if one is left (beyond the spare); `force` spends it regardless. */
  take(force = false) {
    if (!this.limits?.rate_per_second) return true; // no rate known: the server decides
    this.refill();
    if (!force && this.tokens < 1 + SPARE_TOKENS) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until `take()` would succeed. */
  wait() {
    const rate = this.limits?.rate_per_second || 1;
    return Math.max(20, Math.ceil(((1 + SPARE_TOKENS - this.tokens) / rate) * 1000));
  }
}

/** The most bytes one frame may have, as the server said in `welcome` (or its default). */
export function frameLimit(limits) {
  return limits?.message_bytes ?? MAX_FRAME_BYTES;
}

/** Our record of `text` for `room`, or {problem} in plain words when it cannot be sent. */
export function ownMessage(room, me, text, limits) {
  const ref = newRef();
  const limit = frameLimit(limits);
  if (frameBytes(frames.publish(room, text, ref)) > limit) {
    const size = limit >= 1024 ? `${Math.floor(limit / 1024)} KB` : `${limit} bytes`;
    return { problem: `That message is too long to send (the limit is ${size}). Please shorten it.` };
  }
  const mine = record({
    key: ref,
    ref,
    room,
    sender: me.name,
    senderId: me.id,
    guest: me.guest,
    text,
    ts: new Date().toISOString(),
    mine: true,
    state: "queued",
    attempts: 0,
  });
  return { record: mine };
}

export class Outbox {
  /**
   * @param {import("./inflight.js").InFlight} inflight where publishes go, tracked for their ack
   * @param {(record: object) => void} onUpdate told whenever one of our records changes state
   * @param {(room: string) => boolean} joined whether a room is joined (its messages may go)
   */
  constructor(inflight, onUpdate, joined = () => true, budget = new RateBudget()) {
    this.inflight = inflight;
    this.onUpdate = onUpdate;
    this.joined = joined;
    this.budget = budget;
    this.queue = []; // our records waiting for a connection, oldest first
    this.limits = null;
    this.timer = null;
  }

  /** The server's limits (from `welcome`): frame size (the rate is the budget's). */
  setLimits(limits) {
    this.limits = limits;
  }

  add(mine) {
    this.queue.push(mine);
  }

  /** Queue a failed message once more (the person pressed Retry). */
  retry(mine) {
    Object.assign(mine, { state: "queued", error: null, attempts: 0 });
    this.onUpdate(mine);
    this.queue.push(mine);
  }

  /** Forget a message that was never sent or failed (the person pressed Delete). */
  drop(mine) {
    this.queue = this.queue.filter((m) => m !== mine);
  }

  /** Send what is queued, in order, as far as the socket and the rate allow. */
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    const waiting = [];
    while (this.queue.length) {
      const mine = this.queue.shift();
      if (!this.joined(mine.room)) {
        waiting.push(mine); // its room is not joined (yet): the others need not wait for it
        continue;
      }
      const frame = frames.publish(mine.room, mine.text, mine.ref);
      if (frameBytes(frame) > frameLimit(this.limits)) {
        this.failed(mine, "That message is too long for this server. Shorten it and try again.");
        continue;
      }
      if (!this.budget.take()) {
        this.queue.unshift(mine);
        this.timer = setTimeout(() => this.flush(), this.budget.wait());
        break;
      }
      if (!this.inflight.send(frame, { kind: "publish", record: mine })) {
        this.queue.unshift(mine);
        break;
      }
      mine.attempts = (mine.attempts ?? 0) + 1;
      mine.state = "sending";
      this.onUpdate(mine);
    }
    this.queue.unshift(...waiting);
  }

  /**
   * The connection dropped with these sent but unacknowledged: queue them again (the server
   * knows their refs, so a copy it already stored is acknowledged, not stored twice), unless
   * `refusal` says the server refused them, or they were tried too often.
   */
  requeue(records, refusal = null) {
    const again = [];
    for (const mine of records) {
      if (refusal) this.failed(mine, refusal);
      else if ((mine.attempts ?? 0) >= MAX_ATTEMPTS) {
        this.failed(mine, "The server never confirmed this message.");
      } else {
        mine.state = "queued";
        this.onUpdate(mine);
        again.push(mine);
      }
    }
    this.queue.unshift(...again);
  }

  /** The server stored our message: the record, now sent. */
  acked(mine, id) {
    Object.assign(mine, { id, state: "sent", error: null });
    return mine;
  }

  /** The server refused our message, or it cannot be sent; `words` say why. */
  failed(mine, words) {
    this.queue = this.queue.filter((m) => m !== mine);
    Object.assign(mine, { state: "failed", error: words });
    this.onUpdate(mine);
  }
}
