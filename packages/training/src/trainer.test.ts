import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, initBackend, Rng } from '@msmoe/core';
import { MoELanguageModel, parseLmConfig } from '@msmoe/models';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, CheckpointStore, disposeCheckpoint } from './checkpoint.js';
import { evaluateLm } from './evaluate.js';
import type { AnomalyEvent, StepEvent } from './events.js';
import type { TrainTask } from './task.js';
import { LmTask } from './tasks.js';
import { patternStream, smallLm, V } from './testing/fixture.js';
import { type TrainConfigInput, Trainer, TrainingDivergedError } from './trainer.js';

// Exact resume is asserted on the cpu backend (its kernels are deterministic and sequential).
beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

const config = smallLm;
const stream = patternStream;
const data = stream(4 * 8 * 12 + 1, 3); // 12 blocks per epoch at B = 4: resume crosses epochs

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'msmoe-train-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(
  over: Partial<TrainConfigInput> = {},
  initSeed = 1,
  wrap?: (t: TrainTask) => TrainTask,
  evaluate?: (model: MoELanguageModel) => Record<string, number>,
) {
  const model = new MoELanguageModel(parseLmConfig(config), new Rng(initSeed));
  const task = new LmTask(model, data, 4);
  const trainer = new Trainer(
    wrap ? wrap(task) : task,
    { steps: 100, lr: 3e-3, warmup: 10, checkpointEvery: 20, keepCheckpoints: 2, seed: 7, ...over },
    { checkpoints: dir, ...(evaluate ? { evaluate: () => evaluate(model) } : {}) },
  );
  return { model, task, trainer };
}

/** A task whose loss at data position p is multiplied by `factor(p)` (NaN or a blow-up). */
const scaleLoss =
  (factor: (position: number) => number) =>
  (t: TrainTask): TrainTask => ({
    ...t,
    kind: t.kind,
    variables: () => t.variables(),
    getState: () => t.getState(),
    setState: (s) => t.setState(s),
    dispose: () => t.dispose(),
    loss: (p, rng, report) => {
      const l = t.loss(p, rng, report);
      const f = factor(p);
      return f === 1 ? l : (tf.mul(l, f) as tf.Scalar);
    },
  });

function losses(trainer: Trainer): Map<number, number> {
  const out = new Map<number, number>();
  trainer.on('step', (e) => out.set(e.step, e.loss));
  return out;
}

