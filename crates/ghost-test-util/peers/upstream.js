// A test upstream on Node's `http` module (not hyper).
//
// It routes on the raw request-target (req.url), as Express and most Node
// frameworks do, and serves the response shapes ghost must record and replay.
// Prints `listening on PORT` once bound (argv[2]: port, 0 picks one).
'use strict';
const http = require('http');
const zlib = require('zlib');

const LARGE = Buffer.alloc(1024 * 1024);
for (let i = 0; i < LARGE.length; i++) LARGE[i] = (i * 7) % 251;
const GZIPPED = zlib.gzipSync(Buffer.from('compressed hello '.repeat(200)));
const BINARY = Buffer.alloc(4096);
for (let i = 0; i < BINARY.length; i++) BINARY[i] = i % 256;

function send(res, status, body, headers) {
  body = Buffer.isBuffer(body) ? body : Buffer.from(body || '');
  res.writeHead(status, Object.assign({ 'Content-Length': body.length }, headers || {}));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const server = http.createServer((req, res) => {
  const target = req.url;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  const m = /^\/users\/(\d+)$/.exec(path);
  if (m && (req.method === 'GET' || req.method === 'HEAD')) {
    const id = m[1];
    const body = JSON.stringify({ id: Number(id), name: `User ${id}`, links: { self: `/users/${id}` }, q: query }, null, 2) + '\n';
    return send(res, 200, body, { 'Content-Type': 'application/json' });
  }
  if (path === '/binary') return send(res, 200, BINARY, { 'Content-Type': 'application/octet-stream' });
  if (path === '/gzip') return send(res, 200, GZIPPED, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
  if (path === '/chunked') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('first chunk;');
    res.write('second chunk;');
    return res.end('third chunk');
  }
  if (path === '/trailers') {
    res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Checksum' });
    res.write('body with a trailer');
    res.addTrailers({ 'X-Checksum': 'c0ffee' });
    return res.end();
  }
  if (path.startsWith('/items/') && req.method === 'DELETE') {
    res.writeHead(204);
    return res.end();
  }
  if (path === '/redirect') return send(res, 302, '', { Location: '/users/1' });
  if (path === '/etag') {
    res.writeHead(304, { ETag: '"v1"', 'Cache-Control': 'max-age=60' });
    return res.end();
  }
  if (path === '/missing') return send(res, 404, '{"error":"not here"}', { 'Content-Type': 'application/json' });
  if (path === '/boom') return send(res, 500, 'upstream exploded', { 'Content-Type': 'text/plain', 'X-Error-Id': 'e-123' });
  if (path === '/large') return send(res, 200, LARGE, { 'Content-Type': 'application/octet-stream' });
  if (path === '/echo') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const headers = { 'X-Echo-Method': req.method, 'X-Echo-Target': target };
      if (req.headers['content-type']) headers['Content-Type'] = req.headers['content-type'];
      send(res, 200, Buffer.concat(chunks), headers);
    });
    return undefined;
  }
  return send(res, 404, `no route for ${target}`, { 'Content-Type': 'text/plain' });
});

server.keepAliveTimeout = 30000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
