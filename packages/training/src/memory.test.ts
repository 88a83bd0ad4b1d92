import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, Rng } from '@msmoe/core';
import { MoELanguageModel, parseLmConfig } from '@msmoe/models';
import * as tf from '@tensorflow/tfjs';
import type { StatsEvent } from './events.js';
import { LmTask } from './tasks.js';
import { patternStream, smallLm } from './testing/fixture.js';
import { Trainer } from './trainer.js';

beforeAll(() => initBackend({ prefer: 'wasm', fallback: false, env: {} }));

describe('Trainer memory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'msmoe-mem-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const setup = (over: Record<string, number>) => {
    const model = new MoELanguageModel(parseLmConfig(smallLm), new Rng(1));
    const task = new LmTask(model, patternStream(4 * 8 * 12 + 1, 3), 4);
    const trainer = new Trainer(task, { steps: 100, lr: 3e-3, ...over }, { checkpoints: dir });
    return { model, trainer };
  };

  it('keeps memory flat over 500 steps with accumulation, stats and checkpoints', async () => {
    const before = tf.memory().numTensors;
    const { model, trainer } = setup({
      steps: 500,
      accumulation: 2,
      statsEvery: 50,
      checkpointEvery: 250,
    });
    const counts: number[] = [];
    let written = 0;
    trainer.on('checkpoint', () => {
      written += 1;
    });
    const stats: StatsEvent[] = [];
    trainer.on('step', (e) => {
      if (e.step === 10 || e.step === 500) counts.push(tf.memory().numTensors);
    });
    trainer.on('stats', (e) => stats.push(e));
    const result = await trainer.run();
    expect(result.position).toBe(1000);
    expect(counts[1]).toBe(counts[0]);
    expect(stats).toHaveLength(10);
    expect(written).toBe(2);
    const s = stats[0] as StatsEvent;
    expect(s.expertLoad).toHaveLength(2);
    for (const row of s.expertLoad) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(s.outputNorm).toHaveLength(2);
    expect(s.outputNorm.every((n) => n > 0)).toBe(true);
    expect(Object.keys(s.coefficients).length).toBeGreaterThan(0);
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);
});
