// npm run bench:train [-- --quick] [-- --backends wasm,cpu] — training throughput (forward +
// backward + clipping + Adam) of the `tiny` and `mini` LM presets through the real Trainer loop,
// side by side with a plain PyTorch implementation of the same shapes (bench/python/lm_train.py,
// Debian's python3-torch; best of 1 and 2 threads; skipped with a note where absent), run in
// rounds that alternate the two so the machine's drift hits both alike; a per-step breakdown
// (attention, MoE, update rule, output layer + loss, optimizer, host syncs, overhead); and the
// ViT-MoE / Soft-MoE ViT `mnist-tiny` images/s. With onnxruntime-node installed the LM is timed
// with the native output layer (as `msmoe` runs) and, in the same rounds, without it. Data: State
// of the Union text with a vocabulary capped at --vocab words (default 10,000); MNIST for the ViTs.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type BackendName,
  initBackend,
  isHostBackend,
  outputLayerKernel,
  Rng,
  setOutputLayerKernel,
} from '@msmoe/core';
import { loadMnist, loadSotu, Vocabulary } from '@msmoe/datasets';
import {
  MoELanguageModel,
  MoEVisionTransformer,
  parseLmConfig,
  parseVitConfig,
  presetConfig,
  vitPresetConfig,
} from '@msmoe/models';
import { enableNativeOutputLayer } from '@msmoe/onnx/native';
import { AdamOptimizer, LmTask, Trainer, type TrainTask, VisionTask } from '@msmoe/training';
import { breakdownLm } from './lib/breakdown.js';
import { printTable, writeResults } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    vocab: { type: 'string', default: '10000' },
    backends: { type: 'string', default: 'wasm' },
    rounds: { type: 'string', default: '3' },
  },
});
const quick = values.quick;
const BATCH = 8;
const ROUNDS = quick ? 1 : Number(values.rounds);
const PRESETS = ['tiny', 'mini'] as const;

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

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)] as number;

