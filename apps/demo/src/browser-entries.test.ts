// Every package a web page may use bundles for the browser without Node's modules: a bundler
// that resolves the `browser` export condition (Vite, esbuild, webpack) gets an entry with no
// `node:*` import, static or dynamic, in anything it pulls in, and every name it imports exists.
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = join(__dirname, '..', '..', '..');
const BROWSER_PACKAGES = [
  'core',
  'router',
  'experts',
  'update-rules',
  'models',
  'corruptions',
  'datasets',
  'onnx',
  'tuner',
  'tracking',
];

/** Bundles `import * as m from '@msmoe/<name>'` for the browser; returns the Node modules it reached. */
async function nodeImports(entry: string): Promise<{ nodeModules: string[]; errors: string[] }> {
  const seen = new Set<string>();
  const plugin: Plugin = {
    name: 'watch-node',
    setup(b) {
      // Node built-ins are recorded (and left out); other npm packages stay external: their own
      // browser builds are theirs to ship.
      b.onResolve({ filter: /^node:|^(fs|path|os|crypto|zlib|child_process|url)$/ }, (a) => {
        seen.add(`${a.path} (from ${a.importer.replace(ROOT, '')})`);
        return { path: a.path, external: true };
      });
      b.onResolve({ filter: /^[a-z@]/ }, (a) =>
        a.path.startsWith('@msmoe/') ? undefined : { path: a.path, external: true },
      );
    },
  };
  const result = await build({
    stdin: {
      contents: `import * as m from '${entry}'; globalThis.m = m;`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    conditions: ['@msmoe/source'],
    logLevel: 'silent',
    plugins: [plugin],
  }).catch((err: { errors?: { text: string }[] }) => ({
    errors: err.errors ?? [{ text: String(err) }],
  }));
  return { nodeModules: [...seen].sort(), errors: result.errors.map((e) => e.text) };
}

describe('browser entry points (export condition "browser")', () => {
  it.each(BROWSER_PACKAGES)(
    '@msmoe/%s bundles with no Node module',
    async (name) => {
      expect(await nodeImports(`@msmoe/${name}`)).toEqual({ nodeModules: [], errors: [] });
    },
    60_000,
  );

  it('the check sees a Node import (the Node entry of @msmoe/core has them)', async () => {
    const { nodeModules } = await nodeImports('./packages/core/src/index.ts');
    expect(nodeModules.some((m) => m.startsWith('node:fs'))).toBe(true);
  }, 60_000);
});
