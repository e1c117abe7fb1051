// What the page remembers between visits (name, rooms, draft, the client-session secret) and
// where it starts. Storage can be disabled (privacy modes, file://): the chat works without it.
import { DEFAULT_ROOM, SESSION_PATTERN, newSessionSecret, validName, validRoom } from "./protocol.js";

export const KEYS = {
  name: "desafio.name",
  room: "desafio.room",
  rooms: "desafio.rooms",
  draft: "desafio.draft",
  session: "desafio.session",
};

export const store = {
  get(area, key) {
    try {
      return window[area].getItem(key);
    } catch {
      return null;
    }
  },
  set(area, key, value) {
    try {
      if (value) window[area].setItem(key, value);
      else window[area].removeItem(key);
    } catch {
      /* nothing to remember with */
    }
  },
};

export function initialRoom() {
  const fromUrl = new URLSearchParams(location.search).get("room");
  if (fromUrl && validRoom(fromUrl)) return fromUrl;
  const saved = store.get("localStorage", KEYS.room);
  return saved && validRoom(saved) ? saved : DEFAULT_ROOM;
}

export function initialName() {
  const saved = store.get("localStorage", KEYS.name);
  return saved && validName(saved) ? saved : null;
}

export function initialRooms() {
  const saved = (store.get("localStorage", KEYS.rooms) ?? "").split(",");
  return saved.filter(validRoom).slice(0, 32);
}

/** This browser's client-session secret: a guest keeps its identity (and refs) across reloads. */
export function sessionSecret() {
  const saved = store.get("localStorage", KEYS.session);
  if (saved && SESSION_PATTERN.test(saved)) return saved;
  const fresh = newSessionSecret();
  store.set("localStorage", KEYS.session, fresh);
  return fresh;
}

/** Keep ?room= in the address bar, so the URL can be shared to bring someone into the room. */
export function showRoomInUrl(room) {
  if (!location.protocol.startsWith("http")) return;
  const url = new URL(location.href);
  url.searchParams.set("room", room);
  history.replaceState(null, "", url);
}
