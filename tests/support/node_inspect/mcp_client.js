// A real MCP client (the official TypeScript SDK's Client over streamable HTTP) going through an HTTP
// proxy (undici's ProxyAgent: CONNECT, as agents do). Usage: node mcp_client.js SERVER_URL PROXY_URL
// TOOL[:JSON_ARGS]... Prints one line per step: "init <server name>", then per tool "ok <name> <text>",
// "iserror <name> <text>" or "error <name> <message>".
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { ProxyAgent, fetch } = require('undici');

async function main() {
  const [url, proxy, ...calls] = process.argv.slice(2);
  const dispatcher = new ProxyAgent(proxy);
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: (input, init) => fetch(input, { ...init, dispatcher }),
  });
  const client = new Client({ name: 'warden-test-client', version: '1.0.0' });
  await client.connect(transport);
  console.log(`init ${client.getServerVersion()?.name}`);
  await client.listTools();
  for (const call of calls) {
    const colon = call.indexOf(':');
    const name = colon < 0 ? call : call.slice(0, colon);
    const args = colon < 0 ? {} : JSON.parse(call.slice(colon + 1));
    try {
      const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 20000 });
      const text = (r.content || []).map((c) => c.text).join(' ');
      console.log(`${r.isError ? 'iserror' : 'ok'} ${name} ${text}`);
    } catch (e) {
      console.log(`error ${name} ${e.message}`);
    }
  }
  await transport.terminateSession().catch(() => {});
  await client.close();
}
main().catch((e) => { console.log(`fatal ${e.message}`); process.exit(1); });
