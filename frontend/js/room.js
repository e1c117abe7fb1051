// What the page knows of one room: its messages, which ids it holds, who is there, and where a
// subscribe resumes. Pure state, no DOM and no socket.

/**
 * A message as the page knows it. `state` is one of:
 *  received  — someone else's message;  queued — ours, waiting for a connection;
 *  sending   — ours, sent, no ack yet;  sent   — ours, acknowledged (it has an id);
 *  failed    — ours, not sent or refused (`error` says why, in plain words): Retry or Delete.
 * `mine` is decided by sender id (the server's `welcome.you.id`), never by a name.
 * A record with `kind: "gap"` is not a message: it marks where history could not be recovered.
 */
export function record(fields) {
  return {
    id: null,
    data: null,
    error: null,
    senderId: null,
    guest: false,
    editedAt: null,
    deleted: false,
    ...fields,
  };
}

// Messages of a room kept in memory at most (the DOM holds far fewer: see ui.js).
export const KEPT = 2000;

export class RoomState {
  constructor() {
    this.messages = [];
    this.byId = new Map();
    // Highest log id the server delivered (messages and amendments; not acks: in a cluster an
    // ack may overtake someone else's earlier message, and resuming after it would skip it).
    this.lastId = null;
    // Names the room's log (from `subscribed`); sent back with `since`, so that ids of another
    // log (a database reset) are refused instead of resumed from.
    this.epoch = null;
    this.askedEpoch = false;
    // Subscribed at least once: from then on a subscribe asks for what was missed (`since`),
    // not for the latest history, so nothing between two connections is lost.
    this.synced = false;
    this.joined = false;
    // While the replay after a subscribe arrives: "history" (first join) or "since" (recovery).
    this.catchingUp = null;
    this.members = new Map(); // sender id -> {id, name, guest, connections}
    this.me = null; // our own sender id: this connection is one of its connections while joined
    // Presence heard after our subscribe reached the server but before its answer: it happened
    // after the roster that answer lists was taken, so it is applied on top of it (onSubscribed).
    this.early = [];
    this.count = 0;
    this.gaps = 0;
    this.unread = 0;
    this.mentions = 0;
    // Whether the server has messages older than the oldest we hold (false once it said none).
    this.olderAvailable = true;
  }

  /** What to ask for when subscribing to this room now. */
  subscribeOptions(historySize) {
    return this.synced ? { since: this.lastId ?? 0, epoch: this.epoch } : { history: historySize };
  }

  /**
   * Note a delivered log id. Over the socket ids arrive in order, so the latest is the resume
   * point; stored messages fetched over HTTP only ever move it forward.
   */
  saw(id, inOrder) {
    if (inOrder || this.lastId === null || id > this.lastId) this.lastId = id;
  }

  /** The ids the server gave out here no longer mean what they did (another log). */
  forgetIds() {
    this.byId.clear();
    this.lastId = null;
  }

  /**
   * Whether `obj` repeats a message we hold (replay overlapping, our own coming back). An id
   * names one message within a log (another log's ids are forgotten: see forgetIds); the same
   * id from another sender is a different message, and showing both beats hiding a new one.
   */
  knows(obj) {
    const known = this.byId.get(obj.id);
    return Boolean(known && known.senderId === (obj.sender_id ?? null));
  }

  add(message) {
    if (message.id !== null) this.byId.set(message.id, message);
    this.messages.push(message);
    if (this.messages.length > KEPT + KEPT / 10) this.forgetOldest();
  }

  /**
   * Keep at most KEPT messages in memory: the oldest delivered ones are dropped (ours still on
   * their way never are), and come back from the server when the reader scrolls that far.
   */
  forgetOldest() {
    const delivered = this.messages.filter((m) => m.id !== null).sort((a, b) => a.id - b.id);
    const drop = new Set(delivered.slice(0, this.messages.length - KEPT));
    for (const message of drop) if (this.byId.get(message.id) === message) this.byId.delete(message.id);
    // In place: the view holds this very array.
    const kept = this.messages.filter((m) => !drop.has(m));
    this.messages.splice(0, this.messages.length, ...kept);
    this.olderAvailable = true;
  }

  remove(message) {
    const at = this.messages.indexOf(message);
    if (at !== -1) this.messages.splice(at, 1);
    if (message.id !== null && this.byId.get(message.id) === message) this.byId.delete(message.id);
  }

  /** The oldest message id we hold, or null. */
  oldestId() {
    let oldest = null;
    for (const id of this.byId.keys()) if (oldest === null || id < oldest) oldest = id;
    return oldest;
  }

  /**
   * Who is here as a `subscribed` lists them: ourselves (this connection, which the roster
   * leaves out) and `roster`, one entry per connection (another tab of ours among them).
   */
  seat(me, roster) {
    this.me = me?.id ?? null;
    this.members.clear();
    if (me) this.join({ id: me.id, name: me.name, guest: me.guest });
    for (const entry of roster) this.join(entry);
  }

  /** Someone (by id) joined: one more connection of theirs. */
  join(entry) {
    const known = this.members.get(entry.id);
    if (known) known.connections += 1;
    else this.members.set(entry.id, { ...entry, connections: 1 });
  }

  /**
   * One of their connections left; gone when it was the last. Never ourselves: while we are in
   * the room this connection is one of ours, so another of ours leaving (a tab, the page before
   * a reload) that was not counted must not take us off our own list.
   */
  leave(id) {
    const known = this.members.get(id);
    if (!known) return;
    if (id === this.me && known.connections <= 1) return;
    known.connections -= 1;
    if (known.connections <= 0) this.members.delete(id);
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
