import { checkVariableGradients, initBackend, linear, maxAbsDiff, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { SpanAttention } from './attention.js';

/** The attention as plain tfjs ops (rank-4 matMuls and a gather of the band): the reference. */
function reference(att: SpanAttention, h: tf.Tensor3D, cache: tf.Tensor3D): tf.Tensor {
  const [B, M, d] = h.shape;
  const S = att.span;
  const H = att.nHeads;
  const dh = d / H;
  const L = S + M;
  const w = att.weights;
  const heads = (t: tf.Tensor, n: number) =>
    tf.transpose(tf.reshape(t, [B, n, H, dh]), [0, 2, 1, 3]);
  const all = tf.concat([cache, h], 1);
  const q = heads(linear(h, w.q as unknown as tf.Tensor2D), M);
  const k = heads(linear(all, w.k as unknown as tf.Tensor2D), L);
  const v = heads(linear(all, w.v as unknown as tf.Tensor2D), L);
  const index = new Int32Array(M * L);
  const mask = new Float32Array(M * L);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < L; j++) {
      const l = j - i - 1;
      index[i * L + j] = i * S + Math.min(S - 1, Math.max(0, l));
      mask[i * L + j] = l >= 0 && l < S ? 0 : -1e9;
    }
  const band = tf.reshape(tf.matMul(tf.reshape(q, [B * H * M, dh]), w.keyPe as tf.Tensor), [
    B * H,
    M * S,
  ]);
  const pos = tf.reshape(tf.gather(band, tf.tensor1d(index, 'int32'), 1), [B, H, M, L]);
  const scores = tf.add(
    tf.div(tf.add(tf.matMul(q, k, false, true), pos), Math.sqrt(dh)),
    tf.tensor2d(mask, [M, L]),
  );
  const out = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [B, M, d]);
  return linear(out, w.o as unknown as tf.Tensor2D);
}

describe.each(['cpu', 'wasm'] as const)('span attention (%s)', (backend) => {
  beforeAll(() => initBackend({ prefer: backend, fallback: false, env: {} }));

  it('its own gradient equals the plain ops’ (rank-4 matMuls, gather): values and every weight', () => {
    const att = new SpanAttention(16, 4, 5, new Rng(1));
    const rng = new Rng(2);
    const h = tf.tensor3d(rng.normalArray(2 * 7 * 16), [2, 7, 16]);
    const cache = tf.tensor3d(rng.normalArray(2 * 5 * 16), [2, 5, 16]);
    const target = tf.tensor3d(rng.normalArray(2 * 7 * 16), [2, 7, 16]);
    const vars = Object.values(att.weights);
    const run = (f: () => tf.Tensor) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.mul(f(), target)) as tf.Scalar,
          vars,
        );
        return {
          value: value.dataSync()[0] as number,
          grads: vars.map((v) => grads[v.name]!.dataSync()),
        };
      });
    const ours = run(() => att.apply(h, cache));
    const ref = run(() => reference(att, h, cache));
    expect(ours.value).toBeCloseTo(ref.value, 3);
    ours.grads.forEach((g, i) => {
      expect(maxAbsDiff(g, ref.grads[i]!)).toBeLessThan(1e-4);
    });
    // And against finite differences, with the dropout of the attention weights in training.
    const res = checkVariableGradients(
      () =>
        tf.sum(
          tf.mul(att.apply(h, cache, { training: true, rng: new Rng(7), dropout: 0.3 }), target),
        ) as tf.Scalar,
      vars,
      { eps: 1e-2, samplesPerInput: 4, atol: 3e-3, rtol: 3e-2 },
    );
    if (!res.ok) throw new Error(`gradient check failed: ${JSON.stringify(res.worst)}`);
    att.dispose();
  });
});
