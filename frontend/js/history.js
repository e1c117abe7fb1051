// Stored messages over HTTP (GET /rooms/{room}/messages): the last few on joining a room, and
// whatever was missed while the socket was down. Live delivery and history overlap on purpose
// (subscribe first, then fetch, so nothing falls in between); the chat drops duplicates by id.
import { historyUrl } from "./protocol.js";

const PAGE = 100;

export class History {
  constructor(fetcher = (url) => fetch(url, { headers: { Accept: "application/json" } })) {
    this.fetcher = fetcher;
    // A server without persistence answers 404: stop asking, so the console stays quiet.
    this.available = true;
  }

  /** The latest `limit` messages of a room, oldest first ([] when there is no history). */
  async latest(room, limit = 50) {
    return (await this.page(room, { limit })) ?? [];
  }

  /** Every stored message after `afterId`, oldest first, paging until caught up. */
  async since(room, afterId) {
    const found = [];
    let after = afterId;
    for (let pages = 0; pages < 20; pages += 1) {
      const batch = await this.page(room, { limit: PAGE, after });
      if (!batch || batch.length === 0) break;
      found.push(...batch);
      after = batch[batch.length - 1].id;
      if (batch.length < PAGE) break;
    }
    return found;
  }

  async page(room, query) {
    if (!this.available) return null;
    let response;
    try {
      response = await this.fetcher(historyUrl(room, query));
    } catch {
      return null; // offline again; the next reconnect asks once more
    }
    if (response.status === 404 || response.status === 405) {
      // Only a missing route means "no persistence here"; a 404 about one room does not.
      const body = await response.json().catch(() => null);
      if (!body || body.detail === "Not Found" || response.status === 405) this.available = false;
      return null;
    }
    if (!response.ok) return null;
    const body = await response.json().catch(() => null);
    const messages = body && Array.isArray(body.messages) ? body.messages : [];
    return messages.filter((m) => m && Number.isInteger(m.id) && typeof m.text === "string");
  }
}
