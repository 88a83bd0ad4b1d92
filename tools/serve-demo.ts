// npm run demo: serves apps/demo/dist on http://127.0.0.1:5173/ (tsx tools/serve-demo.ts [folder] [port]).
import { serve } from './serve-static.js';

const [folder = 'apps/demo/dist', port = '5173'] = process.argv.slice(2);
const { url } = await serve(folder, Number(port));
console.log(`demo: ${url} (Ctrl-C to stop)`);
