/**
 * Trains ViT-MoE (V-MoE routing) and Soft-MoE ViT on MNIST and checks each reaches > 90% test
 * accuracy in under 3 minutes on the default backend (issue 6's acceptance run):
 *   npm run train:mnist [-- --steps 600 --batch 64 --lr 2e-3 --rule heavy-ball]
 * Prints a table and writes bench/results/mnist.json; exits 1 when a model misses either bound.
 */
import { parseArgs } from 'node:util';
import { initBackend, Rng } from '@msmoe/core';
import { loadMnist } from '@msmoe/datasets';
import {
  MoEVisionTransformer,
  parseVitConfig,
  type VitMoEKind,
  vitPresetConfig,
} from '@msmoe/models';
import { evaluateClassifier, Trainer, VisionTask } from '@msmoe/training';
import { printTable, writeResults } from '../bench/lib/harness.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '900' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '2e-3' },
    rule: { type: 'string', default: 'residual' },
    kinds: { type: 'string', default: 'vmoe,soft' },
    seed: { type: 'string', default: '0' },
  },
});
const steps = Number(values.steps);
const batch = Number(values.batch);
const backend = await initBackend();
const mnist = await loadMnist();
const rows: Record<string, string | number>[] = [];
const results = [];
let ok = true;
for (const kind of values.kinds.split(',') as VitMoEKind[]) {
  const t0 = performance.now();
  const model = new MoEVisionTransformer(
    parseVitConfig(
      vitPresetConfig('mnist-tiny', 10, kind, {
        rule:
          values.rule === 'heavy-ball'
            ? { rule: 'heavy-ball', mu: 0.7, gamma: 1 }
            : { rule: 'residual' },
      }),
    ),
    new Rng(Number(values.seed)),
  );
  const task = new VisionTask(model, mnist.train, batch, Number(values.seed));
  const trainer = new Trainer(task, {
    steps,
    lr: Number(values.lr),
    warmup: 50,
    schedule: 'cosine',
    optimizer: { type: 'adamw', weightDecay: 1e-4 },
    seed: Number(values.seed),
  });
  let last = 0;
  trainer.on('step', (e) => {
    if (e.step % 100 === 0 || e.step === steps) {
      const s = ((performance.now() - t0) / 1000).toFixed(0);
      if (e.step !== last)
        console.log(`${kind} step ${e.step}: loss ${e.loss.toFixed(3)} (${s} s)`);
      last = e.step;
    }
  });
  await trainer.run();
  const test = evaluateClassifier(model, mnist.test, task.stats);
  const seconds = (performance.now() - t0) / 1000;
  const pass = test.accuracy > 0.9 && seconds < 180;
  ok &&= pass;
  rows.push({
    model: kind === 'soft' ? 'Soft-MoE ViT' : 'ViT-MoE',
    rule: values.rule,
    steps,
    batch,
    'test acc': `${(100 * test.accuracy).toFixed(2)}%`,
    seconds: seconds.toFixed(1),
    'images/s': ((steps * batch) / seconds).toFixed(0),
    pass: pass ? 'yes' : 'NO',
  });
  results.push({
    model: kind,
    rule: values.rule,
    steps,
    batch,
    backend: backend.name,
    accuracy: test.accuracy,
    seconds,
  });
  trainer.dispose();
  model.dispose();
}
printTable(`MNIST test accuracy (backend ${backend.name})`, rows, Object.keys(rows[0] ?? {}));
writeResults('mnist', { backend: backend.name, cases: results });
if (!ok) {
  console.error('A model missed > 90% test accuracy or the 3-minute bound.');
  process.exit(1);
}