/** The PyTorch peer: tokens/s of one run, or null without Debian's python3-torch. */
const python = ['/usr/bin/python3', 'python3'].find((p) => {
  try {
    execFileSync(p, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
function torchTokensPerSec(preset: string, threads: number, steps: number): number | null {
  if (!python || !existsSync('bench/python/lm_train.py')) return null;
  const out = execFileSync(
    python,
    ['bench/python/lm_train.py', preset, String(threads), String(steps), String(vocabSize)],
    { encoding: 'utf8' },
  );
  return (JSON.parse(out.trim().split('\n').at(-1) as string) as { tokensPerSec: number })
    .tokensPerSec;
}

const sotu = await loadSotu();
const vocab = Vocabulary.fromSplits(sotu, { maxSize: Number(values.vocab) });
const vocabSize = vocab.size;
const stream = vocab.encode(sotu.train.slice(0, 2000));
const mnist = await loadMnist();

const cases: Record<string, unknown>[] = [];
const peers: Record<string, unknown>[] = [];
const breakdowns: Record<string, unknown>[] = [];
for (const backend of values.backends.split(',') as BackendName[]) {
  await initBackend({ prefer: backend, fallback: false });
  // The native output layer (onnxruntime-node) where the output layer runs on the host, installed
  // as `msmoe` installs it; msmoe is timed with it and, in the same rounds, without it (tfjs only).
  setOutputLayerKernel(null);
  if (isHostBackend(backend)) console.log(`${backend}: ${enableNativeOutputLayer().detail}`);
  const native = outputLayerKernel();
  for (const preset of PRESETS) {
    const slow = backend === 'cpu' && preset === 'mini';
    const steps = quick || slow ? 3 : 10;
    // msmoe (SMoE) and PyTorch in alternating rounds: the same minutes of the machine for both.
    const ours: number[] = [];
    const oursTfjs: number[] = [];
    const torch1: number[] = [];
    const torch2: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // SMoE from this round's weights: timed with the installed output layer, then with tfjs's.
      const timeSmoe = async () => {
        const model = new MoELanguageModel(
          parseLmConfig(presetConfig(preset, vocab.size, 'g')),
          new Rng(round),
        );
        const t = await throughput(new LmTask(model, stream, BATCH), 2, steps);
        model.dispose();
        return t;
      };
      ours.push(await timeSmoe());
      if (native) {
        setOutputLayerKernel(null);
        oursTfjs.push(await timeSmoe());
        setOutputLayerKernel(native);
      }
      if (backend !== 'wasm') continue;
      const t1 = torchTokensPerSec(preset, 1, steps);
      const t2 = torchTokensPerSec(preset, 2, steps);
      if (t1 !== null) torch1.push(t1);
      if (t2 !== null) torch2.push(t2);
    }
    const tokensPerSec = median(ours);
    const outputLayer = native ? 'onnxruntime-node' : 'tfjs';
    cases.push({ model: 'lm', preset, rule: 'residual', backend, outputLayer, tokensPerSec });
    if (native)
      cases.push({
        model: 'lm',
        preset,
        rule: 'residual',
        backend,
        outputLayer: 'tfjs',
        tokensPerSec: median(oursTfjs),
      });
    if (torch1.length) {
      const best = Math.max(median(torch1), median(torch2));
      peers.push({
        preset,
        msmoe: tokensPerSec,
        msmoeTfjsOutput: native ? median(oursTfjs) : null,
        torch1: median(torch1),
        torch2: median(torch2),
        ratio: tokensPerSec / best,
      });
      console.log(
        `lm ${preset} ${backend}: ${tokensPerSec.toFixed(0)} tokens/s; PyTorch ${median(torch1).toFixed(0)} (1 thread), ${median(torch2).toFixed(0)} (2 threads): ${(tokensPerSec / best).toFixed(2)}×`,
      );
    } else console.log(`lm ${preset} ${backend}: ${tokensPerSec.toFixed(0)} tokens/s`);
    // The other rules at the same shapes (one round each).
    for (const [letter, rule] of [
      ['m', 'heavy-ball'],
      ['a', 'adam'],
      ['r', 'robust'],
    ] as const) {
      const model = new MoELanguageModel(
        parseLmConfig(presetConfig(preset, vocab.size, letter)),
        new Rng(0),
      );
      const t = await throughput(new LmTask(model, stream, BATCH), 2, steps);
      model.dispose();
      cases.push({ model: 'lm', preset, rule, backend, outputLayer, tokensPerSec: t });
    }
    if (backend === 'wasm') {
      const model = new MoELanguageModel(
        parseLmConfig(presetConfig(preset, vocab.size, 'g')),
        new Rng(0),
      );
      const task = new LmTask(model, stream, BATCH);
      const b = breakdownLm(model, task, new AdamOptimizer(), quick ? 4 : 12);
      task.dispose();
      model.dispose();
      breakdowns.push({ preset, ...b });
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
  `Training throughput (fwd + bwd + clip + Adam), LM batch ${BATCH}, vocabulary ${vocab.size}, ViT batch 64`,
  cases,
  ['model', 'preset', 'rule', 'backend', 'outputLayer', 'tokensPerSec', 'imagesPerSec'],
);
if (peers.length)
  printTable(
    `msmoe (wasm${peers.some((p) => p.msmoeTfjsOutput) ? ' + onnxruntime-node output layer; msmoeTfjsOutput: without it' : ''}, SMoE) vs plain PyTorch ${python ? '' : '(absent)'} on the same shapes, tokens/s, medians of ${ROUNDS} alternating round(s)`,
    peers,
    ['preset', 'msmoe', 'msmoeTfjsOutput', 'torch1', 'torch2', 'ratio'],
  );
else
  console.log(
    '\nPyTorch column skipped: python3-torch is not installed (apt-get install python3-torch).',
  );
printTable(
  'Per-step breakdown, wasm, ms (median of the steps; hostSyncs is part of the others)',
  breakdowns,
  ['preset', 'attention', 'moe', 'rule', 'output', 'optimizer', 'overhead', 'total', 'hostSyncs'],
);
writeResults('train', {
  vocabulary: vocab.size,
  lmBatch: BATCH,
  vitBatch: 64,
  cases,
  pytorch: peers,
  breakdown: breakdowns,
});
