// A real MCP server (the official TypeScript SDK's McpServer over streamable HTTP) for Warden's MCP
// tests. Usage: node mcp_server.js PORT json|sse. Tools: read_file, search, delete_repo, fail_tool,
// slow_tool. Every tool call it receives is printed as "CALL <name>" on stdout (so a test can prove
// a denied call never reached it); "listening <port>" once it accepts connections.
const { randomUUID } = require('node:crypto');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { createMcpExpressApp } = require('@modelcontextprotocol/sdk/server/express.js');
const z = require('zod/v4');

const port = Number(process.argv[2] || 0);
const json = (process.argv[3] || 'sse') === 'json';

function makeServer() {
  const server = new McpServer({ name: 'warden-test-mcp', version: '1.0.0' });
  const text = (t) => ({ content: [{ type: 'text', text: t }] });
  server.registerTool('read_file', { description: 'read a file', inputSchema: { path: z.string() } }, async ({ path }) => {
    console.log('CALL read_file');
    return text(`contents of ${path}`);
  });
  server.registerTool('search', { description: 'search', inputSchema: { q: z.string(), api_key: z.string().optional() } },
    async ({ q }) => { console.log('CALL search'); return text(`results for ${q}`); });
  server.registerTool('delete_repo', { description: 'delete a repository', inputSchema: { repo: z.string() } },
    async () => { console.log('CALL delete_repo'); return text('deleted'); });
  server.registerTool('fail_tool', { description: 'always fails', inputSchema: {} },
    async () => { console.log('CALL fail_tool'); return { isError: true, content: [{ type: 'text', text: 'it failed' }] }; });
  server.registerTool('slow_tool', { description: 'answers after 3 s', inputSchema: {} },
    async () => { console.log('CALL slow_tool'); await new Promise((r) => setTimeout(r, 3000)); return text('late'); });
  return server;
}

const app = createMcpExpressApp();
const transports = new Map();
app.post('/mcp', async (req, res) => {
  const sid = req.headers['mcp-session-id'];
  let transport = sid ? transports.get(sid) : undefined;
  if (!transport) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: json,
      onsessioninitialized: (id) => transports.set(id, transport),
    });
    await makeServer().connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
});
app.delete('/mcp', async (req, res) => {
  const transport = transports.get(req.headers['mcp-session-id']);
  if (transport) await transport.handleRequest(req, res);
  else res.status(404).end();
});
const listener = app.listen(port, '127.0.0.1', () => console.log(`listening ${listener.address().port}`));
process.on('SIGTERM', () => process.exit(0));
