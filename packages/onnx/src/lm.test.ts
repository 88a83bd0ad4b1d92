import { initBackend, maxAbsDiff, Rng } from '@msmoe/core';
import { loadSotu, Vocabulary } from '@msmoe/datasets';
import { type LmConfigInput, MoELanguageModel } from '@msmoe/models';
import * as tf from '@tensorflow/tfjs';
import { readMetadata } from './graph.js';
import { exportLanguageModel } from './lm.js';
import { type OrtTensor, runOrt } from './testing/ort.js';

beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

const base: LmConfigInput = {
  vocabSize: 37,
  dModel: 16,
  nHeads: 2,
  dInner: 24,
  architecture: 'sgsg',
  blockLength: 6,
  span: 6,
  dropout: 0,
  numExperts: 4,
  k: 2,
};

/** Zero caches for a batch (the start of every stream). */
function zeroCaches(model: MoELanguageModel, B: number): Record<string, OrtTensor> {
  const { span: S, dModel: d } = model.config;
  const out: Record<string, OrtTensor> = {};
  for (let i = 0; i < model.attentionLayers; i++)
    out[`cache_${i}`] = { type: 'float32', dims: [B, S, d], data: new Array(B * S * d).fill(0) };
  return out;
}

const cases: [string, Partial<LmConfigInput>][] = [
  ['SMoE (g), reference', { architecture: 'sgsg' }],
  [
    'MomentumSMoE (m) with learnable μ, reference',
    {
      architecture: 'smsm',
      rule: { rule: 'heavy-ball', mu: { init: 0.6, learnable: true }, gamma: 1.2 },
    },
  ],
  ['AdamSMoE (a), reference', { architecture: 'sasasa' }],
  ['Robust MomentumSMoE (r), reference', { architecture: 'srsr' }],
  ['MomentumSMoE (m), paper', { architecture: 'smsm', structure: 'paper' }],
  [
    'AdamSMoE (a), paper, bias correction',
    {
      architecture: 'sasa',
      structure: 'paper',
      rule: { rule: 'adam', biasCorrection: true, allLayers: true },
    },
  ],
  ['GLaM layout with a dense FFN', { architecture: 'smsf' }],
  ['RMSProp over depth', { architecture: 'sgsg', rule: { rule: 'rmsprop', beta: 0.8 } }],
  [
    'SAM around heavy-ball, paper',
    {
      architecture: 'sgsg',
      structure: 'paper',
      rule: { rule: 'sam', rho: 0.1, inner: { rule: 'heavy-ball', mu: 0.7, gamma: 1 } },
    },
  ],
];

describe.each(cases)('%s', (_name, over) => {
  it.each([1, 2])(
    'onnxruntime-web matches the tfjs forward to 1e-4 over two cached blocks (%i thread(s))',
    (threads) => {
      const model = new MoELanguageModel({ ...base, ...over }, new Rng(5));
      const bytes = exportLanguageModel(model);
      const B = 3;
      const M = 6;
      const rng = new Rng(9);
      const blocks = [0, 1].map(() => Int32Array.from({ length: B * M }, () => rng.int(37)));
      let caches = model.initialCaches(B);
      const ref: { logits: Float32Array; caches: Float32Array[] }[] = [];
      for (const tokens of blocks) {
        const out = tf.tidy(() => {
          const o = model.forward(tokens, B, caches);
          return { logits: o.logits.dataSync() as Float32Array, caches: o.caches };
        });
        ref.push({
          logits: out.logits,
          caches: out.caches.map((c) => c.dataSync() as Float32Array),
        });
        tf.dispose(caches);
        caches = out.caches;
      }
      tf.dispose(caches);
      const zeros = zeroCaches(model, B);
      const runs = blocks.map((tokens, i) => ({
        ...(i === 0 ? zeros : {}),
        tokens: { type: 'int64', dims: [B, M], data: Array.from(tokens) },
      }));
      const res = runOrt(bytes, threads, runs, true);
      res.forEach((r, i) => {
        expect(r.logits?.dims).toEqual([B, M, 37]);
        expect(
          maxAbsDiff(Float32Array.from(r.logits?.data ?? []), ref[i]?.logits as Float32Array),
        ).toBeLessThanOrEqual(1e-4);
        ref[i]?.caches.forEach((c, j) => {
          expect(
            maxAbsDiff(Float32Array.from(r[`next_cache_${j}`]?.data ?? []), c),
          ).toBeLessThanOrEqual(1e-4);
        });
      });
      model.dispose();
    },
    60_000,
  );
});

it('matches on real text: State of the Union tokens through a MomentumSMoE LM with a 500-word vocabulary', async () => {
  const sotu = await loadSotu();
  const vocab = Vocabulary.fromSplits(sotu, { maxSize: 500 });
  const stream = vocab.encode(sotu.test.slice(0, 20));
  const model = new MoELanguageModel(
    { ...base, vocabSize: vocab.size, architecture: 'smsm' },
    new Rng(2),
  );
  const B = 2;
  const M = 6;
  const tokens = stream.slice(0, B * M);
  const ref = tf.tidy(() => {
    const o = model.forward(tokens, B, model.initialCaches(B));
    tf.dispose(o.caches);
    return o.logits.dataSync() as Float32Array;
  });
  const zeros = zeroCaches(model, B);
  const [r] = runOrt(
    exportLanguageModel(model, { vocabulary: vocab.tokens }),
    1,
    [{ ...zeros, tokens: { type: 'int64', dims: [B, M], data: Array.from(tokens) } }],
    false,
  );
  expect(maxAbsDiff(Float32Array.from(r?.logits?.data ?? []), ref)).toBeLessThanOrEqual(1e-4);
  model.dispose();
}, 60_000);

it('stores the config, the rule coefficients and the vocabulary in metadata_props', () => {
  const model = new MoELanguageModel({ ...base, architecture: 'smsm' }, new Rng(1));
  const meta = readMetadata(exportLanguageModel(model, { vocabulary: ['a', 'b'] }));
  expect(meta['msmoe.kind']).toBe('lm');
  expect(JSON.parse(meta['msmoe.config'] as string).architecture).toBe('smsm');
  expect(JSON.parse(meta['msmoe.rule'] as string)).toMatchObject({
    rule: 'heavy-ball',
    mu: 0.7,
    gamma: 1,
  });
  expect(JSON.parse(meta.vocabulary as string)).toEqual(['a', 'b']);
  model.dispose();
});

it('outputs each token’s first-choice expert per MoE layer on request (routing displays)', () => {
  const model = new MoELanguageModel({ ...base, architecture: 'smsm' }, new Rng(3));
  const B = 2;
  const M = 6;
  const tokens = Int32Array.from({ length: B * M }, (_, i) => (i * 5) % 37);
  const ref = tf.tidy(() => {
    const o = model.forward(tokens, B, model.initialCaches(B));
    tf.dispose(o.caches);
    return o.routings.map((r) =>
      Array.from(
        (r as { expertIndexValues: Int32Array }).expertIndexValues.filter((_, j) => j % 2 === 0),
      ),
    );
  });
  const [r] = runOrt(exportLanguageModel(model, { routingOutputs: true }), 1, [
    { ...zeroCaches(model, B), tokens: { type: 'int64', dims: [B, M], data: Array.from(tokens) } },
  ]);
  expect([r?.top_expert_0?.data, r?.top_expert_1?.data].map((d) => (d ?? []).map(Number))).toEqual(
    ref,
  );
  model.dispose();
}, 60_000);
