// The demo's static server as a hostile client would try it: links out of the folder, unreadable
// files, special files, other methods and foreign Host headers.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpRequest } from '../../../tools/testing/http.js';

const { serve } =
  require('../../../tools/serve-static.ts') as typeof import('../../../tools/serve-static.js');

const root = mkdtempSync(join(tmpdir(), 'msmoe-serve-'));
const outside = mkdtempSync(join(tmpdir(), 'msmoe-outside-'));
let server: { url: string; close: () => void };

beforeAll(async () => {
  writeFileSync(join(root, 'index.html'), '<h1>demo</h1>');
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(outside, join(root, 'out'));
  symlinkSync('/dev/zero', join(root, 'zero.bin'));
  symlinkSync(join(root, 'assets', 'app.js'), join(root, 'inside.js'));
  writeFileSync(join(root, 'locked.js'), 'x');
  chmodSync(join(root, 'locked.js'), 0o000);
  server = await serve(root, 0);
});
afterAll(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const get = (path: string, options: { method?: string; host?: string } = {}) =>
  httpRequest(server.url, { ...options, path });

describe('serve-static', () => {
  it('serves the folder', async () => {
    expect(await get('/')).toEqual({ status: 200, body: '<h1>demo</h1>' });
    expect((await get('/assets/app.js')).status).toBe(200);
    // A link that stays inside the folder is fine.
    expect((await get('/inside.js')).body).toBe('console.log(1)');
  });

  it('never follows a link out of the folder, nor serves special files', async () => {
    for (const p of [
      '/leak.txt',
      '/out/secret.txt',
      '/zero.bin',
      '/../outside',
      '/%2e%2e/etc/passwd',
    ])
      expect((await get(p)).status).toBe(404);
  });

  it('a file it cannot read is a status, and the server keeps serving', async () => {
    const r = await get('/locked.js');
    // root reads mode-000 files; anyone else gets 403.
    expect([200, 403]).toContain(r.status);
    expect((await get('/')).status).toBe(200);
  });

  it('GET and HEAD only; a foreign Host header is refused (DNS rebinding)', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'TRACE'])
      expect((await get('/', { method })).status).toBe(405);
    expect((await get('/', { method: 'HEAD' })).status).toBe(200);
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(403);
    expect((await get('/', { host: 'localhost' })).status).toBe(200);
  });
});
