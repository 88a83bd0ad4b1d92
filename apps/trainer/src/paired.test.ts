// The paired design of a compare: variants on the same seed start from the same weights, see the
// same batches in the same order and draw the same dropout masks, so their per-seed difference
// measures the rule and nothing else.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@msmoe/core';
import type { MoEVisionTransformer } from '@msmoe/models';
import { VisionTask } from '@msmoe/training';
import { parseRuleFlag, parseRunConfig, type RunConfig } from './config.js';
import { loadTaskData } from './data.js';
import { createReporter } from './progress.js';
import { buildModel, trainRun } from './run.js';

const out = mkdtempSync(join(tmpdir(), 'msmoe-paired-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

const lm = (rule: string, structure = 'reference'): RunConfig =>
  parseRunConfig({
    task: 'sotu',
    seed: 3,
    batchSize: 4,
    data: { vocabSize: 300 },
    model: {
      preset: 'tiny',
      rule: parseRuleFlag(rule),
      overrides: { dModel: 16, dInner: 16, blockLength: 8, span: 8, dropout: 0.3, structure },
    },
    train: { steps: 4, lr: 3e-3, warmup: 0 },
    eval: { every: 0, blocks: 1, finalBlocks: 1, batchSize: 4 },
  });

/** Every weight the variants share by name has the same values; the others belong to the rule. */
function expectSharedWeightsEqual(
  base: Record<string, { dataSync(): ArrayLike<number> }>,
  other: Record<string, { dataSync(): ArrayLike<number> }>,
): string[] {
  const shared = Object.keys(base).filter((n) => n in other);
  expect(shared.length).toBe(Object.keys(base).length);
  for (const n of shared)
    expect(Array.from(other[n]?.dataSync() ?? [])).toEqual(Array.from(base[n]?.dataSync() ?? []));
  return Object.keys(other).filter((n) => !(n in base));
}

describe('paired variants', () => {
  it('LM: every rule on the same seed starts from the same weights (extras are the rule’s own)', async () => {
    const data = await loadTaskData(lm('g'), join(out, '.cache'));
    const base = buildModel(lm('g'), data).variables();
    for (const rule of ['m', 'a', 'r', 'sam', 'nesterov', 'rmsprop']) {
      const extra = expectSharedWeightsEqual(base, buildModel(lm(rule), data).variables());
      // A rule adds only its learnable coefficients and the reference structure's LayerNorms.
      for (const n of extra) expect(n).toMatch(/^rule\.|norm|ln/i);
    }
    // A different seed is a different start (the test above can fail).
    const other = buildModel({ ...lm('g'), seed: 4 }, data).variables();
    const name = Object.keys(base)[0] as string;
    expect(Array.from(other[name]?.dataSync() ?? [])).not.toEqual(
      Array.from(base[name]?.dataSync() ?? []),
    );
  }, 120_000);

  it('ViT: the same weights and the same batches, in the same order, for every rule', async () => {
    const vit = (rule: string) =>
      parseRunConfig({
        task: 'mnist',
        seed: 5,
        batchSize: 8,
        model: { preset: 'mnist-tiny', rule: parseRuleFlag(rule) },
      });
    const data = await loadTaskData(vit('g'), join(out, '.cache'));
    if (data.kind !== 'image') throw new Error('image data expected');
    const g = buildModel(vit('g'), data) as MoEVisionTransformer;
    const batches = (model: MoEVisionTransformer) => {
      const task = new VisionTask(model, data.dataset.train, 8, 5);
      return [0, 1, 7, 8, 9].map((p) => task.batchAt(p));
    };
    const ref = batches(g);
    for (const rule of ['m', 'r', 'sam']) {
      const model = buildModel(vit(rule), data) as MoEVisionTransformer;
      expectSharedWeightsEqual(g.variables(), model.variables());
      expect(batches(model)).toEqual(ref);
    }
  }, 120_000);

  it('same batches and dropout masks: heavy ball with μ = 0, γ = 1 trains exactly as SMoE, step by step', async () => {
    const losses = async (rule: string, name: string) => {
      // The paper's structure: there μ = 0, γ = 1 is the residual step exactly (the authors'
      // reference structure composes SMoE and momentum blocks differently).
      const r = await trainRun(lm(rule, 'paper'), {
        out,
        name,
        reporter: createReporter(true),
        cacheDir: join(out, '.cache'),
      });
      expect(r.stopped).toBe(false);
      return readFileSync(join(r.dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((m) => m.kind === 'step')
        .map((m) => m.loss as number);
    };
    const smoe = await losses('g', 'g');
    const zero = await losses('{"rule":"heavy-ball","mu":0,"gamma":1}', 'm0');
    const momentum = await losses('m', 'm');
    expect(smoe).toHaveLength(4);
    // Dropout 0.3 everywhere: only identical masks and batches give identical losses.
    for (const [i, l] of smoe.entries()) expect(zero[i]).toBeCloseTo(l, 5);
    // The momentum rule (μ 0.7) does change the curve after the first step.
    expect(momentum.slice(1).some((l, i) => Math.abs(l - (smoe[i + 1] as number)) > 1e-4)).toBe(
      true,
    );
  }, 180_000);
});
