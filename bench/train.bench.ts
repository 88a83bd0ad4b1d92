// npm run bench:train [-- --quick] — training throughput (forward + backward + Adam update) of
// the `tiny` and `mini` LM presets for each MoE rule on the wasm and cpu backends, and of the
// ViT-MoE / Soft-MoE ViT `mnist-tiny` preset, through the real Trainer loop.
// Data: State of the Union text with a vocabulary capped at --vocab words (default 10,000) —
// the CPU presets' softmax; MNIST for the ViTs.
import { parseArgs } from 'node:util';
import { type BackendName, initBackend, Rng } from '@msmoe/core';
import { loadMnist, loadSotu, Vocabulary } from '@msmoe/datasets';
import {
  MoELanguageModel,
  MoEVisionTransformer,
  parseLmConfig,
  parseVitConfig,
  presetConfig,
  vitPresetConfig,
} from '@msmoe/models';
import { LmTask, Trainer, type TrainTask, VisionTask } from '@msmoe/training';
import { printTable, writeResults } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    vocab: { type: 'string', default: '10000' },
    backends: { type: 'string', default: 'wasm,cpu' },
  },
});
const quick = values.quick;
const BATCH = 8;

/** Mean items/s over the timed steps (the first `warm` steps are not counted). */
async function throughput(task: TrainTask, warm: number, timed: number): Promise<number> {
  const trainer = new Trainer(task, { steps: warm + timed, lr: 1e-3 });
  let items = 0;
  let ms = 0;
  trainer.on('step', (e) => {
    if (e.step > warm) {
      items += (e.itemsPerSec * e.ms) / 1000;
      ms += e.ms;
    }
  });
  await trainer.run();
  trainer.dispose();
  return (items / ms) * 1000;
}

const sotu = await loadSotu();
const vocab = Vocabulary.fromSplits(sotu, { maxSize: Number(values.vocab) });
const stream = vocab.encode(sotu.train.slice(0, 2000));
const mnist = await loadMnist();

const cases: Record<string, unknown>[] = [];
for (const backend of values.backends.split(',') as BackendName[]) {
  await initBackend({ prefer: backend, fallback: false });
  for (const preset of ['tiny', 'mini']) {
    const slow = backend === 'cpu' && preset === 'mini';
    for (const [letter, rule] of [
      ['g', 'residual'],
      ['m', 'heavy-ball'],
      ['a', 'adam'],
      ['r', 'robust'],
    ] as const) {
      const model = new MoELanguageModel(
        parseLmConfig(presetConfig(preset, vocab.size, letter)),
        new Rng(0),
      );
      const task = new LmTask(model, stream, BATCH);
      const tokensPerSec = await throughput(task, 2, quick || slow ? 3 : 10);
      model.dispose();
      cases.push({ model: 'lm', preset, rule, backend, tokensPerSec });
      console.log(`lm ${preset} ${rule} ${backend}: ${tokensPerSec.toFixed(0)} tokens/s`);
    }
  }
  for (const moe of ['vmoe', 'soft'] as const) {
    const model = new MoEVisionTransformer(
      parseVitConfig(vitPresetConfig('mnist-tiny', 10, moe)),
      new Rng(0),
    );
    const task = new VisionTask(model, mnist.train, 64);
    const imagesPerSec = await throughput(task, 2, quick ? 5 : 20);
    model.dispose();
    const name = moe === 'soft' ? 'soft-moe-vit' : 'vit-moe';
    cases.push({ model: name, preset: 'mnist-tiny', rule: 'residual', backend, imagesPerSec });
    console.log(`${name} ${backend}: ${imagesPerSec.toFixed(0)} images/s`);
  }
}

printTable(
  `Training throughput (fwd + bwd + Adam), LM batch ${BATCH}, vocabulary ${vocab.size}, ViT batch 64`,
  cases,
  ['model', 'preset', 'rule', 'backend', 'tokensPerSec', 'imagesPerSec'],
);
writeResults('train', { vocabulary: vocab.size, lmBatch: BATCH, vitBatch: 64, cases });
