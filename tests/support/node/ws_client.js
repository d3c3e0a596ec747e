'use strict';
// A WebSocket client for the proxy tests: connects to URL through an HTTP proxy with CONNECT
// (https-proxy-agent, for ws:// and wss:// alike), exchanges text and binary messages both ways with
// an echo server and checks every echo byte for byte.
//   node ws_client.js URL --proxy http://127.0.0.1:PORT [--ca PEM] [--expect-first TEXT]
// --ca: trust this PEM (the proxy's session CA) for wss://; NODE_EXTRA_CA_CERTS works too.
// --expect-first: the server sends TEXT first (in the 101 write); it must arrive before any echo.
// Prints one JSON line and exits 0 when everything matched:
//   {"ok":true,"status":101,"first":"...","exchanged":[{"type":"text","bytes":N},...]}
// or {"ok":false,"status":403,"policy":"rule","error":"..."} (exit 1). Bounded: 15 s overall.
const fs = require('fs');
const tls = require('tls');
const crypto = require('crypto');
const WebSocket = require('ws');
const { HttpsProxyAgent } = require('https-proxy-agent');

const args = process.argv.slice(2);
const url = args[0];
let proxy = null, ca = null, expectFirst = null;
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--proxy') proxy = args[++i];
  else if (args[i] === '--ca') ca = fs.readFileSync(args[++i]);
  else if (args[i] === '--expect-first') expectFirst = args[++i];
  else { console.error(`unknown argument ${args[i]}`); process.exit(2); }
}
if (!url || !proxy) { console.error('usage: ws_client.js URL --proxy PROXY_URL [--ca PEM] [--expect-first TEXT]'); process.exit(2); }

const result = { ok: false, url, status: 0, exchanged: [] };
function finish(ok, error) {
  result.ok = ok;
  if (error) result.error = String(error);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(ok ? 0 : 1);
}
setTimeout(() => finish(false, 'timed out'), 15000).unref();

// Text with multi-byte UTF-8; binary with every byte value and a random tail (also > 125 and > 64 KiB
// payloads so both extended length forms cross the proxy).
const all = Buffer.alloc(256); for (let i = 0; i < 256; i++) all[i] = i;
const toSend = [
  { binary: false, data: 'hello through warden \u2713 \u00e9\u00e8' },
  { binary: true, data: Buffer.concat([all, crypto.randomBytes(64)]) },
  { binary: false, data: 'x'.repeat(300) },
  { binary: true, data: crypto.randomBytes(70000) },
];

// https-proxy-agent drops `host` from the TLS options and sets a servername only for names, so for an
// IP target node would check the certificate against "localhost": check it against the real host.
const target = new URL(url).hostname.replace(/^\[|\]$/g, '');
const ws = new WebSocket(url, { agent: new HttpsProxyAgent(proxy), ca: ca || undefined, handshakeTimeout: 10000,
                                checkServerIdentity: (_host, cert) => tls.checkServerIdentity(target, cert) });
ws.on('upgrade', (res) => { result.status = res.statusCode; });
ws.on('unexpected-response', (req, res) => {
  result.status = res.statusCode;
  result.policy = res.headers['x-warden-policy'] || null;
  let body = '';
  res.on('data', (d) => { body += d; });
  res.on('end', () => { result.body = body; finish(false, `unexpected response ${res.statusCode}`); });
  res.on('error', () => finish(false, `unexpected response ${res.statusCode}`));
});
ws.on('error', (e) => finish(false, e.message));

let next = 0;
let waitingFirst = expectFirst !== null;
function sendNext() {
  if (next === toSend.length) { ws.close(1000, 'done'); return; }
  const m = toSend[next];
  ws.send(m.data, { binary: m.binary });
}
ws.on('open', () => { if (!waitingFirst) sendNext(); });
ws.on('message', (data, isBinary) => {
  if (waitingFirst) {
    waitingFirst = false;
    result.first = isBinary ? null : data.toString('utf8');
    if (isBinary || result.first !== expectFirst) { finish(false, `first message ${JSON.stringify(result.first)}, expected ${JSON.stringify(expectFirst)}`); return; }
    sendNext();
    return;
  }
  const m = toSend[next];
  if (!m) { finish(false, 'message after the last echo'); return; }
  const want = m.binary ? m.data : Buffer.from(m.data, 'utf8');
  const got = Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (isBinary !== m.binary || !got.equals(want)) {
    finish(false, `echo ${next} differs: binary ${isBinary} vs ${m.binary}, ${got.length} vs ${want.length} bytes`);
    return;
  }
  result.exchanged.push({ type: m.binary ? 'binary' : 'text', bytes: want.length });
  next++;
  sendNext();
});
ws.on('close', (code) => {
  if (next === toSend.length && !waitingFirst) finish(true);
  else finish(false, `closed early with ${code} after ${next} echoes`);
});
