import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.js';

/**
 * Inverted dropout with a mask drawn from a seeded {@link Rng}: each element is kept with
 * probability `1 − rate` and scaled by `1/(1 − rate)`. The mask is generated in JS, so the same
 * generator state gives the same mask on every backend (exact resume, cpu/wasm parity).
 * `rate = 0` returns `x` unchanged.
 *
 * @throws Error when rate is outside [0, 1).
 */
export function dropout(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.random() >= rate ? scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
}
