// Web Push (docs/push.md): a notification even when no tab is open. The service worker is
// registered on load (no prompt); permission is asked only from a click on the button, which
// subscribes this browser with the server's VAPID key and follows (or unfollows) the room.
import { httpBase } from "./protocol.js";

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export class Push {
  constructor({ auth, button, login, fetcher = (url, init) => fetch(url, init) }) {
    this.auth = auth;
    this.button = button;
    this.login = login;
    this.fetcher = fetcher;
    this.room = "";
    this.following = new Set();
    this.config = { enabled: false, public_key: null };
    this.registration = null;
    button?.addEventListener("click", () => this.toggle());
  }

  get supported() {
    return "serviceWorker" in navigator && "PushManager" in window && window.isSecureContext;
  }

  async start() {
    try {
      const response = await this.fetcher(`${httpBase()}/push/config`);
      if (response.ok) this.config = await response.json();
    } catch {
      /* an older server: no push */
    }
    if (!this.config.enabled || !this.supported) return;
    try {
      this.registration = await navigator.serviceWorker.register("sw.js");
    } catch (error) {
      console.warn("service worker not registered:", error);
      return;
    }
    if (this.button) this.button.hidden = false;
    await this.refresh();
  }

  setRoom(room) {
    this.room = room;
    this.render();
  }

  async api(method, path, body) {
    const headers = { ...this.auth.headers() };
    if (body) headers["Content-Type"] = "application/json";
    const init = { method, headers, body: body ? JSON.stringify(body) : undefined };
    return this.fetcher(`${httpBase()}/push${path}`, init);
  }

  async refresh() {
    if (!this.auth.token) return this.render();
    const response = await this.api("GET", "/follows").catch(() => null);
    if (response && response.ok) this.following = new Set((await response.json()).rooms);
    this.render();
  }

  /** The button's click: follow the room (subscribing first if needed), or stop following. */
  async toggle() {
    if (!this.registration) return;
    if (!this.auth.token) await this.login();
    const room = this.room;
    if (this.following.has(room)) {
      await this.api("DELETE", `/follows/${encodeURIComponent(room)}`);
      this.following.delete(room);
      return this.render();
    }
    if ((await Notification.requestPermission()) !== "granted") return this.render();
    try {
      const manager = this.registration.pushManager;
      const subscription = (await manager.getSubscription()) ?? (await manager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(this.config.public_key),
      }));
      const saved = await this.api("POST", "/subscriptions", subscription.toJSON());
      if (!saved.ok) throw new Error(`subscription refused (${saved.status})`);
      const followed = await this.api("PUT", `/follows/${encodeURIComponent(room)}`);
      if (followed.ok) this.following.add(room);
    } catch (error) {
      console.warn("push subscription failed:", error);
    }
    this.render();
  }

  render() {
    if (!this.button) return;
    const on = this.following.has(this.room);
    this.button.setAttribute("aria-pressed", String(on));
    this.button.querySelector(".notify-label").textContent = on ? "Following" : "Follow room";
  }
}
