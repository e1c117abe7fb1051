// Every frame sent and not answered yet. Answers are matched by the `ref` the frame carried and
// the server echoes (ack, subscribed, unsubscribed, error), never by order: an error about a
// later frame may overtake an earlier publish's ack. Pings carry no ref; their pongs come back
// in the order the pings went, so they are matched among pings only.

export class InFlight {
  constructor(socket) {
    this.socket = socket;
    this.byRef = new Map(); // ref -> entry
    this.pings = []; // entries of pings sent, oldest first
  }

  /** Send `frame` and remember `entry` for its answer; false (nothing sent) when offline. */
  send(frame, entry) {
    if (!this.socket.send(frame)) return false;
    if (frame.ref) this.byRef.set(frame.ref, { ...entry, ref: frame.ref });
    else if (frame.type === "ping") this.pings.push(entry);
    return true;
  }

  /** Take the entry answered by `ref`, or null when nothing sent is waiting for it. */
  settle(ref) {
    if (!ref) return null;
    const entry = this.byRef.get(ref) ?? null;
    this.byRef.delete(ref);
    return entry;
  }

  /** Take the oldest ping's entry (a pong answers it). */
  pong() {
    return this.pings.shift() ?? null;
  }

  /** Our records whose publish was sent but never acknowledged. */
  unconfirmed() {
    return [...this.byRef.values()].filter((e) => e.kind === "publish").map((e) => e.record);
  }

  /** A new connection answers nothing sent over the old one. */
  clear() {
    this.byRef.clear();
    this.pings = [];
  }
}
