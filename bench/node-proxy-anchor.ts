// Anchor for `npm run bench -- router`: the least a Node reverse proxy does per call (node:http server, a keep-alive
// node:http client, the body piped through), with none of the router's checks. It shows how much of the router's
// cost is Node's HTTP machinery, which no change inside the router can remove.
// Usage: node dist/bench/node-proxy-anchor.js <upstream port>; prints `listening on <port>`.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';

const upstreamPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, path: `/openai${req.url ?? '/'}`, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': body.byteLength } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
      pipeline(answer, res, () => undefined);
    });
    up.on('error', () => { res.writeHead(502).end(); });
    up.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
