// The Node.js `ws` broadcast server people would pick instead of this hub (a bench peer).
// Same URL contract as the hub: /ws?room=R relays text to every other client of the room;
// /ws?format=json&room=R parses {"type":"publish",...}, acks the author and sends every other
// member one {"type":"message",...} object, serialised once per message.
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.env.PORT || 8766);
const rooms = new Map();
const ids = new Map();

const server = http.createServer((req, res) => {
  // Readiness probe used by the bench, like the hub's /readyz.
  res.writeHead(req.url === '/readyz' ? 200 : 404, { 'content-type': 'application/json' });
  res.end('{"status":"ready"}');
});
// perMessageDeflate off: the hub does not compress either (ws's default is off as well).
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });

wss.on('connection', (socket, req) => {
  const params = new URL(req.url, 'http://localhost').searchParams;
  const room = params.get('room') || 'lobby';
  const json = params.get('format') === 'json';
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(socket);
  if (json) socket.send(JSON.stringify({ type: 'welcome', name: 'guest', rooms: [room] }));

  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    let payload = data;
    if (json) {
      const frame = JSON.parse(data.toString());
      const id = (ids.get(room) || 0) + 1;
      ids.set(room, id);
      socket.send(JSON.stringify({ type: 'ack', ref: frame.ref ?? null, id, room }));
      payload = JSON.stringify({
        type: 'message', id, room, sender: 'guest', text: frame.text,
        data: frame.data ?? null, ts: new Date().toISOString(),
      });
    }
    // The broadcast from the ws README: every other open client of the room.
    for (const client of members) {
      if (client !== socket && client.readyState === WebSocket.OPEN) {
        client.send(payload, { binary: false });
      }
    }
  });
  socket.on('close', () => {
    members.delete(socket);
    if (members.size === 0) rooms.delete(room);
  });
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
