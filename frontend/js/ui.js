// Everything the page shows. Text from the network only ever enters the DOM as `textContent`
// (never innerHTML), so a message that looks like HTML is displayed, not run.

const $ = (id) => document.getElementById(id);
// Closer than this to the bottom counts as "reading the latest": new messages keep it in view.
const STICK_PX = 80;
// Messages from the same person this close together read as one block, like in any chat app.
const GROUP_MS = 5 * 60 * 1000;
const HUES = 8;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A stable colour class per name, so people are recognisable at a glance (no inline styles). */
export function hueClass(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return `hue-${hash % HUES}`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

const STATE_WORDS = {
  queued: "Waiting for connection…",
  sending: "Sending…",
  sent: "Sent",
  failed: "Not delivered",
};

export class ChatView {
  constructor() {
    this.list = $("messages");
    this.input = $("messageInput");
    this.jump = $("jumpButton");
    this.items = new Map(); // record key -> <li>
    this.onRetry = () => {};
    this.list.addEventListener("scroll", () => {
      if (this.nearBottom()) this.jump.hidden = true;
    });
    this.jump.addEventListener("click", () => {
      this.scrollToBottom();
      this.input.focus();
    });
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button.retry");
      if (button) this.onRetry(button.closest("li").dataset.key);
    });
    $("noticeClose").addEventListener("click", () => this.hideNotice());
  }

  // Messages

  /** Show exactly these messages (a room was switched to). */
  reset(records) {
    this.list.replaceChildren();
    this.items.clear();
    // Kept in arrival order, which a reload can break: slot each by id as when it came.
    for (const record of records) this.place(record, true);
    this.scrollToBottom();
  }

  /** Add one message, keeping the reader where they are unless they were at the bottom. */
  add(record, { history = false } = {}) {
    const stick = this.nearBottom();
    this.place(record, history);
    if (stick || record.mine) this.scrollToBottom();
    else this.jump.hidden = false;
  }

  update(record) {
    const item = this.items.get(record.key);
    if (!item) return;
    item.replaceWith(this.render(record, item.previousElementSibling));
  }

  place(record, history) {
    if (this.items.has(record.key)) return;
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
    this.list.insertBefore(this.render(record, previous), before);
  }

  render(record, previous) {
    if (record.kind === "gap") return this.renderGap(record);
    const item = el("li", `message ${hueClass(record.sender)}`);
    if (record.mine) item.classList.add("mine");
    item.dataset.key = record.key;
    item.dataset.state = record.state;
    if (record.id !== null) item.dataset.id = item.dataset.order = String(record.id);
    item.dataset.sender = record.sender;
    item.dataset.ts = record.ts || "";
    if (
      previous &&
      previous.dataset.sender === record.sender &&
      Math.abs(Date.parse(record.ts) - Date.parse(previous.dataset.ts)) < GROUP_MS
    ) {
      item.classList.add("continued");
    }

    const meta = el("div", "meta");
    meta.append(el("span", "sender", record.mine ? "You" : record.sender));
    const when = new Date(record.ts);
    if (!Number.isNaN(when.getTime())) {
      const time = el("time", "time", timeFormat.format(when));
      time.dateTime = record.ts;
      time.title = fullFormat.format(when);
      meta.append(time);
    }
    item.append(meta, el("p", "text", record.text));
    if (record.mine && record.state !== "sent") {
      const status = el("div", "delivery");
      status.append(el("span", "state", STATE_WORDS[record.state] ?? ""));
      if (record.state === "failed") {
        if (record.error) status.title = record.error;
        status.append(el("button", "retry link-button", "Retry"));
        status.lastChild.type = "button";
      }
      item.append(status);
    } else if (record.mine) {
      const sent = el("span", "state sent visually-hidden", "Sent");
      meta.append(sent);
    }
    this.items.set(record.key, item);
    return item;
  }

  /** A divider where messages are missing (the server could not replay them all). */
  renderGap(record) {
    const item = el("li", "gap", record.text);
    item.setAttribute("role", "separator");
    item.dataset.key = record.key;
    item.dataset.order = String(record.order);
    this.items.set(record.key, item);
    return item;
  }

  nearBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.list;
    return scrollHeight - scrollTop - clientHeight < STICK_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
    this.jump.hidden = true;
  }

  // Room, people, connection

  setRoom(room) {
    $("roomName").textContent = room;
    $("roomInput").value = room;
    this.input.placeholder = `Message #${room}`;
  }

  setName(name) {
    const field = $("nameInput");
    // Never overwrite what the user is typing there.
    if (document.activeElement !== field) field.value = name;
  }

  setMembers(names, count, me) {
    const list = $("members");
    list.replaceChildren(
      ...names.map((name) => {
        const item = el("li", `member ${hueClass(name)}`);
        item.append(el("span", "avatar", [...name][0]?.toUpperCase() ?? "?"));
        item.append(el("span", "member-name", name));
        if (name === me) item.append(el("span", "you", "you"));
        return item;
      }),
    );
    $("onlineCount").textContent = String(Math.max(count, names.length));
  }

  /** The connection indicator: a word for everyone, a colour for a glance. */
  setStatus(state, { delay, reason } = {}) {
    const box = $("status");
    box.dataset.state = state;
    let words = "Connected";
    if (state === "connecting") words = "Connecting…";
    if (state === "reconnecting") {
      const seconds = Math.max(1, Math.round((delay || 0) / 1000));
      words = `Reconnecting in ${seconds} s…${reason ? ` ${reason}` : ""}`;
    }
    $("statusText").textContent = words;
    $("retryButton").hidden = state !== "reconnecting";
  }

  showNotice(text) {
    $("noticeText").textContent = text;
    $("notice").hidden = false;
  }

  hideNotice() {
    $("notice").hidden = true;
  }
}
