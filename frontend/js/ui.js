// The message list and the connection indicator. The list holds at most MAX_ITEMS messages in
// the DOM: a long session (thousands of messages) keeps typing and sending fast, and what was
// trimmed is shown again, from memory or from the server, when the reader scrolls back up.
import { el, refreshDay, renderGap, renderMessage } from "./render.js";

const $ = (id) => document.getElementById(id);
// Closer than this to the bottom counts as "reading the latest": new messages keep it in view.
const STICK_PX = 80;
// Closer than this to the top, older messages are shown.
const OLDER_PX = 120;
// Messages kept in the DOM at most; older ones are trimmed while the reader is at the bottom.
export const MAX_ITEMS = 200;
const OLDER_PAGE = 50;

export class ChatView {
  constructor() {
    this.scroller = $("messageLog");
    this.list = $("messages");
    this.input = $("messageInput");
    this.jump = $("jumpButton");
    this.older = $("olderButton");
    this.items = new Map(); // record key -> <li>
    this.records = []; // the room's records (RoomState.messages), for showing trimmed ones again
    this.me = null; // our display name, for @mentions
    this.onRetry = () => {};
    this.onDiscard = () => {};
    this.onEdit = () => {};
    this.onDelete = () => {};
    this.onOlder = async () => 0;
    this.hasOlder = () => true; // whether older messages may exist (the server may have more)
    this.loadingOlder = false;
    this.countdown = null;
    this.scroller.addEventListener("scroll", () => {
      if (this.nearBottom()) this.jump.hidden = true;
      if (this.scroller.scrollTop < OLDER_PX) this.showOlder();
    });
    this.jump.addEventListener("click", () => {
      this.scrollToBottom();
      this.input.focus();
    });
    this.older.addEventListener("click", () => this.showOlder());
    this.list.addEventListener("click", (event) => this.onClick(event));
    $("noticeClose").addEventListener("click", () => this.hideNotice());
  }

  onClick(event) {
    const target = event.target.closest("button");
    const item = target?.closest("li.message");
    if (!target || !item) return;
    const key = item.dataset.key;
    if (target.classList.contains("retry")) this.onRetry(key);
    else if (target.classList.contains("discard")) this.onDiscard(key);
    else if (target.classList.contains("edit")) this.onEdit(key, item);
    else if (target.classList.contains("delete")) this.onDelete(key, item);
    else if (target.classList.contains("fold")) {
      const folded = item.classList.toggle("collapsed");
      target.textContent = folded ? "Show more" : "Show less";
      target.setAttribute("aria-expanded", String(!folded));
    }
  }

  // Messages

  /** Show the newest of these messages (a room was switched to). */
  reset(records) {
    this.records = records;
    this.list.replaceChildren();
    this.items.clear();
    const shown = records.slice(-MAX_ITEMS);
    for (const record of shown) this.place(record, true);
    this.older.hidden = shown.length === records.length && !this.hasOlder();
    this.scrollToBottom();
  }

  /** Add one message, keeping the reader where they are unless they were at the bottom. */
  add(record, { history = false } = {}) {
    const stick = this.nearBottom();
    const item = this.place(record, history);
    if (history && this.older.hidden && this.hasOlder()) this.older.hidden = false;
    if (stick || record.mine) {
      this.trim();
      this.scrollToBottom();
    } else if (item && !history) {
      this.jump.hidden = false;
    }
  }

  update(record) {
    const item = this.items.get(record.key);
    if (!item || item.querySelector(".editor")) return;
    const fresh = this.render(record, item.previousElementSibling);
    item.replaceWith(fresh);
    refreshDay(fresh);
  }

  remove(record) {
    const item = this.items.get(record.key);
    if (!item) return;
    const next = item.nextElementSibling;
    item.remove();
    this.items.delete(record.key);
    refreshDay(next);
  }

