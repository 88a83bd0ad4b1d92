// Copies onnxruntime-web's wasm runtime files into apps/demo/public/ort/ so the demo serves them
// itself (no CDN). Run by `npm run demo:build`.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// The package exports no ./package.json: find dist/ from its Node entry file.
const dist = dirname(require.resolve('onnxruntime-web'));
const out = join('apps', 'demo', 'public', 'ort');
mkdirSync(out, { recursive: true });
const files = readdirSync(dist).filter((f) =>
  /^ort-wasm-simd-threaded(\.jsep)?\.(wasm|mjs)$/.test(f),
);
for (const f of files) copyFileSync(join(dist, f), join(out, f));
console.log(`copied ${files.length} onnxruntime-web files to ${out}`);
