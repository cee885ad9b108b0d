// An HTTPS client on Node's `https` module that reaches its target through an
// HTTP proxy's CONNECT tunnel (Node 20's `https` ignores HTTPS_PROXY, so the
// tunnel is opened explicitly), trusting the CA in $CA. Prints the body.
// Usage: PROXY=host:port CA=ca.pem node connect_client.js https://host:port/path
'use strict';
const http = require('http');
const https = require('https');
const tls = require('tls');
const fs = require('fs');

const target = new URL(process.argv[2]);
const [proxyHost, proxyPort] = process.env.PROXY.split(':');
const ca = fs.readFileSync(process.env.CA);
const fail = (e) => { console.error(String(e)); process.exit(1); };

const connect = http.request({
  host: proxyHost,
  port: Number(proxyPort),
  method: 'CONNECT',
  path: `${target.hostname}:${target.port}`,
});
connect.on('connect', (res, socket) => {
  if (res.statusCode !== 200) fail(`CONNECT answered ${res.statusCode}`);
  const agent = new https.Agent({ keepAlive: false });
  agent.createConnection = (opts) => tls.connect({ ...opts, socket, servername: target.hostname, ca });
  const req = https.get({ host: target.hostname, port: target.port, path: target.pathname + target.search, agent, ca }, (resp) => {
    const chunks = [];
    resp.on('data', (d) => chunks.push(d));
    resp.on('end', () => {
      process.stdout.write(Buffer.concat(chunks));
      socket.destroy();
    });
  });
  req.on('error', fail);
});
connect.on('error', fail);
connect.end();
