import { initBackend, Rng } from '@msmoe/core';
import { loadSotu, Vocabulary } from '@msmoe/datasets';
import { MoELanguageModel, parseLmConfig, presetConfig } from '@msmoe/models';
import { LmTask } from './tasks.js';
import { Trainer } from './trainer.js';

beforeAll(() => initBackend({ prefer: 'wasm', fallback: false, env: {} }));

const STEPS = 40;

describe('tiny LM on State of the Union text', () => {
  let train: Int32Array;
  let vocabSize: number;
  beforeAll(async () => {
    const sotu = await loadSotu();
    // A capped vocabulary keeps the softmax small enough for a unit test on 2 cores.
    const vocab = Vocabulary.fromSplits(sotu, { maxSize: 2000 });
    vocabSize = vocab.size;
    train = vocab.encode(sotu.train.slice(0, 600));
  });

  it.each([
    ['g', 'SMoE'],
    ['m', 'MomentumSMoE'],
    ['a', 'AdamSMoE'],
    ['r', 'Robust MomentumSMoE'],
  ] as const)(
    '%s (%s) lowers the training loss within 40 steps',
    async (letter, name) => {
      const model = new MoELanguageModel(
        parseLmConfig(presetConfig('tiny', vocabSize, letter)),
        new Rng(0),
      );
      const task = new LmTask(model, train, 8);
      const trainer = new Trainer(task, { steps: STEPS, lr: 3e-3, warmup: 5, seed: 0 });
      const losses: number[] = [];
      trainer.on('step', (e) => losses.push(e.nll));
      await trainer.run();
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const first = mean(losses.slice(0, 5));
      const last = mean(losses.slice(-5));
      console.log(`${name}: NLL ${first.toFixed(3)} → ${last.toFixed(3)} in ${STEPS} steps`);
      expect(last).toBeLessThan(first - 1);
      trainer.dispose();
      model.dispose();
    },
    60_000,
  );
});
