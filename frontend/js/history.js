// Stored messages over HTTP (GET /rooms/{room}/messages). Joining and recovering go through the
// socket (subscribe with `history` or `since`); this is for scrolling back to older messages,
// and for when the server says a gap cannot be replayed (`recovered: false`) and the page
// reloads the latest instead. Entries are messages, and edits/deletes of earlier ones (the
// messages themselves already show their outcome: `edited_at`, `deleted`).
import { historyUrl } from "./protocol.js";

const KNOWN = new Set(["message", "edited", "deleted"]);

export class History {
  constructor(fetcher = (url) => fetch(url, { headers: { Accept: "application/json" } })) {
    this.fetcher = fetcher;
  }

  /** The latest `limit` entries of a room, oldest first; null when they could not be read. */
  latest(room, limit = 50) {
    return this.read(room, { limit });
  }

  /** Up to `limit` entries before id `before`, oldest first; null when they could not be read. */
  older(room, before, limit = 50) {
    return this.read(room, { limit, before });
  }

  async read(room, query) {
    let response;
    try {
      response = await this.fetcher(historyUrl(room, query));
    } catch {
      return null; // offline again; asked once more later
    }
    if (!response.ok) return null;
    const body = await response.json().catch(() => null);
    if (!body || !Array.isArray(body.messages)) return null;
    return body.messages.filter(
      (m) => m && Number.isInteger(m.id) && KNOWN.has(m.type ?? "message"),
    );
  }
}
