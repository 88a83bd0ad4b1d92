import { defineConfig } from 'vite';

// Workspace packages resolve to their TypeScript sources (the `@msmoe/source` export condition);
// onnxruntime-web is its wasm-only build (`onnxruntime-web/wasm`, the one execution provider the
// demo uses) with the runtime files left out of the bundle (`onnxruntime-web-use-extern-wasm`):
// they are served once, from /ort/ (copied by tools/copy-ort.mjs), never from a CDN.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: {
    conditions: [
      '@msmoe/source',
      'onnxruntime-web-use-extern-wasm',
      'browser',
      'import',
      'module',
      'default',
    ],
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
