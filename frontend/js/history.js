// Stored messages over HTTP (GET /rooms/{room}/messages). Joining and recovering go through the
// socket (subscribe with `history` or `since`); this is only for when the server says a gap is
// too old or too big to replay (`recovered: false`) and the page reloads the latest instead.
import { historyUrl } from "./protocol.js";

export class History {
  constructor(fetcher = (url) => fetch(url, { headers: { Accept: "application/json" } })) {
    this.fetcher = fetcher;
  }

  /** The latest `limit` messages of a room, oldest first; null when they could not be read. */
  async latest(room, limit = 50) {
    let response;
    try {
      response = await this.fetcher(historyUrl(room, { limit }));
    } catch {
      return null; // offline again; the next subscribe asks once more
    }
    if (!response.ok) return null;
    const body = await response.json().catch(() => null);
    if (!body || !Array.isArray(body.messages)) return null;
    return body.messages.filter((m) => m && Number.isInteger(m.id) && typeof m.text === "string");
  }
}
