// What the page knows of one room: its messages, which ids it holds, and where a subscribe
// resumes. Pure state, no DOM and no socket.

/**
 * A message as the page knows it. `state` is one of:
 *  received  — someone else's message;  queued — ours, waiting for a connection;
 *  sending   — ours, sent, no ack yet;  sent   — ours, acknowledged (it has an id);
 *  failed    — ours, refused by the server (`error` says why, in plain words).
 * A record with `kind: "gap"` is not a message: it marks where history could not be recovered.
 */
export function record(fields) {
  return { id: null, data: null, error: null, ...fields };
}

export class RoomState {
  constructor() {
    this.messages = [];
    this.byId = new Map();
    // Highest id among messages the server delivered (not acks: in a cluster an ack may overtake
    // someone else's earlier message, and resuming after it would skip that one).
    this.lastId = null;
    // Subscribed at least once: from then on a subscribe asks for what was missed (`since`),
    // not for the latest history, so nothing between two connections is lost.
    this.synced = false;
    // While the replay after a subscribe arrives: "history" (first join) or "since" (recovery).
    this.catchingUp = null;
    this.members = new Map(); // name -> how many connections use it
    this.count = 0;
    this.gaps = 0;
  }

  /** What to ask for when subscribing to this room now. */
  subscribeOptions(historySize) {
    return this.synced ? { since: this.lastId ?? 0 } : { history: historySize };
  }

  /**
   * Note a delivered message's id. Over the socket ids arrive in order, so the latest is the
   * resume point even if a server whose database was replaced counts from 1 again; stored
   * messages fetched over HTTP only ever move it forward.
   */
  saw(id, inOrder) {
    if (inOrder || this.lastId === null || id > this.lastId) this.lastId = id;
  }

  /**
   * Whether `obj` repeats a message we hold (replay overlapping what we had, our own message
   * coming back). The same id with other content is a different message: ids restart when the
   * server's database is replaced, and showing a message twice beats hiding a new one.
   */
  knows(obj) {
    const known = this.byId.get(obj.id);
    return Boolean(known && known.sender === obj.sender && known.text === obj.text);
  }

  add(message) {
    if (message.id !== null) this.byId.set(message.id, message);
    this.messages.push(message);
  }

  /** A divider after message `afterId`: what followed it could not all be recovered. */
  gap(room, afterId) {
    this.gaps += 1;
    const divider = record({
      key: `gap:${room}:${this.gaps}`,
      kind: "gap",
      room,
      // Sorts between afterId and the next id, so reloaded messages land after it.
      order: afterId + 0.5,
      sender: "",
      text: "Some messages could not be recovered.",
    });
    this.messages.push(divider);
    return divider;
  }
}
