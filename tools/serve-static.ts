/**
 * A static file server for the built demo: bound to 127.0.0.1, serving nothing outside its folder,
 * with the COOP/COEP headers that let onnxruntime-web use threads (`tools/serve-demo.ts` runs it).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Starts the server; resolves with its URL. */
export function serve(folder: string, port = 5173): Promise<{ url: string; close: () => void }> {
  const root = resolve(folder);
  if (!existsSync(join(root, 'index.html')))
    throw new Error(`serve: ${root} has no index.html (build the demo first: npm run demo:build)`);
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(404).end('not found');
      return;
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((r) =>
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      r({
        url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : port}/`,
        close: () => server.close(),
      });
    }),
  );
}
