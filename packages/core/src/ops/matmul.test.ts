import * as tf from '@tensorflow/tfjs';
import { maxRelDiff } from '../compare.js';
import { checkGradients } from '../gradcheck.js';
import { initTensor, linearInit } from '../init.js';
import { assertNoTensorLeak } from '../memory.js';
import { Rng } from '../rng.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { linear, matmul } from './matmul.js';

function randn(shape: number[], seed: number): tf.Tensor {
  return initTensor(shape, { kind: 'normal', std: 1 }, new Rng(seed));
}

/** Values and input gradients of loss = Σ f(a, b) ⊙ r, for both implementations. */
function valueAndGrads(
  f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  r: tf.Tensor,
) {
  return tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(f(x, y), r)),
    )([a, b]);
    const out = f(a, b);
    return {
      loss: value.dataSync()[0] as number,
      out: out.dataSync().slice(),
      da: (grads[0] as tf.Tensor).dataSync().slice(),
      db: (grads[1] as tf.Tensor).dataSync().slice(),
    };
  });
}

describe.each(TEST_BACKENDS)('matmul / linear on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([
    ['rank 2', [17, 9], [9, 13], [17, 13]],
    ['rank 3 (batched)', [3, 5, 7], [3, 7, 4], [3, 5, 4]],
    // Few rows against a large weight: dA is computed as transpose(b · dyᵀ).
    ['few rows, large weight', [3, 40], [40, 50], [3, 50]],
    ['few rows, large weight, batched', [2, 3, 40], [2, 40, 50], [2, 3, 50]],
  ])('values and gradients equal tf.matMul (%s)', (_name, sa, sb, so) => {
    const a = randn(sa as number[], 1);
    const b = randn(sb as number[], 2);
    const r = randn(so as number[], 3);
    const ours = valueAndGrads((x, y) => matmul(x as tf.Tensor2D, y as tf.Tensor2D), a, b, r);
    const ref = valueAndGrads((x, y) => tf.matMul(x, y), a, b, r);
    expect(maxRelDiff(ours.out, ref.out)).toBeLessThanOrEqual(1e-5);
    expect(maxRelDiff(ours.da, ref.da)).toBeLessThanOrEqual(1e-5);
    expect(maxRelDiff(ours.db, ref.db)).toBeLessThanOrEqual(1e-5);
    tf.dispose([a, b, r]);
  });

  it('linear on a rank-3 input with bias equals the tfjs reference, gradients included', () => {
    const x = randn([4, 6, 8], 4);
    const W = randn([8, 5], 5) as tf.Tensor2D;
    const bias = randn([5], 6) as tf.Tensor1D;
    const r = randn([4, 6, 5], 7);
    const loss = (f: (x: tf.Tensor, W: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor) =>
      tf.tidy(() => {
        const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(f(xx, ww as tf.Tensor2D, bb as tf.Tensor1D), r)),
        )([x, W, bias]);
        return [f(x, W, bias), ...g].map((t) => t.dataSync().slice());
      });
    const ours = loss(linear);
    const ref = loss((xx, ww, bb) =>
      tf.add(tf.reshape(tf.matMul(tf.reshape(xx, [-1, 8]), ww), [4, 6, 5]), bb),
    );
    ours.forEach((v, i) => {
      expect(maxRelDiff(v, ref[i]!)).toBeLessThanOrEqual(1e-5);
    });
    tf.dispose([x, W, bias, r]);
  });

  it('passes a finite-difference gradient check', () => {
    const x = randn([3, 4], 8);
    const W = randn([4, 2], 9);
    const b = randn([2], 10);
    const res = checkGradients(
      (xx, ww, bb) =>
        tf.sum(tf.square(linear(xx!, ww as tf.Tensor2D, bb as tf.Tensor1D))) as tf.Scalar,
      [x, W, b],
      {
        samplesPerInput: 8,
      },
    );
    expect(res.worst).not.toBeNull();
    expect(res.ok).toBe(true);
    tf.dispose([x, W, b]);
  });

  it('works on rank-1 and rank-2 inputs and without bias', () => {
    const W = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(linear(tf.tensor1d([1, 0, 1]), W).arraySync()).toEqual([6, 8]);
    expect(linear(tf.tensor2d([[1, 1, 1]]), W, tf.tensor1d([1, -1])).arraySync()).toEqual([
      [10, 11],
    ]);
  });

  it('names both shapes on a mismatch', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => matmul(a, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(
      'matmul: inner dimensions differ: a [2, 3], b [4, 2]',
    );
    expect(() => matmul(a, tf.zeros([1, 3, 2]) as unknown as tf.Tensor2D)).toThrow(
      /must both be rank 2 or both rank 3/,
    );
    expect(() =>
      matmul(tf.zeros([2, 2, 3]) as tf.Tensor3D, tf.zeros([3, 3, 2]) as tf.Tensor3D),
    ).toThrow(/batch dimensions differ/);
    expect(() => linear(tf.zeros([2, 4]), tf.zeros([3, 5]) as tf.Tensor2D)).toThrow(
      "linear: last axis of x [2, 4] must equal W's in dimension 3",
    );
    expect(() =>
      linear(tf.zeros([2, 3]), tf.zeros([3, 5]) as tf.Tensor2D, tf.zeros([4]) as tf.Tensor1D),
    ).toThrow('linear: b must be [5], got [4]');
  });
});

