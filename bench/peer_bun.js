// Bun's native WebSocket server (uWebSockets inside Bun.serve): the bench's physical-limit
// reference, beside node-ws. Same contract as peer_node.js: PORT from the environment, GET /readyz
// answers 200 (anything else 404); /ws?room=R relays text to every other client of the room;
// /ws?format=json&room=R parses {"type":"publish",...}, acks the author and sends every other
// member one {"type":"message",...} object, serialised once per message.
// A room is a pub/sub topic: ws.publish() sends to every subscriber but the sender itself.
'use strict';

const port = Number(process.env.PORT || 8766);
const ids = new Map();
const JSON_HEADERS = { 'content-type': 'application/json' };

Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, server) {
    const url = new URL(req.url);
    if (url.pathname === '/ws' && req.headers.get('upgrade')) {
      const params = url.searchParams;
      const data = { room: params.get('room') || 'lobby', json: params.get('format') === 'json' };
      if (server.upgrade(req, { data })) return undefined;
      return new Response('Bad Request', { status: 400 });
    }
    // Readiness probe used by the bench, like the hub's /readyz.
    return new Response('{"status":"ready"}', {
      status: url.pathname === '/readyz' ? 200 : 404,
      headers: JSON_HEADERS,
    });
  },
  websocket: {
    // Like node-ws as the bench runs it: no compression, no keepalive pings or idle timeout
    // (Bun's default closes a connection silent for 120 s), and no cap on what is buffered for a
    // slow reader (ws buffers without limit; Bun's default drops past 16 MiB).
    perMessageDeflate: false,
    idleTimeout: 0,
    sendPings: false,
    backpressureLimit: 0,
    closeOnBackpressureLimit: false,
    open(ws) {
      ws.subscribe(ws.data.room);
      if (ws.data.json) {
        ws.send(JSON.stringify({ type: 'welcome', name: 'guest', rooms: [ws.data.room] }));
      }
    },
    message(ws, message) {
      if (typeof message !== 'string') return; // binary frames are ignored, as in peer_node.js
      const { room, json } = ws.data;
      let payload = message;
      if (json) {
        const frame = JSON.parse(message);
        const id = (ids.get(room) || 0) + 1;
        ids.set(room, id);
        ws.send(JSON.stringify({ type: 'ack', ref: frame.ref ?? null, id, room }));
        payload = JSON.stringify({
          type: 'message', id, room, sender: 'guest', text: frame.text,
          data: frame.data ?? null, ts: new Date().toISOString(),
        });
      }
      ws.publish(room, payload);
    },
    // No close handler: Bun drops a closed socket from its topics itself.
  },
});

process.on('SIGTERM', () => process.exit(0));
