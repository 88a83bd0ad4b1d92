// Runs ONNX models in onnxruntime-web (Node, wasm) outside Jest's VM (which cannot load its wasm
// glue): node ort-run.mjs <request.json> → prints, per job, per run, {name: {dims, data}}.
// request: {threads, jobs: [{model: path, runs: [{name: {type, dims, data}}], chain}]}; with
// `chain`, outputs of run r named next_cache_<i> feed cache_<i> of run r + 1. One process serves
// many models (the thread count is fixed per process: onnxruntime reads it at start-up).
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

const req = JSON.parse(readFileSync(process.argv[2], 'utf8'));
ort.env.wasm.numThreads = req.threads ?? 1;
const all = [];
for (const job of req.jobs) {
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(job.model)), {
    executionProviders: ['wasm'],
  });
  const results = [];
  let carry = {};
  for (const run of job.runs) {
    const feeds = {};
    for (const [name, t] of Object.entries(run)) {
      feeds[name] =
        t.type === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from(t.data.map(BigInt)), t.dims)
          : new ort.Tensor(t.type, Float32Array.from(t.data), t.dims);
    }
    Object.assign(feeds, carry);
    const out = await session.run(feeds);
    const json = {};
    carry = {};
    for (const [name, t] of Object.entries(out)) {
      json[name] = { dims: t.dims, data: Array.from(t.data, Number) };
      if (job.chain && name.startsWith('next_cache_')) carry[name.replace('next_', '')] = t;
    }
    results.push(json);
  }
  await session.release();
  all.push(results);
}
process.stdout.write(JSON.stringify(all));
