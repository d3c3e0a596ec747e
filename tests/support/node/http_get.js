'use strict';
// GET one URL through the proxy named by HTTPS_PROXY / HTTP_PROXY, the way a node program using the
// drop-in proxy variables would. Node 20 does not read those variables itself: with node >= 24 and
// NODE_USE_ENV_PROXY=1 the built-in agents do, so the script leaves it to node; otherwise it uses
// https-proxy-agent / http-proxy-agent built from the same variables. The CA comes from
// NODE_EXTRA_CA_CERTS (warden proxy prints it). Prints one JSON line: {"status":N,"body":"...","via":"env|agent"}.
//   node http_get.js URL
const http = require('http');
const https = require('https');

const url = new URL(process.argv[2]);
const secure = url.protocol === 'https:';
const major = Number(process.versions.node.split('.')[0]);
const proxyUrl = secure ? (process.env.HTTPS_PROXY || process.env.https_proxy)
                        : (process.env.HTTP_PROXY || process.env.http_proxy);
const options = {};
let via = 'direct';
if (major >= 24 && process.env.NODE_USE_ENV_PROXY === '1') {
  via = 'env';
} else if (proxyUrl) {
  const { HttpsProxyAgent } = require('https-proxy-agent');
  const { HttpProxyAgent } = require('http-proxy-agent');
  options.agent = secure ? new HttpsProxyAgent(proxyUrl) : new HttpProxyAgent(proxyUrl);
  // https-proxy-agent drops `host` from the TLS options (and sets no servername for an IP), so node
  // would check the certificate against "localhost": check it against the URL's host instead.
  const target = url.hostname.replace(/^\[|\]$/g, '');
  options.checkServerIdentity = (_host, cert) => require('tls').checkServerIdentity(target, cert);
  via = 'agent';
}
const timer = setTimeout(() => { console.log(JSON.stringify({ status: 0, error: 'timed out', via })); process.exit(1); }, 15000);
(secure ? https : http).get(url, options, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { body += d; });
  res.on('end', () => {
    clearTimeout(timer);
    console.log(JSON.stringify({ status: res.statusCode, body, policy: res.headers['x-warden-policy'] || null, via }));
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
}).on('error', (e) => {
  clearTimeout(timer);
  console.log(JSON.stringify({ status: 0, error: e.message, via }));
  process.exit(1);
});
