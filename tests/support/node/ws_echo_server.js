'use strict';
// A WebSocket echo server for the proxy tests, on 127.0.0.1 only, port 0.
//   node ws_echo_server.js [--tls CERT KEY] [--first-in-101 TEXT] [--listen HOST:PORT]
// (--listen: default 127.0.0.1:0; the demo serves from a network namespace's address)
// Prints one JSON line {"port":N} once listening, then echoes every message back with the same type
// (text/binary). With --first-in-101 the handshake is done by hand: the 101 head and a text frame
// carrying TEXT go out in ONE socket.write (the case where the first frame arrives in the same read as
// the 101), after which the socket is handed to `ws` and echoes like the other mode.
// Exits on SIGTERM or when stdin closes (so a dying test does not leave it behind).
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocket, WebSocketServer } = require('ws');

const args = process.argv.slice(2);
let tls = null;
let firstIn101 = null;
let listenHost = '127.0.0.1', listenPort = 0;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--tls') { tls = { cert: fs.readFileSync(args[i + 1]), key: fs.readFileSync(args[i + 2]) }; i += 2; }
  else if (args[i] === '--first-in-101') { firstIn101 = args[++i]; }
  else if (args[i] === '--listen') { const hp = args[++i]; const c = hp.lastIndexOf(':'); listenHost = hp.slice(0, c); listenPort = Number(hp.slice(c + 1)); }
  else { console.error(`unknown argument ${args[i]}`); process.exit(2); }
}

const server = tls ? https.createServer(tls) : http.createServer();
server.on('request', (req, res) => { res.writeHead(426, { 'Content-Type': 'text/plain' }); res.end('upgrade required\n'); });

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
}

// One unmasked server frame (RFC 6455 5.2): FIN + opcode, then the payload length.
function frame(opcode, payload) {
  const n = payload.length;
  let head;
  if (n < 126) head = Buffer.from([0x80 | opcode, n]);
  else if (n < 65536) { head = Buffer.alloc(4); head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(n, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  return Buffer.concat([head, payload]);
}

if (firstIn101 === null) {
  const wss = new WebSocketServer({ server });
  wss.on('connection', echo);
} else {
  server.on('upgrade', (req, socket, head) => {
    const key = req.headers['sec-websocket-key'];
    if (!key || (req.headers.upgrade || '').toLowerCase() !== 'websocket') { socket.destroy(); return; }
    const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    const response = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                                 `Sec-WebSocket-Accept: ${accept}\r\n\r\n`, 'latin1');
    socket.setNoDelay(true);
    socket.write(Buffer.concat([response, frame(0x1, Buffer.from(firstIn101, 'utf8'))]));  // one write
    // Hand the socket to ws for the echo part (what WebSocketServer.completeUpgrade does).
    const ws = new WebSocket(null, undefined, {});
    ws.setSocket(socket, head, { maxPayload: 100 * 1024 * 1024, skipUTF8Validation: false });
    echo(ws);
  });
}

server.listen(listenPort, listenHost, () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
