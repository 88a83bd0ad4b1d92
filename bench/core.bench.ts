// npm run bench:core — forward+backward of a linear layer, msmoe's plain-matMul gradient vs
// tfjs's default gradient (transposed-flag matMuls), on wasm and cpu.
import { initBackend, initTensor, linear, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { printTable, timeIt, writeResults } from './lib/harness.js';

interface Shape {
  name: string;
  m: number;
  k: number;
  n: number;
}

const SHAPES: Shape[] = [
  { name: '[512x256]·[256x1024]', m: 512, k: 256, n: 1024 },
  { name: '[2048x256]·[256x512]', m: 2048, k: 256, n: 512 },
  { name: '[128x512]·[512x2048]', m: 128, k: 512, n: 2048 },
];

type Impl = 'msmoe' | 'tfjs-default';
const IMPLS: Record<Impl, (x: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  msmoe: (x, W, b) => linear(x, W as tf.Tensor2D, b as tf.Tensor1D),
  'tfjs-default': (x, W, b) => tf.add(tf.matMul(x, W), b),
};

const quick = process.argv.includes('--quick');
const cases: { name: string; backend: string; impl: Impl; gflops: number; ms: number }[] = [];
const parity: { name: string; backend: string; relL2: number }[] = [];
/** Gradients must agree to float32 accuracy: ‖a − b‖₂ / ‖b‖₂ over each gradient. */
const PARITY_TOLERANCE = 1e-5;

function relL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
const speedups: { name: string; backend: string; speedup: number }[] = [];

for (const backend of ['wasm', 'cpu'] as const) {
  await initBackend({ prefer: backend, fallback: false, env: {} });
  for (const s of SHAPES) {
    const rng = new Rng(1);
    const x = initTensor([s.m, s.k], { kind: 'normal', std: 1 }, rng);
    const W = initTensor([s.k, s.n], { kind: 'kaiming-uniform', a: Math.sqrt(5) }, rng);
    const b = initTensor([s.n], { kind: 'uniform', low: -0.1, high: 0.1 }, rng);
    const dy = initTensor([s.m, s.n], { kind: 'normal', std: 1 }, rng);
    const grads: Record<string, Float32Array[]> = {};
    const ms: Record<string, number> = {};
    for (const impl of Object.keys(IMPLS) as Impl[]) {
      const f = IMPLS[impl];
      const step = () =>
        tf.tidy(() => {
          const y = f(x, W, b);
          const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => f(xx, ww, bb))(
            [x, W, b],
            dy,
          );
          y.dataSync();
          for (const t of g) t.dataSync();
        });
      grads[impl] = tf.tidy(() =>
        tf
          .grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => f(xx, ww, bb))([x, W, b], dy)
          .map((t) => t.dataSync().slice() as Float32Array),
      );
      const slow = backend === 'cpu';
      const t = timeIt(step, {
        warmup: slow ? 1 : 2,
        minReps: slow || quick ? 2 : 5,
        maxReps: slow ? 3 : 100,
        minTotalMs: quick ? 300 : 1500,
      });
      ms[impl] = t.medianMs;
      const flops = 3 * 2 * s.m * s.k * s.n; // forward + dX + dW matMuls
      cases.push({ name: s.name, backend, impl, gflops: flops / t.medianMs / 1e6, ms: t.medianMs });
    }
    const diff = Math.max(
      ...grads.msmoe!.map((g, i) =>
        relL2(g, (grads['tfjs-default'] as Float32Array[])[i] as Float32Array),
      ),
    );
    parity.push({ name: s.name, backend, relL2: diff });
    speedups.push({
      name: s.name,
      backend,
      speedup: (ms['tfjs-default'] as number) / (ms.msmoe as number),
    });
    tf.dispose([x, W, b, dy]);
  }
}

printTable('linear forward + backward (median)', cases, [
  'name',
  'backend',
  'impl',
  'ms',
  'gflops',
]);
printTable(
  'msmoe vs tfjs default gradient (speedup of fwd+bwd; gradient difference as relative L2)',
  speedups.map((s, i) => ({ ...s, gradRelL2: parity[i]?.relL2 })),
  ['name', 'backend', 'speedup', 'gradRelL2'],
);
writeResults('core', { cases, parity, speedups });
const bad = parity.filter((p) => !(p.relL2 <= PARITY_TOLERANCE));
if (bad.length > 0) {
  console.error(
    `gradient mismatch beyond ${PARITY_TOLERANCE}: ${bad.map((p) => `${p.name}@${p.backend}`).join(', ')}`,
  );
  process.exitCode = 1;
}