describe('a small MLP trained through linear', () => {
  it('learns and leaks no tensors over 200 steps on wasm', async () => {
    await useBackend('wasm');
    const rng = new Rng(123);
    const l1 = linearInit(8, 32, rng);
    const l2 = linearInit(32, 1, rng);
    // Target: a fixed nonlinear function of the inputs.
    const x = initTensor([64, 8], { kind: 'normal', std: 1 }, rng);
    const y = tf.tidy(() => tf.sin(tf.sum(x, 1, true)));
    const opt = tf.train.adam(1e-2);
    const loss = () =>
      tf.tidy(() => {
        const h = tf.relu(linear(x, l1.W as tf.Tensor2D, l1.b as tf.Tensor1D));
        return tf.losses.meanSquaredError(
          y,
          linear(h, l2.W as tf.Tensor2D, l2.b as tf.Tensor1D),
        ) as tf.Scalar;
      });
    const first = tf.tidy(() => loss().dataSync()[0] as number);
    const result = await assertNoTensorLeak(() => opt.minimize(loss, false), {
      repetitions: 200,
      label: 'MLP step',
    });
    const last = tf.tidy(() => loss().dataSync()[0] as number);
    expect(result.after).toBe(result.before);
    expect(last).toBeLessThan(first * 0.2);
    opt.dispose();
    tf.dispose([x, y, l1.W, l1.b!, l2.W, l2.b!]);
  });
});

describe('checkVariableGradients', () => {
  it('agrees with analytic gradients of variables and flags a wrong gradient', async () => {
    await useBackend('cpu');
    const { checkVariableGradients } = await import('../gradcheck.js');
    const W = tf.variable(initTensor([3, 2], { kind: 'normal', std: 1 }, new Rng(1)));
    const x = initTensor([4, 3], { kind: 'normal', std: 1 }, new Rng(2));
    const good = checkVariableGradients(
      () => tf.sum(tf.square(linear(x, W as unknown as tf.Tensor2D))) as tf.Scalar,
      [W],
    );
    expect(good.ok).toBe(true);
    expect(good.checked).toBe(6);
    // A loss whose tape gradient is wrong on purpose (custom gradient doubled) must fail.
    const doubled = (w: tf.Tensor, save: tf.GradSaveFunc) => {
      save([w]);
      return {
        value: tf.sum(tf.square(w)),
        gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => [tf.mul(dy, tf.mul(4, s!))],
      };
    };
    const wrong = tf.customGrad(
      doubled as unknown as Parameters<typeof tf.customGrad>[0],
    ) as unknown as (w: tf.Tensor) => tf.Scalar;
    expect(checkVariableGradients(() => wrong(W), [W]).ok).toBe(false);
    tf.dispose([W, x]);
  });
});

describe.each(TEST_BACKENDS)('linear with fused ReLU on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  it('equals relu(linear) in value and gradients, with and without bias', () => {
    const x = randn([5, 7], 31);
    const W = randn([7, 6], 32) as tf.Tensor2D;
    const b = randn([6], 33) as tf.Tensor1D;
    const r = randn([5, 6], 34);
    for (const bias of [b, undefined]) {
      const run = (f: (xx: tf.Tensor, ww: tf.Tensor2D) => tf.Tensor) =>
        tf.tidy(() => {
          const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
            tf.sum(tf.mul(f(xx, ww as tf.Tensor2D), r)),
          )([x, W]);
          return [f(x, W), ...g].map((t) => t.dataSync().slice());
        });
      const fused = run((xx, ww) => linear(xx, ww, bias, 'relu'));
      const ref = run((xx, ww) =>
        tf.relu(bias ? tf.add(tf.matMul(xx, ww), bias) : tf.matMul(xx, ww)),
      );
      fused.forEach((v, i) => {
        expect(maxRelDiff(v, ref[i]!)).toBeLessThanOrEqual(1e-5);
      });
    }
    tf.dispose([x, W, b, r]);
  });
});
