// The side panel: the open rooms (with unread badges), who is online in the one on screen, and
// the phone menu that folds it away. People are listed by sender id: two "Ana"s are two people.
import { el, hueClass } from "./render.js";

const $ = (id) => document.getElementById(id);

export class Sidebar {
  constructor({ onSwitch = () => {}, onLeave = () => {}, onClosed = () => {} } = {}) {
    this.panel = $("sidebar");
    this.menu = $("menuButton");
    this.onSwitch = onSwitch;
    this.onLeave = onLeave;
    this.onClosed = onClosed;
    this.menu.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    // On a phone the panel covers the chat: Escape or a tap outside it closes it.
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen) {
        this.close();
        this.menu.focus();
      }
    });
    document.addEventListener("pointerdown", (event) => {
      if (this.isOpen && !this.panel.contains(event.target) && !this.menu.contains(event.target)) {
        this.close();
      }
    });
    $("roomList").addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      const room = button.closest("li").dataset.room;
      if (button.classList.contains("leave")) this.onLeave(room);
      else this.onSwitch(room);
    });
  }

  get isOpen() {
    return this.panel.classList.contains("open");
  }

  open() {
    this.panel.classList.add("open");
    this.menu.setAttribute("aria-expanded", "true");
  }

  close() {
    if (!this.isOpen) return;
    this.panel.classList.remove("open");
    this.menu.setAttribute("aria-expanded", "false");
    this.onClosed();
  }

  /** The open rooms: the one on screen marked current, the others with their unread counts. */
  setRooms(rooms) {
    $("roomList").replaceChildren(
      ...rooms.map(({ room, unread, mentions, current }) => {
        const item = el("li", "room-entry");
        item.dataset.room = room;
        const open = el("button", "room-link");
        open.type = "button";
        const hash = el("span", "hash", "#");
        hash.setAttribute("aria-hidden", "true");
        open.append(hash, el("span", "room-label", room));
        if (current) open.setAttribute("aria-current", "true");
        if (unread > 0) {
          const badge = el("span", mentions > 0 ? "badge unread mention" : "badge unread", String(unread));
          badge.setAttribute("aria-label", `${unread} unread${mentions > 0 ? `, ${mentions} mentioning you` : ""}`);
          open.append(badge);
        }
        item.append(open);
        if (!current) {
          const leave = el("button", "leave icon-button", "×");
          leave.type = "button";
          leave.setAttribute("aria-label", `Leave #${room}`);
          item.append(leave);
        }
        return item;
      }),
    );
  }

  /** Who is in the room on screen; greyed (last known) while we are offline. */
  setMembers(members, count, me, online) {
    const list = $("members");
    list.classList.toggle("stale", !online);
    list.setAttribute("aria-description", online ? "" : "Offline: the last people known to be here");
    list.replaceChildren(
      ...members.map((member) => {
        const item = el("li", `member ${hueClass(member.id)}`);
        item.dataset.id = member.id;
        item.append(el("span", "avatar", [...member.name][0]?.toUpperCase() ?? "?"));
        item.append(el("span", "member-name", member.name));
        if (member.guest) item.append(el("span", "guest-tag", "guest"));
        if (member.id === me) item.append(el("span", "you", "you"));
        return item;
      }),
    );
    $("onlineCount").textContent = String(Math.max(count, members.length));
  }
}
