// A plain HTTP request for server tests, with the method and Host header under the test's control
// (fetch forbids setting Host).
import { request } from 'node:http';

/** GET (or `method`) `url` on 127.0.0.1 with an optional Host header and raw path; resolves status and body. */
export function httpRequest(
  url: string,
  options: { method?: string; host?: string; path?: string } = {},
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: u.port,
        // A raw path is sent as is (URL parsing would remove `..` segments a test wants to send).
        path: options.path ?? `${u.pathname}${u.search}`,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? u.host },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += String(d);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
