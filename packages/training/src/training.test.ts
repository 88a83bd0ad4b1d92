import { assertNoTensorLeak, ConfigError, initBackend } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { clipByGlobalNorm } from './clip.js';
import { AdamOptimizer } from './optimizer.js';
import { warmupConstant, warmupCosine } from './schedule.js';

beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

/** PyTorch's Adam/AdamW on plain numbers, the reference. */
function reference(w0: number[], grads: number[][], lr: number, wd: number, decoupled: boolean) {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const w = [...w0];
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  grads.forEach((gs, k) => {
    const t = k + 1;
    w.forEach((wi, i) => {
      let g = gs[i]!;
      if (!decoupled) g += wd * wi;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      const step = (lr * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
      w[i] = wi - step - (decoupled ? lr * wd * wi : 0);
    });
  });
  return w;
}

describe('AdamOptimizer', () => {
  const grads = [
    [0.5, -1, 2],
    [0.1, 0.3, -0.2],
    [-0.4, 0.2, 1],
  ];
  it.each([
    ['adam', 0],
    ['adam', 0.1],
    ['adamw', 0.1],
  ] as const)('%s (weight decay %s) matches PyTorch’s formula', (type, wd) => {
    const w = tf.variable(tf.tensor1d([1, -2, 0.5]));
    const opt = new AdamOptimizer({ type, weightDecay: wd });
    for (const g of grads) opt.apply({ w }, { w: tf.tensor1d(g) }, 0.01);
    const expected = reference([1, -2, 0.5], grads, 0.01, wd, type === 'adamw');
    Array.from(w.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i]!, 6);
    });
    opt.dispose();
    w.dispose();
  });

  it('state round-trips exactly: a restored optimiser continues identically', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([1, 2]));
    const optA = new AdamOptimizer({ type: 'adamw', weightDecay: 0.01 });
    optA.apply({ w: a }, { w: tf.tensor1d([0.3, -0.7]) }, 0.1);
    const state = optA.getState();
    b.assign(a);
    const optB = new AdamOptimizer({ type: 'adamw', weightDecay: 0.01 });
    optB.setState(state);
    tf.dispose(Object.values(state));
    optA.apply({ w: a }, { w: tf.tensor1d([1, 1]) }, 0.1);
    optB.apply({ w: b }, { w: tf.tensor1d([1, 1]) }, 0.1);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(optB.step).toBe(2);
    expect(() => optB.setState({})).toThrow('"step" is missing');
    optA.dispose();
    optB.dispose();
    tf.dispose([a, b]);
  });

  it('leaks no tensors over many steps and validates its config', async () => {
    const w = tf.variable(tf.randomNormal([8, 8], 0, 1, 'float32', 1));
    const opt = new AdamOptimizer();
    await assertNoTensorLeak(
      () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(w)) as tf.Scalar, [w]);
        opt.apply({ w }, { w: grads[w.name]! }, 0.01);
        tf.dispose([value, ...Object.values(grads)]);
      },
      { repetitions: 50 },
    );
    expect(() => new AdamOptimizer({ beta1: 1 })).toThrow(ConfigError);
    expect(() => new AdamOptimizer({ type: 'sgd' } as never)).toThrow(/optimizer config: type/);
    opt.dispose();
    w.dispose();
  });
});

describe('schedules and clipping', () => {
  it('warm-up then constant, and warm-up then cosine', () => {
    const c = warmupConstant(1e-3, 4);
    expect([0, 1, 3, 4, 100].map(c)).toEqual([2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3]);
    const cos = warmupCosine(1, 2, 12, 0.1);
    expect(cos(1)).toBe(1);
    expect(cos(7)).toBeCloseTo(0.55, 10);
    expect(cos(12)).toBeCloseTo(0.1, 10);
    expect(cos(50)).toBeCloseTo(0.1, 10);
    expect(() => warmupCosine(1, 5, 5)).toThrow(/must exceed warmup/);
  });

  it('clips by the global norm', () => {
    const g = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm).toBeCloseTo(5, 6);
    const total = Math.hypot(...grads.a!.dataSync(), ...grads.b!.dataSync());
    expect(total).toBeCloseTo(1, 5);
    const same = clipByGlobalNorm(g, 10);
    expect(Array.from(same.grads.a!.dataSync())).toEqual([3, 0]);
  });
});
