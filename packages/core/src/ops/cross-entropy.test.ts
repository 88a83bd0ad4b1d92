import * as tf from '@tensorflow/tfjs';
import { maxAbsDiff } from '../compare.js';
import { Rng } from '../rng.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { linearCrossEntropy, softmaxCrossEntropyRows } from './cross-entropy.js';

/** The plain ops: log-softmax of the logits and a gather of the targets. */
function reference(h: tf.Tensor2D, W: tf.Tensor, b: tf.Tensor, targets: Int32Array): tf.Scalar {
  const V = W.shape[1] as number;
  const logp = tf.logSoftmax(tf.add(tf.matMul(h, W), b));
  const flat = Int32Array.from(targets, (t, i) => i * V + t);
  return tf.neg(
    tf.mean(tf.gather(tf.reshape(logp, [-1]), tf.tensor1d(flat, 'int32'))),
  ) as tf.Scalar;
}

describe.each(TEST_BACKENDS)('linearCrossEntropy (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([
    ['one chunk', undefined],
    ['rows in chunks of 2', 2 * 301],
  ])(
    'matches log-softmax + gather in value and every gradient (%s), also under a scale',
    (_n, chunk) => {
      const rng = new Rng(3);
      const [N, d, V] = [7, 5, 301];
      const h = tf.variable(tf.tensor2d(rng.normalArray(N * d), [N, d]));
      const W = tf.variable(tf.tensor2d(rng.normalArray(d * V, 0, 2), [d, V]));
      const b = tf.variable(tf.tensor1d(rng.normalArray(V)));
      const targets = Int32Array.from({ length: N }, (_, i) => (i * 83) % V);
      const vars = [h, W, b];
      for (const scale of [1, 2.5]) {
        const run = (f: () => tf.Scalar) =>
          tf.tidy(() => {
            const { value, grads } = tf.variableGrads(() => tf.mul(f(), scale) as tf.Scalar, vars);
            return {
              value: value.dataSync()[0] as number,
              grads: vars.map((v) => grads[v.name]!.dataSync()),
            };
          });
        const ours = run(() =>
          linearCrossEntropy(h as never, W as never, b as never, targets, { chunkLogits: chunk }),
        );
        const ref = run(() => reference(h as never, W, b, targets));
        expect(ours.value).toBeCloseTo(ref.value, 4);
        ours.grads.forEach((g, i) => {
          expect(maxAbsDiff(g, ref.grads[i]!)).toBeLessThan(2e-5);
        });
      }
      // Outside a gradient tape: the loss only.
      const evalLoss = tf.tidy(
        () => linearCrossEntropy(h as never, W as never, b as never, targets).dataSync()[0]!,
      );
      expect(evalLoss).toBeCloseTo(
        tf.tidy(() => reference(h as never, W, b, targets).dataSync()[0]!),
        4,
      );
      tf.dispose(vars);
    },
  );
});

it('the fast exponential of the row kernel is within float32 rounding of Math.exp', () => {
  const V = 4001;
  const rng = new Rng(5);
  const z = Float32Array.from(rng.normalArray(V, 0, 30));
  const target = [17];
  const zt = z[17]!;
  const m = Math.max(...z);
  const s = z.reduce((acc, v) => acc + Math.exp(v - m), 0);
  const p = Float32Array.from(z, (v) => Math.exp(v - m) / s);
  const loss = softmaxCrossEntropyRows(z, V, target);
  expect(loss).toBeCloseTo(m + Math.log(s) - zt, 4);
  p[17]! -= 1;
  let worst = 0;
  for (let j = 0; j < V; j++)
    worst = Math.max(worst, Math.abs(z[j]! - p[j]!) / Math.max(1e-30, Math.abs(p[j]!)));
  expect(worst).toBeLessThan(1e-6);
  expect(() => softmaxCrossEntropyRows(new Float32Array(3), 3, [3])).toThrow(
    /target 3 of row 0 is outside \[0, 3\)/,
  );
});
