// Every frame sent and not answered yet, oldest first. The server answers every frame exactly
// once, in order (ack/subscribed/unsubscribed/pong or error), so keeping what we sent in order
// lets an error without a `ref` (rate_limited) be tied to the frame it refused.

export class InFlight {
  constructor(socket) {
    this.socket = socket;
    this.entries = [];
  }

  /** Send `frame` and remember `entry` for its answer; false (nothing sent) when offline. */
  send(frame, entry) {
    if (!this.socket.send(frame)) return false;
    this.entries.push(entry);
    return true;
  }

  /** Take the first entry `match` accepts, or null when none does. */
  settle(match) {
    const index = this.entries.findIndex(match);
    return index === -1 ? null : this.entries.splice(index, 1)[0];
  }

  /** Take the oldest entry (what an answer without a `ref` refers to), or null. */
  oldest() {
    return this.entries.shift() ?? null;
  }

  /** Our records whose publish was sent but never acknowledged. */
  unconfirmed() {
    return this.entries.filter((entry) => entry.kind === "publish").map((entry) => entry.record);
  }

  /** A new connection answers nothing sent over the old one. */
  clear() {
    this.entries = [];
  }
}
