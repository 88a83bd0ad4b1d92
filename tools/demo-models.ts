/**
 * Trains and exports the models bundled with apps/demo (committed; rerun after changing the
 * exporters or presets): npm run demo:models
 * - text: tiny SMoE and MomentumSMoE LMs on State of the Union text (2,000-word vocabulary);
 * - image: ViT-MoE and MomentumV-MoE (mnist-tiny) on MNIST, raw-pixel input;
 * - 64 MNIST test digits (tools/demo-digits.ts: every class in turn), and the runs report of a
 *   short compare study.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, Rng } from '@msmoe/core';
import { channelStats, loadMnist, loadSotu, Vocabulary } from '@msmoe/datasets';
import {
  MoELanguageModel,
  MoEVisionTransformer,
  parseLmConfig,
  parseVitConfig,
  presetConfig,
  vitPresetConfig,
} from '@msmoe/models';
import { exportLanguageModel, exportVisionTransformer } from '@msmoe/onnx';
import { evaluateClassifier, LmTask, Trainer, VisionTask } from '@msmoe/training';
import { writeDemoDigits } from './demo-digits.js';

const OUT = join('apps', 'demo', 'public');
mkdirSync(join(OUT, 'models'), { recursive: true });
mkdirSync(join(OUT, 'data'), { recursive: true });
await initBackend();

const sotu = await loadSotu();
const vocab = Vocabulary.fromSplits(sotu, { maxSize: 2000 });
const stream = vocab.encode(sotu.train);
for (const [letter, name] of [
  ['g', 'smoe'],
  ['m', 'momentum'],
] as const) {
  const model = new MoELanguageModel(
    parseLmConfig({ ...presetConfig('tiny', vocab.size, letter), dropout: 0.1 }),
    new Rng(0),
  );
  const trainer = new Trainer(new LmTask(model, stream, 8), {
    steps: 400,
    lr: 3e-3,
    warmup: 20,
    seed: 0,
  });
  const r = await trainer.run();
  trainer.dispose();
  const bytes = exportLanguageModel(model, {
    vocabulary: vocab.tokens,
    routingOutputs: true,
    metadata: { 'msmoe.label': letter === 'g' ? 'SMoE' : 'MomentumSMoE' },
  });
  writeFileSync(join(OUT, 'models', `lm-${name}.onnx`), bytes);
  console.log(
    `lm-${name}.onnx: ${(bytes.length / 1e6).toFixed(2)} MB, final loss ${r.lastLoss.toFixed(3)}`,
  );
  model.dispose();
}

const mnist = await loadMnist();
for (const [rule, name] of [
  [{ rule: 'residual' as const }, 'smoe'],
  [{ rule: 'heavy-ball' as const, mu: 0.7, gamma: 1 }, 'momentum'],
] as const) {
  const model = new MoEVisionTransformer(
    parseVitConfig(vitPresetConfig('mnist-tiny', 10, 'vmoe', { rule })),
    new Rng(0),
  );
  const task = new VisionTask(model, mnist.train, 64, 0);
  const trainer = new Trainer(task, {
    steps: 600,
    lr: 2e-3,
    warmup: 50,
    schedule: 'cosine',
    seed: 0,
  });
  await trainer.run();
  trainer.dispose();
  const acc = evaluateClassifier(model, mnist.test, task.stats).accuracy;
  const bytes = exportVisionTransformer(model, {
    normalization: channelStats(mnist.train),
    classes: mnist.classes,
    routingOutputs: true,
    metadata: { 'msmoe.label': name === 'smoe' ? 'ViT-MoE' : 'MomentumV-MoE' },
  });
  writeFileSync(join(OUT, 'models', `vit-${name}.onnx`), bytes);
  console.log(
    `vit-${name}.onnx: ${(bytes.length / 1e6).toFixed(2)} MB, test accuracy ${(100 * acc).toFixed(1)}%`,
  );
  model.dispose();
}

writeDemoDigits(mnist.test, OUT);
