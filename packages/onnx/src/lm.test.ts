import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, maxAbsDiff, Rng } from '@msmoe/core';
import { loadSotu, Vocabulary } from '@msmoe/datasets';
import { type LmConfigInput, MoELanguageModel, parseLmConfig } from '@msmoe/models';
import { parseRuleConfig, RULE_NAMES, RULES, ruleLabel, ruleLetter } from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { readMetadata } from './graph.js';
import { exportLanguageModel } from './lm.js';
import { OnnxExportError } from './ops.js';
import { type OrtOut, type OrtTensor, runOrt, runOrtJobs } from './testing/ort.js';

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

/** Every rule of the registry in both structures, plus the options that change the graph. */
const cases: [string, Partial<LmConfigInput>][] = [
  ...RULES.flatMap((r) =>
    (['reference', 'paper'] as const).map((structure): [string, Partial<LmConfigInput>] => {
      const rule = parseRuleConfig(r.name);
      return [
        `${ruleLabel(rule)} (${r.name}), ${structure}`,
        { architecture: `s${ruleLetter(rule)}s${ruleLetter(rule)}`, rule, structure },
      ];
    }),
  ),
  [
    'MomentumSMoE with learnable μ, reference',
    {
      architecture: 'smsm',
      rule: { rule: 'heavy-ball', mu: { init: 0.6, learnable: true }, gamma: 1.2 },
    },
  ],
  ['AdamSMoE over three MoE layers, reference', { architecture: 'sasasa' }],
  [
    'AdamSMoE with the layer-0 quirk, reference',
    { architecture: 'sasa', rule: { rule: 'adam', layer0Quirk: true } },
  ],
  [
    'AdamSMoE, paper, bias correction',
    {
      architecture: 'sasa',
      structure: 'paper',
      rule: { rule: 'adam', biasCorrection: true, allLayers: true },
    },
  ],
  [
    'robust momentum with a large look-ahead (κ 4, ρ 0.6), reference',
    { architecture: 'srsr', rule: { rule: 'robust', kappa: 4, rho: 0.6 } },
  ],
  [
    'SAM around Nesterov (shifts compose), reference',
    { architecture: 'snsn', rule: { rule: 'sam', rho: 0.1, inner: { rule: 'nesterov' } } },
  ],
  ['GLaM layout with a dense FFN', { architecture: 'smsf' }],
  [
    'a configured router: softmax then top-2 (not renormalised), no bias, dropless capacity',
    {
      architecture: 'smsm',
      router: {
        scoring: 'softmax-then-topk',
        renormalize: false,
        bias: false,
        capacityFactor: { train: 1, eval: 0.5 },
        dropless: true,
      },
    },
  ],
];

const B = 3;
const M = 6;
/** Per case: the tfjs reference over two cached blocks, and the ONNX job. */
const prepared = cases.map(([, over]) => {
  const model = new MoELanguageModel(parseLmConfig({ ...base, ...over }), new Rng(5));
  const bytes = exportLanguageModel(model);
  const rng = new Rng(9);
  const blocks = [0, 1].map(() => Int32Array.from({ length: B * M }, () => rng.int(37)));
  let caches = model.initialCaches(B);
  const ref: { logits: Float32Array; caches: Float32Array[] }[] = [];
  for (const tokens of blocks) {
    const out = tf.tidy(() => {
      const o = model.forward(tokens, B, caches);
      return { logits: o.logits.dataSync() as Float32Array, caches: o.caches };
    });
    ref.push({ logits: out.logits, caches: out.caches.map((c) => c.dataSync() as Float32Array) });
    tf.dispose(caches);
    caches = out.caches;
  }
  tf.dispose(caches);
  const zeros = zeroCaches(model, B);
  model.dispose();
  const runs = blocks.map((tokens, i) => ({
    ...(i === 0 ? zeros : {}),
    tokens: { type: 'int64', dims: [B, M], data: Array.from(tokens) },
  }));
  return { ref, job: { bytes, runs, chain: true } };
});

describe.each([1, 2])('onnxruntime-web with %i thread(s)', (threads) => {
  let results: OrtOut[][] = [];
  beforeAll(() => {
    results = runOrtJobs(
      threads,
      prepared.map((p) => p.job),
    );
  }, 120_000);
  it.each(cases.map(([name], i) => [name, i] as const))(
    '%s: matches the tfjs forward to 1e-4 over two cached blocks',
    (_name, i) => {
      const { ref } = prepared[i]!;
      results[i]!.forEach((r, b) => {
        expect(r.logits?.dims).toEqual([B, M, 37]);
        expect(
          maxAbsDiff(Float32Array.from(r.logits?.data ?? []), ref[b]?.logits as Float32Array),
        ).toBeLessThanOrEqual(1e-4);
        ref[b]?.caches.forEach((c, j) => {
          expect(
            maxAbsDiff(Float32Array.from(r[`next_cache_${j}`]?.data ?? []), c),
          ).toBeLessThanOrEqual(1e-4);
        });
      });
    },
  );
});

it('the exporter keeps no rule maths of its own: rule arithmetic comes from the registry', () => {
  const sources = readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(__dirname, f), 'utf8'))
    .join('\n');
  // Rule names (as strings), coefficients and state names appear nowhere in the exporter.
  for (const word of [...RULE_NAMES.map((n) => `'${n}'`), '.mu', 'gamma', 'beta1', 'kappa', 'rho'])
    expect(sources).not.toContain(word);
  expect(sources).not.toMatch(/ruleStep|referenceSign|layer0Quirk/);
});

it('matches on real text: State of the Union tokens through a MomentumSMoE LM with a 500-word vocabulary', async () => {
  const sotu = await loadSotu();
  const vocab = Vocabulary.fromSplits(sotu, { maxSize: 500 });
  const stream = vocab.encode(sotu.test.slice(0, 20));
  const model = new MoELanguageModel(
    parseLmConfig({ ...base, vocabSize: vocab.size, architecture: 'smsm' }),
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

it('refuses a router the graph cannot represent, naming the layer', () => {
  const refusals: [LmConfigInput['router'], RegExp][] = [
    [{ type: 'expert-choice' }, /layers\.1\.moe: the expert-choice router is not exportable/],
    [{ capacityFactor: { train: 1, eval: 1 } }, /layers\.1\.moe: evaluation capacity 1·k\/E < 1/],
  ];
  for (const [router, message] of refusals) {
    const model = new MoELanguageModel(parseLmConfig({ ...base, router }), new Rng(1));
    expect(() => exportLanguageModel(model)).toThrow(OnnxExportError);
    expect(() => exportLanguageModel(model)).toThrow(message);
    model.dispose();
  }
});

it('adds a weight once however often the graph reads it (SAM evaluates each MoE block twice)', () => {
  const rule = { rule: 'sam', inner: { rule: 'heavy-ball' } } as const;
  const model = new MoELanguageModel(
    parseLmConfig({ ...base, architecture: 'smsm', structure: 'paper', rule }),
    new Rng(1),
  );
  const graph = onnxProto.onnx.ModelProto.decode(exportLanguageModel(model)).graph;
  const names = (graph?.initializer ?? []).map((t) => t.name);
  expect(names).toContain('layers.1.ln.weight');
  expect(new Set(names).size).toBe(names.length);
  model.dispose();
});

it('stores the config, the rule coefficients and the vocabulary in metadata_props', () => {
  const model = new MoELanguageModel(parseLmConfig({ ...base, architecture: 'smsm' }), new Rng(1));
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
  const model = new MoELanguageModel(parseLmConfig({ ...base, architecture: 'smsm' }), new Rng(3));
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
