/**
 * A static file server for the built demo: bound to 127.0.0.1, serving nothing outside its folder,
 * with the COOP/COEP headers that let onnxruntime-web use threads (`tools/serve-demo.ts` runs it).
 */
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { isLocalHost } from '@msmoe/tracking';

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

/**
 * The file a request path names, or null: a regular file whose real path (links resolved) is
 * inside the root's real path. A link out of the folder, a folder, a device or a missing file is
 * null (404), never followed.
 */
export function safeFile(root: string, path: string): string | null {
  const realRoot = realpathSync(root);
  const file = normalize(join(realRoot, path.endsWith('/') ? `${path}index.html` : path));
  if (file !== realRoot && !file.startsWith(realRoot + sep)) return null;
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return null;
  }
  if (!real.startsWith(realRoot + sep)) return null;
  try {
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** Starts the server; resolves with its URL. */
export function serve(folder: string, port = 5173): Promise<{ url: string; close: () => void }> {
  const root = resolve(folder);
  if (!existsSync(join(root, 'index.html')))
    throw new Error(`serve: ${root} has no index.html (build the demo first: npm run demo:build)`);
  let bound = port;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end('method not allowed');
      return;
    }
    if (!isLocalHost(req.headers.host, bound)) {
      res.writeHead(403).end('forbidden host');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = safeFile(root, path);
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    // Opened before the headers: a file that cannot be read is a status, never a crash.
    const stream = createReadStream(file);
    stream.once('error', () => {
      if (!res.headersSent) res.writeHead(403).end('cannot read');
      else res.destroy();
    });
    stream.once('open', () => {
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD') {
        stream.destroy();
        res.end();
      } else stream.pipe(res);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return new Promise((r) =>
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      bound = typeof a === 'object' && a ? a.port : port;
      r({
        url: `http://127.0.0.1:${bound}/`,
        close: () => server.close(),
      });
    }),
  );
}