  place(record, history) {
    if (this.items.has(record.key)) return null;
    // Live messages go last, in arrival order. Stored ones (replayed or reloaded) are slotted in
    // by id (ids grow within a room), skipping our own still without one (they are the newest).
    let before = null;
    const order = record.order ?? record.id;
    if (history && order !== null) {
      for (let node = this.list.lastElementChild; node; node = node.previousElementSibling) {
        const at = node.dataset.order ? Number(node.dataset.order) : null;
        if (at !== null && at < order) break;
        before = node;
      }
    }
    const previous = before ? before.previousElementSibling : this.list.lastElementChild;
    const item = this.render(record, previous);
    this.list.insertBefore(item, before);
    refreshDay(item);
    refreshDay(before);
    return item;
  }

  render(record, previous) {
    const item = record.kind === "gap" ? renderGap(record) : renderMessage(record, previous, this.me);
    this.items.set(record.key, item);
    return item;
  }

  /** Drop the oldest items beyond MAX_ITEMS (they stay in memory, shown again on scroll-back). */
  trim() {
    const extra = this.list.childElementCount - MAX_ITEMS;
    for (let n = 0; n < extra; n += 1) {
      const first = this.list.firstElementChild;
      this.items.delete(first.dataset.key);
      first.remove();
    }
    if (extra > 0) refreshDay(this.list.firstElementChild);
  }

  /** Show older messages above: those trimmed from the DOM first, then the server's. */
  async showOlder() {
    if (this.loadingOlder) return;
    this.loadingOlder = true;
    const height = this.scroller.scrollHeight;
    try {
      const first = this.list.querySelector("li[data-id]");
      const firstId = first ? Number(first.dataset.id) : Infinity;
      const hidden = this.records
        .filter((r) => r.id !== null && r.id < firstId && !this.items.has(r.key))
        .sort((a, b) => a.id - b.id)
        .slice(-OLDER_PAGE);
      for (const record of hidden) this.place(record, true);
      const fetched = hidden.length ? 0 : await this.onOlder(OLDER_PAGE);
      if (!hidden.length && !fetched) this.older.hidden = true;
      // Keep the reader's place: what they were reading stays where it was on screen.
      this.scroller.scrollTop += this.scroller.scrollHeight - height;
    } finally {
      this.loadingOlder = false;
    }
  }

  nearBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < STICK_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  // Room, name, connection and notices

  setRoom(room) {
    $("roomName").textContent = room;
    $("roomInput").value = room;
    this.input.placeholder = `Message #${room}`;
    this.input.setAttribute("aria-description", "Enter sends; Shift+Enter starts a new line");
  }

  setName(name) {
    const field = $("nameInput");
    // Never overwrite what the user is typing there.
    if (document.activeElement !== field) field.value = name;
  }


  /** The connection indicator: a word for everyone, a colour for a glance, a countdown. */
  setStatus(state, { until, reason } = {}) {
    const box = $("status");
    box.dataset.state = state;
    clearInterval(this.countdown);
    let words = "Connected";
    if (state === "connecting") words = "Connecting…";
    if (state === "reconnecting") words = `Reconnecting…${reason ? ` ${reason}` : ""}`;
    // Said once (the box is a live region); the countdown ticks beside it, not announced.
    $("statusText").textContent = words;
    const clock = $("countdown");
    const tick = () => {
      const seconds = Math.max(0, Math.ceil(((until ?? Date.now()) - Date.now()) / 1000));
      clock.textContent = `Next try in ${seconds} s`;
    };
    clock.hidden = state !== "reconnecting";
    if (state === "reconnecting") {
      tick();
      this.countdown = setInterval(tick, 1000);
    }
    $("retryButton").hidden = state !== "reconnecting";
    document.body.classList.toggle("offline", state !== "open");
  }

  showNotice(text) {
    $("noticeText").textContent = text;
    $("notice").hidden = false;
  }

  hideNotice() {
    $("notice").hidden = true;
  }
}

export { el };
