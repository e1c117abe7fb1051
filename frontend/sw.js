// The service worker: shows Web Push notifications (docs/push.md) while no tab is open, and
// brings the person to the room when they click one. It caches nothing: the chat is live or
// nothing. Served from /client/, so its scope is the client.

const CLIENT = new URL("./", self.location.href);

function roomUrl(room) {
  const url = new URL(CLIENT);
  if (room) url.searchParams.set("room", room);
  return url.href;
}

function readPush(data) {
  try {
    const message = data ? data.json() : null;
    return message && typeof message.room === "string" ? message : null;
  } catch {
    return null; // not ours, or not JSON: nothing to show
  }
}

/** Show one pushed message; resolves when the notification is up. */
function showPush(message) {
  if (!message) return Promise.resolve();
  const name = typeof message.sender === "string" ? message.sender : "Someone";
  // A guest picks its own name (any one no account holds): say so, as the message list's guest
  // tag does, rather than let the name alone vouch for who wrote.
  const sender = message.guest === true ? `${name} (guest)` : name;
  return self.registration.showNotification(`${sender} in #${message.room}`, {
    // Without a preview (PUSH_PREVIEW=false) the text stays on the server.
    body: typeof message.text === "string" ? message.text : "New message",
    // One notification per room, replaced by the next, as in the tab (notifications.js).
    tag: `desafio-${message.room}`,
    renotify: true,
    icon: new URL("favicon.svg", CLIENT).href,
    data: { room: message.room, id: message.id, url: roomUrl(message.room) },
  });
}

function onPush(event) {
  event.waitUntil(showPush(readPush(event.data)));
}

/** Focus a tab already in that room, or open the client there (its history fills in). */
async function openRoom(data) {
  const url = (data && data.url) || roomUrl(null);
  const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const there = tabs.find((tab) => tab.url === url);
  if (there) return there.focus();
  return self.clients.openWindow(url);
}

function onClick(event) {
  event.notification.close();
  event.waitUntil(openRoom(event.notification.data));
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("push", onPush);
self.addEventListener("notificationclick", onClick);
// For tests and the console: the handlers, callable with a synthetic event.
self.desafioPush = { onPush, onClick, showPush, roomUrl };
