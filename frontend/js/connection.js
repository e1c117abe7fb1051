// A WebSocket that comes back by itself. The page talks to this object, never to a raw socket, so
// a server restart or a flaky network is a pause in the conversation rather than its end.

/**
 * The wait before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter"
 * (half fixed, half random). The jitter spreads out a crowd of tabs that all lost the same server
 * at the same moment; the fixed half keeps a single tab from hammering a server that is down.
 */
export function backoffDelay(attempt, { base = 500, max = 15000, random = Math.random } = {}) {
  const ceiling = Math.min(max, base * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// A connection that stayed up this long was healthy: the next failure starts the backoff afresh.
const STABLE_AFTER_MS = 5000;
// Application-level heartbeat: browsers cannot see the server's protocol pings, and a sleeping
// laptop or a dead Wi-Fi leaves a socket "open" for minutes unless something is asked of it.
const HEARTBEAT_EVERY_MS = 30000;
const HEARTBEAT_GRACE_MS = 10000;

/**
 * Events (all CustomEvent, data in `detail`):
 *  - "state":   {state: "connecting" | "open" | "reconnecting", attempt, delay, reason}
 *  - "objects": {objects} — the server objects of one frame, in order
 *  - "open":    {} — a fresh socket is open (the server's `welcome` follows)
 */
export class ReconnectingSocket extends EventTarget {
  /**
   * @param {() => string} url called before every attempt, so a new name takes effect on reconnect
   * @param {{parse: (data: string) => object[], heartbeat?: () => boolean, backoff?: object}} options
   *   `heartbeat` sends a ping through its owner (who tracks the reply) and says whether it went
   */
  constructor(url, { parse, heartbeat, backoff = {} } = {}) {
    super();
    this.url = url;
    this.parse = parse;
    this.heartbeat = heartbeat;
    this.backoff = backoff;
    this.ws = null;
    this.state = "connecting";
    this.attempt = 0;
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.graceTimer = null;
    this.openedAt = 0;
    this.lastReason = null;
    this.onOnline = () => this.reconnectNow();
  }

  start() {
    window.addEventListener("online", this.onOnline);
    this.connect();
    return this;
  }

  /** Whether a frame sent now would go out. */
  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send one object; false (and nothing sent) when the socket is not open. */
  send(obj) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  /** Skip the wait: retry at once (the user asked, or the network came back). */
  reconnectNow() {
    if (this.state !== "reconnecting") return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  /** Drop the current socket and open a new one (the display name changed, say). */
  restart() {
    this.attempt = 0;
    if (this.ws) {
      this.detach(this.ws);
      this.ws.close(1000, "reconnecting");
      this.ws = null;
    }
    clearTimeout(this.retryTimer);
    this.connect();
  }

  connect() {
    this.setState("connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (error) {
      // A malformed address throws instead of closing; treat it as any other failure.
      console.error("could not open a WebSocket:", error);
      this.scheduleRetry(null);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.openedAt = Date.now();
      this.lastReason = null;
      this.setState("open", {});
      this.dispatchEvent(new CustomEvent("open", { detail: {} }));
      this.armHeartbeat();
    };
    ws.onmessage = (event) => {
      // Anything arriving proves the connection alive.
      this.armHeartbeat();
      const objects = this.parse ? this.parse(event.data) : [event.data];
      if (objects.length) this.dispatchEvent(new CustomEvent("objects", { detail: { objects } }));
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleRetry(event.code);
    };
    // An error is always followed by a close, where the retry happens; nothing to do twice.
    ws.onerror = () => {};
  }

  detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    this.stopHeartbeat();
  }

  scheduleRetry(code) {
    this.stopHeartbeat();
    if (this.openedAt && Date.now() - this.openedAt >= STABLE_AFTER_MS) this.attempt = 0;
    this.openedAt = 0;
    const delay = backoffDelay(this.attempt, this.backoff);
    this.attempt += 1;
    this.lastReason = code;
    this.retryAt = Date.now() + delay; // for a countdown
    this.setState("reconnecting", { attempt: this.attempt, delay, code, until: this.retryAt });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  armHeartbeat() {
    if (!this.heartbeat) return;
    this.stopHeartbeat();
    this.heartbeatTimer = setTimeout(() => {
      if (!this.heartbeat()) return;
      // No answer (nor anything else) in time: the socket is dead even if it says it is open.
      // Its closing handshake would never finish either, so drop it and retry straight away.
      this.graceTimer = setTimeout(() => {
        const ws = this.ws;
        if (!ws) return;
        this.detach(ws);
        this.ws = null;
        ws.close();
        this.scheduleRetry(null);
      }, HEARTBEAT_GRACE_MS);
    }, HEARTBEAT_EVERY_MS);
  }

  stopHeartbeat() {
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.graceTimer);
  }

  setState(state, detail) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }
}
