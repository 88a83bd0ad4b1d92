// Copies the runtime of onnxruntime-web's wasm build (the glue module and its wasm, nothing for
// WebGPU/WebNN, which the demo does not use) into apps/demo/public/ort/ so the demo serves them
// itself (no CDN). Run by `npm run demo:build`; files of other builds left there are removed.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// The package exports no ./package.json: find dist/ from its Node entry file.
const dist = dirname(require.resolve('onnxruntime-web'));
const out = join('apps', 'demo', 'public', 'ort');
mkdirSync(out, { recursive: true });
const files = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];
for (const f of readdirSync(out)) if (!files.includes(f)) rmSync(join(out, f));
for (const f of files) copyFileSync(join(dist, f), join(out, f));
console.log(`copied ${files.length} onnxruntime-web files to ${out}`);
