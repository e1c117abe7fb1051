// "Ana is typing…": who is typing in the room on screen, each forgotten a few seconds after
// their last notice (the server relays at most one per 2 s) or as soon as their message comes.

// A typing notice is forgotten this long after the last one.
const FORGET_MS = 5000;

export class TypingView {
  constructor(box) {
    this.box = box;
    this.people = new Map(); // sender id -> {name, timer}
  }

  typing(id, name) {
    clearTimeout(this.people.get(id)?.timer);
    // A guest's sender id is "g:…" (protocol.md): marked, as a guest may take a name that
    // renders like a registered user's.
    const shown = String(id).startsWith("g:") ? `${name} (guest)` : name;
    this.people.set(id, { name: shown, timer: setTimeout(() => this.stopped(id), FORGET_MS) });
    this.show();
  }

  stopped(id) {
    const known = this.people.get(id);
    if (!known) return;
    clearTimeout(known.timer);
    this.people.delete(id);
    this.show();
  }

  clear() {
    for (const id of [...this.people.keys()]) this.stopped(id);
  }

  show() {
    const names = [...this.people.values()].map((p) => p.name);
    let words = "";
    if (names.length === 1) words = `${names[0]} is typing…`;
    else if (names.length === 2) words = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) words = "Several people are typing…";
    this.box.textContent = words;
  }
}
