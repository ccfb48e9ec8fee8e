// Serves a local `dist/` at /_/ in front of the binary and forwards everything else
// to it, so UI changes can be tested without relinking the binary (debug builds
// embed `dist/` at compile time). Used when BASALT_UI_DIST is set.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** @returns {Promise<{url: string, close: () => Promise<void>}>} */
export async function distProxy(dist, upstream) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/_/')) {
      let file = path.join(dist, path.normalize(url.pathname.slice(3)));
      if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        if (url.pathname.startsWith('/_/assets/')) return res.writeHead(404).end();
        file = path.join(dist, 'index.html');
      }
      const cache = file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': cache });
      return res.end(fs.readFileSync(file));
    }
    const fwd = http.request(new URL(req.url, upstream), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
