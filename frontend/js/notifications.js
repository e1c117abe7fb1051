// Getting someone's attention when the tab is in the background: an unread count in the title
// and, if they allowed it, a browser notification. Permission is only ever asked from a click:
// browsers (rightly) distrust pages that ask on load, and people deny prompts they did not expect.

export class Alerts {
  constructor({ doc = document, button = null, onShow = () => {} } = {}) {
    this.doc = doc;
    this.button = button;
    this.onShow = onShow;
    this.unread = 0;
    this.room = "";
    this.doc.addEventListener("visibilitychange", () => {
      if (!this.doc.hidden) this.clear();
    });
    window.addEventListener("focus", () => this.clear());
    if (button) {
      button.addEventListener("click", () => this.enable());
      this.showPermission();
    }
  }

  get supported() {
    return typeof window.Notification === "function";
  }

  get permission() {
    return this.supported ? window.Notification.permission : "unsupported";
  }

  /** Ask for permission; called from the button's click, never from page load. */
  async enable() {
    if (!this.supported) return;
    if (this.permission === "default") {
      try {
        await window.Notification.requestPermission();
      } catch {
        // Old Safari only takes a callback; the state is re-read below either way.
      }
    }
    this.showPermission();
  }

  showPermission() {
    if (!this.button) return;
    const permission = this.permission;
    const label = this.button.querySelector(".notify-label");
    const words = {
      granted: "Notifications on",
      denied: "Notifications blocked",
      unsupported: "No notifications",
    };
    label.textContent = words[permission] ?? "Notify me";
    this.button.setAttribute("aria-pressed", String(permission === "granted"));
    this.button.disabled = permission === "denied" || permission === "unsupported";
  }

  setRoom(room) {
    if (room === this.room) return; // the same room confirmed again: unread still unread
    this.room = room;
    this.clear();
  }

  /**
   * Someone else's message arrived live: in the room on screen, or one that mentions us in any
   * open room (a mention in another room notifies even while this tab is in view).
   */
  incoming(record) {
    const elsewhere = record.room !== this.room;
    if (!this.doc.hidden && !(record.mention && elsewhere)) return;
    if (this.doc.hidden) {
      this.unread += 1;
      this.renderTitle();
    }
    if (this.permission !== "granted") return;
    // A notification shows no guest tag, only this text: without the marker, a guest whose name
    // renders like a registered user's would pass for them here (`guest` is the server's word).
    const sender = record.guest ? `${record.sender} (guest)` : record.sender;
    const title = record.mention
      ? `${sender} mentioned you in #${record.room}`
      : `${sender} in #${record.room}`;
    try {
      const note = new window.Notification(title, {
        body: record.text.length > 160 ? `${record.text.slice(0, 157)}…` : record.text,
        // One notification per room, replaced by the next: a busy room is not a wall of popups.
        tag: `desafio-${record.room}`,
        renotify: true,
      });
      note.onclick = () => {
        window.focus();
        this.onShow();
        note.close();
      };
    } catch (error) {
      // Some mobile browsers only allow notifications from a service worker.
      console.warn("notification not shown:", error);
    }
  }

  clear() {
    this.unread = 0;
    this.renderTitle();
  }

  renderTitle() {
    const base = this.room ? `#${this.room} · DeSafio chat` : "DeSafio chat";
    this.doc.title = this.unread ? `(${this.unread}) ${base}` : base;
  }
}
