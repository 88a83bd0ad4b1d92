import * as tf from '@tensorflow/tfjs';

/**
 * Layer normalisation over the last axis, as `torch.nn.LayerNorm(d)`:
 * `(x − mean) / √(var + eps) · gamma + beta` with the biased variance. `gamma` and `beta` are `[d]`
 * (omit them for a plain normalisation).
 */
export function layerNorm(
  x: tf.Tensor,
  gamma?: tf.Tensor,
  beta?: tf.Tensor,
  eps = 1e-5,
): tf.Tensor {
  const d = x.shape[x.rank - 1];
  for (const [name, p] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== d)) {
      throw new Error(`layerNorm: ${name} must be [${d}], got [${p.shape.join(', ')}]`);
    }
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return y;
  });
}

/** Trainable LayerNorm parameters: `gamma` (ones) and `beta` (zeros), both `[d]`. */
export interface LayerNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
}

/** Fresh LayerNorm parameters for width `d` (gamma = 1, beta = 0, as `torch.nn.LayerNorm`). */
export function layerNormParams(d: number): LayerNormParams {
  return {
    gamma: tf.tidy(() => tf.variable(tf.ones([d]))),
    beta: tf.tidy(() => tf.variable(tf.zeros([d]))),
  };
}
