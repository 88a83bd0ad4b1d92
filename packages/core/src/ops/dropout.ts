import * as tf from '@tensorflow/tfjs';
import { emptyTensor } from '../kernels/empty.js';
import type { Rng } from '../rng.js';
import { hostView } from './host.js';

/**
 * Inverted dropout with a mask drawn from a seeded {@link Rng}: each element is kept with
 * probability `1 − rate` and scaled by `1/(1 − rate)`. The mask is generated in JS, so the same
 * generator state gives the same mask on every backend (exact resume, cpu/wasm parity).
 * `rate = 0` returns `x` unchanged.
 *
 * @throws Error when rate is outside [0, 1).
 */
export function dropout(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  if (rate === 0) return x;
  return tf.tidy(() => tf.mul(x, dropoutMask(x.shape, rate, rng)));
}

/**
 * The mask {@link dropout} multiplies by: `1/(1 − rate)` where kept, 0 where dropped, one 32-bit
 * draw per element in row-major order (`Rng.fillKeepMask`; for ops that apply it themselves).
 *
 * @throws Error when rate is outside [0, 1).
 */
export function dropoutMask(shape: number[], rate: number, rng: Rng): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  // On wasm/cpu the mask is drawn straight into the tensor's memory (no JS array, no copy).
  const host = tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
  const out = host ? emptyTensor(shape) : null;
  const view = out ? hostView(out) : null;
  const mask = view ?? new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillKeepMask(mask, rate, 1 / (1 - rate));
  return out ?? tf.tensor(mask, shape, 'float32');
}
