import { initBackend, maxAbsDiff, Rng } from '@msmoe/core';
import { MoEVisionTransformer, parseVitConfig, type VitConfigInput } from '@msmoe/models';
import { RULES } from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import { readMetadata } from './graph.js';
import { type OrtOut, runOrt, runOrtJobs } from './testing/ort.js';
import { exportVisionTransformer } from './vit.js';

beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

const base: VitConfigInput = {
  imageHeight: 8,
  imageWidth: 8,
  channels: 3,
  patchSize: 4,
  dModel: 16,
  nHeads: 2,
  depth: 4,
  mlpDim: 24,
  numClasses: 5,
  numExperts: 4,
  k: 2,
};

/** Every rule of the registry in both ViT structures with V-MoE routing, plus Soft MoE. */
const cases: [string, Partial<VitConfigInput>][] = [
  ...RULES.flatMap((r) =>
    (['paper', 'reference-vmoe'] as const).map((structure): [string, Partial<VitConfigInput>] => [
      `ViT-MoE, ${r.name}, ${structure}`,
      { moe: 'vmoe', rule: r.name, structure },
    ]),
  ),
  [
    'ViT-MoE, robust with a large look-ahead (κ 4, ρ 0.6), reference-vmoe',
    { moe: 'vmoe', rule: { rule: 'robust', kappa: 4, rho: 0.6 }, structure: 'reference-vmoe' },
  ],
  ['Soft-MoE ViT, residual', { moe: 'soft', slotsPerExpert: 2 }],
  ['Soft-MoE ViT, heavy-ball', { moe: 'soft', rule: { rule: 'heavy-ball', mu: 0.7, gamma: 1 } }],
  ['Soft-MoE ViT, SAM, reference-vmoe', { moe: 'soft', rule: 'sam', structure: 'reference-vmoe' }],
];

const stats = { mean: [120, 110, 100], std: [60, 50, 40] };
const B = 5;
const prepared = cases.map(([, over]) => {
  const model = new MoEVisionTransformer(parseVitConfig({ ...base, ...over }), new Rng(3));
  const bytes = exportVisionTransformer(model, {
    normalization: stats,
    classes: ['a', 'b', 'c', 'd', 'e'],
  });
  const rng = new Rng(4);
  const raw = Float32Array.from({ length: B * 8 * 8 * 3 }, () => rng.int(256));
  const normed = raw.map(
    (v, i) => (v - (stats.mean[i % 3] as number)) / (stats.std[i % 3] as number),
  );
  const ref = tf.tidy(() => model.forward(normed, B).logits.dataSync() as Float32Array);
  model.dispose();
  const runs = [{ images: { type: 'float32', dims: [B, 8, 8, 3], data: Array.from(raw) } }];
  return { ref, job: { bytes, runs } };
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
    '%s: matches the tfjs forward to 1e-4 on raw pixels normalised in the graph',
    (_name, i) => {
      const r = results[i]![0]!;
      expect(r.logits?.dims).toEqual([B, 5]);
      expect(
        maxAbsDiff(Float32Array.from(r.logits?.data ?? []), prepared[i]!.ref),
      ).toBeLessThanOrEqual(1e-4);
    },
  );
});

it('keeps the kind, config, normalisation and classes in metadata_props', () => {
  const model = new MoEVisionTransformer(parseVitConfig({ ...base, moe: 'soft' }), new Rng(1));
  const meta = readMetadata(
    exportVisionTransformer(model, {
      normalization: { mean: [1, 2, 3], std: [4, 5, 6] },
      classes: ['x'],
    }),
  );
  expect(meta['msmoe.kind']).toBe('soft-moe-vit');
  expect(JSON.parse(meta.normalization as string).std).toEqual([4, 5, 6]);
  expect(JSON.parse(meta.classes as string)).toEqual(['x']);
  model.dispose();
});

it('matches on real digits: MNIST test images through the mnist-tiny MomentumV-MoE preset', async () => {
  const { loadMnist, channelStats } = await import('@msmoe/datasets');
  const { vitPresetConfig } = await import('@msmoe/models');
  const mnist = await loadMnist();
  const model = new MoEVisionTransformer(
    parseVitConfig(
      vitPresetConfig('mnist-tiny', 10, 'vmoe', {
        rule: { rule: 'heavy-ball', mu: 0.7, gamma: 1 },
      }),
    ),
    new Rng(8),
  );
  const stats = channelStats(mnist.train);
  const B = 6;
  const raw = mnist.test.images.slice(0, B * 784);
  const normed = raw.map((v) => (v - (stats.mean[0] as number)) / (stats.std[0] as number));
  const ref = tf.tidy(() => model.forward(normed, B).logits.dataSync() as Float32Array);
  const [r] = runOrt(exportVisionTransformer(model, { normalization: stats }), 1, [
    { images: { type: 'float32', dims: [B, 28, 28, 1], data: Array.from(raw) } },
  ]);
  expect(maxAbsDiff(Float32Array.from(r?.logits?.data ?? []), ref)).toBeLessThanOrEqual(1e-4);
  model.dispose();
}, 60_000);
