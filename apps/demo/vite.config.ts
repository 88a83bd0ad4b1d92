import { defineConfig } from 'vite';

// Workspace packages resolve to their TypeScript sources (the `@msmoe/source` export condition);
// onnxruntime-web's wasm files are served from /ort/ (copied by tools/copy-ort.mjs), never a CDN.
export default defineConfig({
  root: __dirname,
  base: './',
  resolve: { conditions: ['@msmoe/source', 'browser', 'import', 'module', 'default'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
