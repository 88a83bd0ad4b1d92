// npm run bench:onnx [-- --quick] — the exported `tiny` LM in onnxruntime-web (Node, wasm, 1 and 2
// threads) against the tfjs forward on wasm: tokens/s of the forward (batch 8 × block 32, caches
// carried), and the parity (max |Δ logits|) of every LM rule. Writes bench/results/onnx.json.
import { parseArgs } from 'node:util';
import { initBackend, maxAbsDiff, Rng } from '@msmoe/core';
import { loadSotu, Vocabulary } from '@msmoe/datasets';
import { MoELanguageModel, parseLmConfig, presetConfig } from '@msmoe/models';
import { exportLanguageModel } from '@msmoe/onnx';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { printTable, writeResults } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    vocab: { type: 'string', default: '10000' },
  },
});
const REPS = values.quick ? 3 : 10;
const B = 8;

await initBackend({ prefer: 'wasm', fallback: false });
const sotu = await loadSotu();
const vocab = Vocabulary.fromSplits(sotu, { maxSize: Number(values.vocab) });
const stream = vocab.encode(sotu.test);
const cases: { model: string; runtime: string; threads: number; tokensPerSec: number }[] = [];
const parity: { model: string; rule: string; maxAbs: number }[] = [];

for (const [letter, rule] of [
  ['g', 'residual'],
  ['m', 'heavy-ball'],
  ['a', 'adam'],
  ['r', 'robust'],
] as const) {
  const model = new MoELanguageModel(
    parseLmConfig({ ...presetConfig('tiny', vocab.size, letter), dropout: 0 }),
    new Rng(0),
  );
  const M = model.config.blockLength;
  const S = model.config.span;
  const d = model.config.dModel;
  const bytes = exportLanguageModel(model);
  const blocks = Array.from({ length: REPS + 1 }, (_, i) =>
    stream.slice(i * B * M, (i + 1) * B * M),
  );
  // tfjs forward on wasm, caches carried.
  let caches = model.initialCaches(B);
  const tfLogits: Float32Array[] = [];
  let tfMs = 0;
  blocks.forEach((tokens, i) => {
    const t0 = performance.now();
    // Read the logits outside tf.tidy: tidy walks every element of a returned typed array.
    const out = tf.tidy(() => {
      const o = model.forward(tokens, B, caches);
      return { logits: o.logits, caches: o.caches };
    });
    const logits = out.logits.dataSync() as Float32Array;
    out.logits.dispose();
    if (i > 0) tfMs += performance.now() - t0;
    tfLogits.push(logits);
    tf.dispose(caches);
    caches = out.caches;
  });
  tf.dispose(caches);
  if (letter === 'g')
    cases.push({
      model: 'lm tiny',
      runtime: 'tfjs wasm',
      threads: 1,
      tokensPerSec: (REPS * B * M) / (tfMs / 1000),
    });
  for (const threads of [1, 2]) {
    ort.env.wasm.numThreads = threads;
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    let feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < model.attentionLayers; i++)
      feeds[`cache_${i}`] = new ort.Tensor('float32', new Float32Array(B * S * d), [B, S, d]);
    let ms = 0;
    let maxAbs = 0;
    for (const [i, tokens] of blocks.entries()) {
      const t0 = performance.now();
      const res = await session.run({
        ...feeds,
        tokens: new ort.Tensor(
          'int64',
          BigInt64Array.from(tokens, (t) => BigInt(t)),
          [B, M],
        ),
      });
      if (i > 0) ms += performance.now() - t0;
      maxAbs = Math.max(
        maxAbs,
        maxAbsDiff(res.logits?.data as Float32Array, tfLogits[i] as Float32Array),
      );
      feeds = {};
      for (let j = 0; j < model.attentionLayers; j++)
        feeds[`cache_${j}`] = res[`next_cache_${j}`] as ort.Tensor;
    }
    await session.release();
    if (letter === 'g')
      cases.push({
        model: 'lm tiny',
        runtime: 'onnxruntime-web',
        threads,
        tokensPerSec: (REPS * B * M) / (ms / 1000),
      });
    if (threads === 1) parity.push({ model: 'lm tiny', rule, maxAbs });
    else parity.push({ model: 'lm tiny (2 threads)', rule, maxAbs });
  }
  model.dispose();
}

printTable(
  `Forward throughput, tiny LM, batch ${B} × 32 tokens, vocabulary ${vocab.size} (SOTU test text)`,
  cases,
  ['model', 'runtime', 'threads', 'tokensPerSec'],
);
printTable('Parity: max |logits(onnxruntime-web) − logits(tfjs)| over the blocks', parity, [
  'model',
  'rule',
  'maxAbs',
]);
writeResults('onnx', { vocabulary: vocab.size, batch: B, cases, parity });
