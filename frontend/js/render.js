// One message as DOM. Text from the network only ever enters the DOM as text nodes and as the
// `href` of links checked to be http(s) (never innerHTML), so a message that looks like HTML is
// displayed, not run, and a `javascript:` address never becomes a link.

// Messages from the same person this close together read as one block, like in any chat app.
const GROUP_MS = 5 * 60 * 1000;
const HUES = 8;
// Longer than this (characters or lines), a message is shown folded, with "Show more".
const LONG_CHARS = 1200;
const LONG_LINES = 16;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric", year: "numeric" });

const STATE_WORDS = {
  queued: "Waiting for connection…",
  sending: "Sending…",
  sent: "Sent",
  failed: "Not delivered",
};

// Web addresses and @mentions inside a message's text.
// (A mention does not end with a dot: "@Ana." at the end of a sentence mentions Ana.)
const TOKENS = /(https?:\/\/[^\s<>"']+)|(@[\p{L}\p{N}_.-]*[\p{L}\p{N}_-])/giu;

/** A stable colour class per sender, so people are recognisable at a glance (no inline styles). */
export function hueClass(key) {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return `hue-${hash % HUES}`;
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function button(className, label, extra = {}) {
  const node = el("button", className, label);
  node.type = "button";
  for (const [name, value] of Object.entries(extra)) node.setAttribute(name, value);
  return node;
}

/** The local calendar day of an ISO timestamp, as "YYYY-MM-DD" (for grouping), or "". */
export function dayKey(ts) {
  const when = new Date(ts);
  if (Number.isNaN(when.getTime())) return "";
  return `${when.getFullYear()}-${when.getMonth() + 1}-${when.getDate()}`;
}

/** "Today", "Yesterday" or the full date of a day. */
export function dayLabel(ts, now = new Date()) {
  const when = new Date(ts);
  const today = dayKey(now.toISOString());
  if (dayKey(ts) === today) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (dayKey(ts) === dayKey(yesterday.toISOString())) return "Yesterday";
  return dayFormat.format(when);
}

/** A safe link for `raw`, or null when it is not an http(s) address. */
function link(raw) {
  // Punctuation closing a sentence is not part of the address.
  const trimmed = raw.replace(/[.,;:!?)\]]+$/, "");
  let url;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const anchor = el("a", "link", trimmed);
  anchor.href = url.href;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer nofollow ugc";
  return { node: anchor, rest: raw.slice(trimmed.length) };
}

/** The text of a message with its links and @mentions; whether it mentions `me`. */
export function richText(text, me) {
  const fragment = document.createDocumentFragment();
  const mine = me ? `@${me.toLowerCase()}` : null;
  let mentioned = false;
  let at = 0;
  for (const match of text.matchAll(TOKENS)) {
    fragment.append(text.slice(at, match.index));
    at = match.index + match[0].length;
    if (match[1]) {
      const made = link(match[1]);
      if (made) fragment.append(made.node, made.rest);
      else fragment.append(match[1]);
    } else {
      const isMe = mine !== null && match[2].toLowerCase() === mine;
      mentioned ||= isMe;
      fragment.append(el("span", isMe ? "mention me" : "mention", match[2]));
    }
  }
  fragment.append(text.slice(at));
  return { fragment, mentioned };
}

/** Whether a message reads as the continuation of the message shown before it. */
function continues(record, previous) {
  return Boolean(
    previous &&
      previous.classList.contains("message") &&
      previous.dataset.senderId === (record.senderId ?? "") &&
      previous.dataset.sender === record.sender &&
      dayKey(record.ts) === previous.dataset.day &&
      Math.abs(Date.parse(record.ts) - Date.parse(previous.dataset.ts)) < GROUP_MS,
  );
}

/** The <li> of one message; `me` is our display name (for mentions). */
export function renderMessage(record, previous, me) {
  const item = el("li", `message ${hueClass(record.senderId ?? record.sender)}`);
  if (record.mine) item.classList.add("mine");
  if (record.guest) item.classList.add("guest");
  item.dataset.key = record.key;
  item.dataset.state = record.state;
  if (record.id !== null) item.dataset.id = item.dataset.order = String(record.id);
  item.dataset.sender = record.sender;
  item.dataset.senderId = record.senderId ?? "";
  item.dataset.ts = record.ts || "";
  item.dataset.day = dayKey(record.ts);
  if (continues(record, previous)) item.classList.add("continued");

  const meta = el("div", "meta");
  meta.append(el("span", "sender", record.mine ? "You" : record.sender));
  if (record.guest && !record.mine) {
    const tag = el("span", "guest-tag", "guest");
    tag.title = "Not a registered user: anyone can pick this name";
    meta.append(tag);
  }
  const when = new Date(record.ts);
  if (!Number.isNaN(when.getTime())) {
    const time = el("time", "time", timeFormat.format(when));
    time.dateTime = record.ts;
    time.title = fullFormat.format(when);
    meta.append(time);
  }
  if (record.editedAt && !record.deleted) meta.append(el("span", "edited", "(edited)"));
  item.append(meta);

  if (record.deleted) {
    item.classList.add("deleted");
    item.append(el("p", "text", "This message was deleted."));
  } else {
    const body = el("p", "text");
    const { fragment, mentioned } = richText(record.text, me);
    body.append(fragment);
    if (mentioned && !record.mine) item.classList.add("mentions-me");
    item.append(body);
    const lines = record.text.split("\n").length;
    if (record.text.length > LONG_CHARS || lines > LONG_LINES) {
      item.classList.add("long", "collapsed");
      body.id = `text-${record.key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
      item.append(button("fold link-button", "Show more", { "aria-expanded": "false", "aria-controls": body.id }));
    }
  }

  if (record.mine && record.state !== "sent") {
    const status = el("div", "delivery");
    status.append(el("span", "state", STATE_WORDS[record.state] ?? ""));
    if (record.state === "failed") {
      if (record.error) status.append(el("span", "why", record.error));
      status.append(button("retry link-button", "Retry"), button("discard link-button", "Delete"));
    }
    item.append(status);
  } else if (record.mine) {
    meta.append(el("span", "state sent visually-hidden", "Sent"));
    if (!record.deleted && record.id !== null) {
      const actions = el("div", "actions");
      actions.append(
        button("edit link-button", "Edit", { "aria-label": "Edit message" }),
        button("delete link-button", "Delete", { "aria-label": "Delete message" }),
      );
      item.append(actions);
    }
  }
  return item;
}

/** A divider where messages are missing (the server could not replay them all). */
export function renderGap(record) {
  const item = el("li", "gap", record.text);
  item.setAttribute("role", "separator");
  item.setAttribute("aria-label", record.text);
  item.dataset.key = record.key;
  if (record.order != null) item.dataset.order = String(record.order);
  return item;
}

/** Show or hide the day heading of `item`: only the first message of a day shows one. */
export function refreshDay(item) {
  if (!item || !item.classList.contains("message")) return;
  let previous = item.previousElementSibling;
  while (previous && !previous.classList.contains("message")) previous = previous.previousElementSibling;
  const first = !previous || previous.dataset.day !== item.dataset.day;
  const heading = item.querySelector(":scope > .day");
  if (first && !heading && item.dataset.ts) {
    const label = dayLabel(item.dataset.ts);
    const divider = el("div", "day");
    divider.setAttribute("role", "separator");
    divider.setAttribute("aria-label", label);
    divider.append(el("span", null, label));
    item.prepend(divider);
    item.classList.remove("continued");
  } else if (!first && heading) {
    heading.remove();
  }
}