describe('Trainer', () => {
  it('resumes exactly: stopped at step 60 and resumed reaches the loss of an uninterrupted run at step 100', async () => {
    const a = setup();
    const la = losses(a.trainer);
    const full = await a.trainer.run();
    expect(full.step).toBe(100);
    a.trainer.dispose();
    a.model.dispose();
    await rm(dir, { recursive: true, force: true });

    const b = setup();
    const stop = new AbortController();
    b.trainer.on('step', (e) => {
      if (e.step === 60) stop.abort();
    });
    const first = await b.trainer.run({ signal: stop.signal });
    expect(first).toMatchObject({ step: 60, stopped: true });
    b.trainer.dispose();
    b.model.dispose();
    // A fresh process: other initial weights, everything must come from the checkpoint.
    const c = setup({}, 99);
    expect(await c.trainer.restore()).toBe(60);
    const lc = losses(c.trainer);
    const rest = await c.trainer.run();
    expect(rest).toMatchObject({ step: 100, stopped: false, position: 100 });
    const diff = Math.abs((lc.get(100) as number) - (la.get(100) as number));
    console.log(
      `loss at step 100: uninterrupted ${la.get(100)}, resumed ${lc.get(100)}, |Δ| ${diff}`,
    );
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(la.get(100)).toBeLessThan((la.get(1) as number) * 0.8);
    // Only the last K = 2 checkpoints are kept.
    expect((await c.trainer.store?.list())?.map((x) => x.step)).toEqual([100, 80]);
    c.trainer.dispose();
    c.model.dispose();
  }, 120_000);

  it('a truncated checkpoint gives a clear error and the previous one is used', async () => {
    const a = setup({ steps: 40 });
    await a.trainer.run();
    a.trainer.dispose();
    a.model.dispose();
    const store = new CheckpointStore(dir, 2);
    const [latest] = await store.list();
    expect(latest?.step).toBe(40);
    const bytes = await readFile(latest?.path as string);
    await truncate(latest?.path as string, Math.floor(bytes.length / 2));
    await expect(CheckpointStore.load(latest?.path as string)).rejects.toThrow(CheckpointError);
    await expect(CheckpointStore.load(latest?.path as string)).rejects.toThrow(
      /step-00000040\.safetensors is unreadable/,
    );
    const b = setup({ steps: 40 }, 5);
    const anomalies: AnomalyEvent[] = [];
    b.trainer.on('anomaly', (e) => anomalies.push(e));
    expect(await b.trainer.restore()).toBe(20);
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]?.kind).toBe('bad-checkpoint');
    expect(anomalies[0]?.message).toMatch(/step-00000040.*using the previous checkpoint/);
    // A flipped byte in the tensor data is caught by the checksum.
    const prev = (await store.list())[1]?.path as string;
    const raw = await readFile(prev);
    raw.writeUInt8((raw[raw.length - 3] as number) ^ 0xff, raw.length - 3);
    await writeFile(prev, raw);
    await expect(CheckpointStore.load(prev)).rejects.toThrow(/checksum mismatch/);
    b.trainer.dispose();
    b.model.dispose();
  }, 60_000);

  it('a checkpoint with any header byte flipped, an edited position or torn metadata is refused, and the previous one is used', async () => {
    const a = setup({ steps: 40 });
    await a.trainer.run();
    a.trainer.dispose();
    a.model.dispose();
    const store = new CheckpointStore(dir, 2);
    const [latest, previous] = await store.list();
    const path = latest?.path as string;
    const good = await readFile(path);
    const headerEnd = 8 + Number(good.readBigUInt64LE(0));
    // Every byte of the header: its length, the tensor table, the metadata, the checksum.
    for (let i = 0; i < headerEnd; i++) {
      const bad = Buffer.from(good);
      bad.writeUInt8((bad[i] as number) ^ 0xff, i);
      await writeFile(path, bad);
      await expect(CheckpointStore.verify(path)).rejects.toThrow(CheckpointError);
    }
    // A well-formed edit of the data position (valid JSON, same length) fails the checksum.
    const edited = Buffer.from(
      good.toString('latin1').replace('\\"position\\":40', '\\"position\\":41'),
      'latin1',
    );
    expect(edited.equals(good)).toBe(false);
    await writeFile(path, edited);
    await expect(CheckpointStore.load(path)).rejects.toThrow(/checksum mismatch/);
    // Metadata that is not JSON (same length, so the file still parses) is a defect of the file.
    const torn = Buffer.from(
      good.toString('latin1').replace('\\"step\\":40', '\\"step\\":4{'),
      'latin1',
    );
    await writeFile(path, torn);
    await expect(CheckpointStore.load(path)).rejects.toThrow(CheckpointError);
    const b = setup({ steps: 40 }, 5);
    const anomalies: AnomalyEvent[] = [];
    b.trainer.on('anomaly', (e) => anomalies.push(e));
    expect(await b.trainer.restore()).toBe(previous?.step);
    expect(anomalies.map((x) => x.kind)).toEqual(['bad-checkpoint']);
    b.trainer.dispose();
    b.model.dispose();
  }, 120_000);

  it('a corrupt checkpoint never takes a retention slot; temp files of interrupted writes are removed', async () => {
    const a = setup({ steps: 60, checkpointEvery: 20, keepCheckpoints: 2 });
    await a.trainer.run({
      signal: (() => {
        const c = new AbortController();
        a.trainer.on('step', (e) => {
          if (e.step === 40) c.abort();
        });
        return c.signal;
      })(),
    });
    a.trainer.dispose();
    a.model.dispose();
    const store = new CheckpointStore(dir, 2);
    const invalid: string[] = [];
    store.onInvalid = (p) => invalid.push(p);
    expect((await store.list()).map((x) => x.step)).toEqual([40, 20]);
    // The newest is corrupted; then a newer checkpoint is written.
    const newest = store.pathOf(40);
    const raw = await readFile(newest);
    raw.writeUInt8((raw[raw.length - 5] as number) ^ 0xff, raw.length - 5);
    await writeFile(newest, raw);
    const content = await CheckpointStore.load(store.pathOf(20));
    await store.save({ ...content, step: 60 });
    disposeCheckpoint(content);
    // Kept: the two newest good ones (60, 20); the corrupt 40 set aside and reported, not counted.
    expect((await store.list()).map((x) => x.step)).toEqual([60, 20]);
    expect(invalid).toEqual([newest]);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual([
      'step-00000020.safetensors',
      'step-00000040.safetensors.corrupt',
      'step-00000060.safetensors',
    ]);
    // A temp file left by a write that a crash interrupted is removed (and said) on restore.
    await writeFile(join(dir, '.step-00000080.safetensors.tmp-1-x-y'), 'partial');
    const b = setup({ steps: 60, checkpointEvery: 20, keepCheckpoints: 2 }, 5);
    const anomalies: AnomalyEvent[] = [];
    b.trainer.on('anomaly', (e) => anomalies.push(e));
    expect(await b.trainer.restore()).toBe(60);
    expect(anomalies.map((x) => x.kind)).toEqual(['orphan-removed']);
    expect((await readdir(dir)).some((n) => n.includes('.tmp-'))).toBe(false);
    b.trainer.dispose();
    b.model.dispose();
  }, 120_000);

  it('checkpoints after every periodic evaluation and when the time since the last one is up, with checkpointEvery off', async () => {
    const saved = async (
      over: Partial<TrainConfigInput>,
      evaluate?: () => Record<string, number>,
    ) => {
      await rm(dir, { recursive: true, force: true });
      const { model, trainer } = setup(
        { steps: 12, checkpointEvery: 0, keepCheckpoints: 20, ...over },
        1,
        undefined,
        evaluate,
      );
      const steps: number[] = [];
      trainer.on('checkpoint', (e) => steps.push(e.step));
      await trainer.run();
      trainer.dispose();
      model.dispose();
      return steps;
    };
    // At every evaluation (5, 10) and at the end (12); nothing else.
    expect(await saved({ evalEvery: 5, checkpointMinutes: 0 }, () => ({ x: 1 }))).toEqual([
      5, 10, 12,
    ]);
    // Off: only the final one.
    expect(
      await saved({ evalEvery: 5, checkpointMinutes: 0, checkpointAtEval: false }, () => ({
        x: 1,
      })),
    ).toEqual([12]);
    // Time-based: a 1 ms period checkpoints after every step.
    expect(await saved({ checkpointMinutes: 1 / 60_000 })).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  }, 120_000);

  it('a finite loss far above its running median is divergence: skipped, rolled back, then the run fails', async () => {
    const { model, trainer } = setup(
      { steps: 80, checkpointEvery: 10, maxRollbacks: 1 },
      1,
      scaleLoss((p) => (p >= 25 ? 1e6 : 1)),
    );
    const anomalies: AnomalyEvent[] = [];
    trainer.on('anomaly', (e) => anomalies.push(e));
    await expect(trainer.run()).rejects.toThrow(TrainingDivergedError);
    expect(anomalies[0]).toMatchObject({ kind: 'diverged', step: 25 });
    expect(anomalies[0]?.message).toMatch(/over 10× its running median/);
    expect(anomalies.map((x) => x.kind)).toContain('rollback');
    // No divergent update reached the weights.
    for (const v of Object.values(model.variables()))
      expect(tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0])).toBe(1);
    trainer.dispose();
    model.dispose();
  }, 60_000);

  it('skips a step with a non-finite loss, logs it, and rolls back when they repeat', async () => {
    const poisoned = new Set([7, 30, 31, 32]);
    const { model, trainer } = setup(
      { steps: 40, checkpointEvery: 10 },
      1,
      scaleLoss((p) => (poisoned.has(p) ? Number.NaN : 1)),
    );
    const anomalies: AnomalyEvent[] = [];
    trainer.on('anomaly', (e) => anomalies.push(e));
    const steps: StepEvent[] = [];
    trainer.on('step', (e) => steps.push(e));
    const result = await trainer.run();
    expect(result.step).toBe(40);
    expect(result.skipped).toBe(4);
    expect(result.rollbacks).toBe(1);
    expect(anomalies.map((a) => a.kind)).toEqual([
      'non-finite',
      'non-finite',
      'non-finite',
      'non-finite',
      'rollback',
    ]);
    expect(anomalies[0]?.message).toMatch(/non-finite loss at data position 7: update 8 skipped/);
    expect(anomalies[4]?.message).toMatch(/rolled back to the checkpoint of step 20/);
    expect(steps.filter((s) => s.skipped)).toHaveLength(4);
    for (const v of Object.values(model.variables()))
      expect(tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0])).toBe(1);
    trainer.dispose();
    model.dispose();
  }, 60_000);

  it('evaluates on its schedule and keeps the evaluations in the checkpoint', async () => {
    const valid = stream(4 * 8 * 3 + 1, 8);
    const { model, trainer } = setup(
      { steps: 20, evalEvery: 10, checkpointEvery: 10 },
      1,
      undefined,
      (m) => ({ perplexity: evaluateLm(m, valid, { batchSize: 4 }).perplexity }),
    );
    const result = await trainer.run();
    expect(result.evals.map((e) => e.step)).toEqual([10, 20]);
    expect(result.evals[1]?.metrics.perplexity).toBeLessThan(
      result.evals[0]?.metrics.perplexity as number,
    );
    const again = setup({ steps: 20 }, 3);
    await again.trainer.restore();
    const r2 = await again.trainer.run();
    expect(r2.evals).toEqual(result.evals);
    for (const x of [trainer, again.trainer]) x.dispose();
    model.dispose();
    again.model.dispose();
  }, 60_000);

  it('averages the gradients of accumulated micro-batches (one update per A batches)', async () => {
    // loss_p = (w − t_p)², so the accumulated gradient is mean_p 2(w − t_p).
    const w = tf.variable(tf.scalar(1));
    const targets = [3, -1, 4, 0];
    const task: TrainTask = {
      kind: 'toy',
      variables: () => ({ w }),
      loss: (p, _rng, report) => {
        const l = tf.square(tf.sub(w, targets[p % 4] as number)) as tf.Scalar;
        report({
          nll: tf.keep(tf.scalar(0)),
          aux: tf.keep(tf.scalar(0)),
          items: 1,
          expertLoad: [],
          outputNorm: [],
          routingEntropy: [],
          droppedTokens: 0,
        });
        return l;
      },
      getState: () => ({}),
      setState: () => {},
      dispose: () => {},
    };
    const trainer = new Trainer(task, { steps: 2, accumulation: 2, clip: 0, lr: 0.1 });
    const events: StepEvent[] = [];
    trainer.on('step', (e) => events.push(e));
    await trainer.run();
    expect(events.map((e) => e.position)).toEqual([2, 4]);
    expect(events[0]?.gradNorm).toBeCloseTo(Math.abs((2 * (1 - 3) + 2 * (1 + 1)) / 2), 5);
    expect(events[0]?.loss).toBeCloseTo(((1 - 3) ** 2 + (1 + 1) ** 2) / 2, 5);
    expect(trainer.optimizer.step).toBe(2);
    trainer.dispose();
    w.dispose();
  });

  it('rejects a bad config naming the field', () => {
    const model = new MoELanguageModel(parseLmConfig(config), new Rng(0));
    const task = new LmTask(model, data, 4);
    expect(() => new Trainer(task, { steps: 10, schedule: 'linear' as 'cosine' })).toThrow(
      ConfigError,
    );
    expect(() => new Trainer(task, { steps: 0 })).toThrow(/steps/);
    expect(() => new Trainer(task, { steps: 5, lr: 1, clips: 1 } as TrainConfigInput)).toThrow(
      /clips/,
    );
    task.dispose();
    model.dispose();
  });
});

describe('evaluateLm', () => {
  it('gives perplexity V for a model with zero output weights, over every token', () => {
    const model = new MoELanguageModel(parseLmConfig({ ...config, dropout: 0 }), new Rng(0));
    const vars = model.variables();
    vars['out.weight']?.assign(tf.zerosLike(vars['out.weight'] as tf.Tensor));
    vars['out.bias']?.assign(tf.zerosLike(vars['out.bias'] as tf.Tensor));
    const s = stream(4 * 30 + 1, 2);
    const e = evaluateLm(model, s, { batchSize: 4 });
    expect(e.perplexity).toBeCloseTo(V, 4);
    expect(e.tokens).toBe(4 * 29); // every token but each stream's last is a target
    model.dispose();
  });
});
