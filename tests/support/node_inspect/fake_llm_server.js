// A local model provider for Warden's model-call tests: it speaks the real wire formats of OpenAI's
// /v1/chat/completions and /v1/responses and Anthropic's /v1/messages, streamed (SSE) or not. It is
// the upstream (what the proxy relays to), not a stand-in for Warden. Usage: node fake_llm_server.js
// PORT [ADDRESS] (default 127.0.0.1). Every request is printed as "REQ <method> <path> auth=<Authorization or x-api-key>".
// Behaviour by the request's "model": "cut-*" streams half an answer and drops the connection;
// "error-*" answers 429 with the provider's error body. GET /echo-headers answers the request's
// headers as JSON (credentials tests).
const http = require('node:http');

const port = Number(process.argv[2] || 0);
const address = process.argv[3] || '127.0.0.1';

function sse(res, events, cut) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const half = Math.ceil(events.length / 2);
  let i = 0;
  const next = () => {
    if (cut && i === half) { res.socket.destroy(); return; }
    if (i === events.length) { res.end(); return; }
    const [type, data] = events[i++];
    res.write((type ? `event: ${type}\n` : '') + `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    setTimeout(next, 5);
  };
  next();
}

function chat(body, res) {
  const model = body.model || 'gpt-4o';
  const cut = model.startsWith('cut-');
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'chatcmpl-1', object: 'chat.completion', model: `${model}-2024-08-06`,
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'Checking.',
        tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } }],
      usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 },
    }));
    return;
  }
  sse(res, [
    [null, { id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { role: 'assistant', content: 'Let me ' } }] }],
    [null, { id: 'c1', model, choices: [{ index: 0, delta: { content: 'check.' } }] }],
    [null, { id: 'c1', model, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] } }] }],
    [null, { id: 'c1', model, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] } }] }],
    [null, { id: 'c1', model, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }],
    [null, { id: 'c1', model, choices: [], usage: { prompt_tokens: 31, completion_tokens: 18 } }],
    [null, '[DONE]'],
  ], cut);
}

function responses(body, res) {
  const model = body.model || 'gpt-4.1';
  const done = { model, status: 'completed', usage: { input_tokens: 11, output_tokens: 3 },
    output: [{ type: 'function_call', id: 'fc_1', call_id: 'call_A', name: 'lookup', arguments: '{}' }] };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'resp_1', object: 'response', ...done }));
    return;
  }
  sse(res, [
    ['response.created', { type: 'response.created', response: { model, status: 'in_progress' } }],
    ['response.output_item.added', { type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', id: 'fc_1', call_id: 'call_A', name: 'lookup', arguments: '' } }],
    ['response.completed', { type: 'response.completed', response: done }],
  ], model.startsWith('cut-'));
}

function messages(body, res) {
  const model = body.model || 'claude-sonnet-4';
  if (model.startsWith('error-')) {
    res.writeHead(429, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }));
    return;
  }
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model, stop_reason: 'tool_use',
      content: [{ type: 'text', text: 'Reading.' }, { type: 'tool_use', id: 'toolu_01', name: 'read_file', input: {} }],
      usage: { input_tokens: 1234, output_tokens: 567 } }));
    return;
  }
  sse(res, [
    ['message_start', { type: 'message_start', message: { id: 'msg_1', model, usage: { input_tokens: 1234, output_tokens: 1 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Reading.' } }],
    ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01', name: 'read_file', input: {} } }],
    ['content_block_start', { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_02', name: 'bash', input: {} } }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 567 } }],
    ['message_stop', { type: 'message_stop' }],
  ], model.startsWith('cut-'));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const auth = req.headers['authorization'] || req.headers['x-api-key'] || '-';
    console.log(`REQ ${req.method} ${req.url} auth=${auth}`);
    let body = {};
    try { body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {}; } catch { body = {}; }
    const path = req.url.split('?')[0];
    if (path === '/echo-headers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
    } else if (req.method === 'POST' && path === '/v1/chat/completions') {
      chat(body, res);
    } else if (req.method === 'POST' && path === '/v1/responses') {
      responses(body, res);
    } else if (req.method === 'POST' && path === '/v1/messages') {
      messages(body, res);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found","type":"not_found"}}');
    }
  });
});
server.listen(port, address, () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
