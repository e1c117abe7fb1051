// The JSON wire protocol as the browser sees it (docs/protocol.md): addresses, frames to send,
// how to read what arrives, and what the server's codes mean in plain words. Pure functions only,
// so the rest of the client never builds a frame or parses one by hand.

// Same rules as the server (backend/protocol.py, backend/routes/ws.py): checking them here lets the
// page explain a bad name before the handshake is refused with a bare, wordless close.
export const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const NAME_PATTERN = /^[^\u0000-\u001f\u007f]{1,32}$/u;
// The server's default MAX_MESSAGE_BYTES, until its `welcome` says what it really takes (a
// bigger frame makes it close the connection with 1009).
export const MAX_FRAME_BYTES = 64 * 1024;
export const DEFAULT_ROOM = "lobby";
// Opened from disk there is no origin to talk to: assume the backend runs locally on its port.
const DISK_FALLBACK = { http: "http://localhost:8765", ws: "ws://localhost:8765" };

/** The HTTP origin of the backend: the page's own, or the local default when opened from disk. */
export function httpBase(loc = window.location) {
  return loc.protocol.startsWith("http") ? loc.origin : DISK_FALLBACK.http;
}

/**
 * The WebSocket address in JSON mode, carrying the display name when there is one and the
 * tab's client-session secret (a guest with the same secret is the same guest: its refs, and so
 * its unacknowledged messages, survive reconnects and reloads).
 */
export function socketUrl(name, session = null, loc = window.location) {
  const base = loc.protocol.startsWith("http")
    ? `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}`
    : DISK_FALLBACK.ws;
  const query = new URLSearchParams({ format: "json" });
  if (name) query.set("name", name);
  if (session) query.set("session", session);
  return `${base}/ws?${query}`;
}

/** A new client-session secret: 32 url-safe characters from 24 random bytes. */
export function newSessionSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

export const SESSION_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

let refCounter = 0;
// Tabs of one browser share its client-session secret, so they are one sender: a random part
// per tab keeps their refs apart (a ref the server knows is answered, not published again).
const TAB = Math.random().toString(36).slice(2, 8);
/** A ref for a frame that needs an answer: unique per tab and sender, across reloads too. */
export const newRef = (prefix = "c") =>
  `${prefix}${TAB}.${Date.now().toString(36)}.${(refCounter++).toString(36)}`;

/** The address of a room's stored messages (the persistence API). */
export function historyUrl(room, { limit, after, before } = {}, loc = window.location) {
  const query = new URLSearchParams();
  if (limit != null) query.set("limit", String(limit));
  if (after != null) query.set("after", String(after));
  if (before != null) query.set("before", String(before));
  return `${httpBase(loc)}/rooms/${encodeURIComponent(room)}/messages?${query}`;
}

/**
 * The server objects in one frame. The server batches: a frame may hold several JSON objects
 * separated by "\n", so a frame is never parsed as a single object.
 */
export function parseFrame(data) {
  if (typeof data !== "string") return [];
  const objects = [];
  for (const line of data.split("\n")) {
    if (!line.trim()) continue;
    try {
      const obj = JSON.parse(line);
      if (obj && typeof obj === "object" && typeof obj.type === "string") objects.push(obj);
    } catch {
      // One unreadable line must not take the rest of the frame down with it.
      console.warn("ignored a line that is not JSON:", line.slice(0, 80));
    }
  }
  return objects;
}

// Every frame that needs an answer carries a `ref`, and answers are matched by it, never by order.
export const frames = {
  // `since` + `epoch`: replay everything after that id of that log (recovery); `history`: the
  // last N first (joining).
  subscribe: (room, { since, epoch, history } = {}, ref = undefined) => ({
    type: "subscribe",
    room,
    ...(since != null ? { since } : {}),
    ...(since != null && epoch ? { epoch } : {}),
    ...(history ? { history } : {}),
    ...(ref ? { ref } : {}),
  }),
  unsubscribe: (room, ref = undefined) => ({ type: "unsubscribe", room, ...(ref ? { ref } : {}) }),
  publish: (room, text, ref) => ({ type: "publish", room, text, ref }),
  edit: (room, id, text, ref) => ({ type: "edit", room, id, text, ref }),
  delete: (room, id, ref) => ({ type: "delete", room, id, ref }),
  typing: (room) => ({ type: "typing", room }),
  ping: () => ({ type: "ping" }),
};

/** Bytes of a frame once encoded, as the server counts them (UTF-8). */
export function frameBytes(frame) {
  return new TextEncoder().encode(JSON.stringify(frame)).length;
}

export function validName(name) {
  return NAME_PATTERN.test(name);
}

export function validRoom(room) {
  return ROOM_PATTERN.test(room);
}

const ERROR_WORDS = {
  rate_limited:
    "You are sending messages too fast, so that one was not delivered. Wait a moment and try again.",
  invalid_room:
    "That room name is not allowed. Use 1 to 64 letters, digits, dots, dashes or underscores.",
  too_many_rooms: "You are in too many rooms at once. Leave one before joining another.",
  not_subscribed: "You are not in that room any more.",
  message_too_big: "That message is too long to send. Please shorten it.",
  invalid_json: "The server could not read what this page sent. Reloading the page may help.",
  invalid_frame: "The server could not read what this page sent. Reloading the page may help.",
  unknown_type: "The server did not understand a request from this page. Try reloading it.",
  forbidden: "You are not allowed to do that here.",
  not_found: "That message no longer exists.",
  quota_exceeded: "You have sent too much for now. Wait a while and try again.",
  storage_failed: "The server could not store that message. Try again.",
  outcome_unknown: "The server could not tell whether that was saved. Try again.",
  invalid_data: "The server cannot store that message.",
  ref_reused: "This page sent two different requests under one reference. Reloading the page may help.",
  unavailable: "The server is restarting. Try again in a moment.",
};

// Why a recovery after a reconnect could not be exact (`subscribed` with `recovered: false`).
const RECOVERY_WORDS = {
  purged: "older messages were deleted by the server",
  too_far_behind: "too much happened while you were away",
  unknown_offset: "the server's history was reset",
  epoch_changed: "the server's history was replaced",
  storage_unavailable: "the server's history is unavailable right now",
};

/** Why some messages could not be recovered, in plain words. */
export function describeRecovery(reason) {
  const why = RECOVERY_WORDS[reason] ?? "the server could not replay them";
  return `Some messages could not be recovered: ${why}. The latest messages were reloaded.`;
}

/** An `error` object from the server, said so that anyone understands it. */
export function describeError(code, detail) {
  if (code in ERROR_WORDS) return ERROR_WORDS[code];
  if (code === "invalid_field") return `The server refused that message (${detail}).`;
  return detail ? `Something went wrong: ${detail}` : "Something went wrong.";
}

/** Why the connection closed, in plain words; null when there is nothing worth telling. */
export function describeClose(code) {
  switch (code) {
    case 1001:
      return "The server is restarting.";
    case 1008:
      return "The server disconnected you for sending too much too quickly.";
    case 1009:
      return "That message was too long for the server, so it dropped the connection.";
    case 4000:
      return "The connection was too slow to keep up.";
    default:
      return null;
  }
}
