import * as tf from '@tensorflow/tfjs';

/**
 * Squared coefficient of variation `Var(v) / Mean(v)²` (population variance), the form of
 * V-MoE's importance and load losses. `eps` guards a zero mean.
 */
export function cvSquared(v: tf.Tensor1D, eps = 1e-10): tf.Scalar {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(v);
    return tf.div(variance, tf.add(tf.square(mean), eps)) as tf.Scalar;
  });
}

/**
 * Switch/GShard load-balancing loss `E · Σ_e f_e · P_e`: `f_e` is the share of the N·k
 * assignments whose router choice is expert e (counted before capacity, not differentiable),
 * `P_e` the mean full-softmax probability of e. Equals 1 for perfectly uniform routing.
 *
 * @param probs - `[N, E]` full softmax.
 * @param expertIndex - chosen experts, row-major `[N, k]`.
 */
export function loadBalanceLoss(probs: tf.Tensor2D, expertIndex: ArrayLike<number>): tf.Scalar {
  const [, E] = probs.shape;
  const counts = new Float32Array(E);
  for (let i = 0; i < expertIndex.length; i++) counts[expertIndex[i] as number]! += 1;
  const total = Math.max(1, expertIndex.length);
  for (let e = 0; e < E; e++) counts[e] = (counts[e] as number) / total;
  return tf.tidy(
    () => tf.mul(E, tf.sum(tf.mul(tf.tensor1d(counts), tf.mean(probs, 0)))) as tf.Scalar,
  );
}

/** V-MoE importance loss: cv² of the per-expert sum of routing probabilities `Σ_t p_te`. */
export function importanceLoss(probs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => cvSquared(tf.sum(probs, 0) as tf.Tensor1D));
}

/** Standard normal CDF Φ(z) = ½(1 + erf(z/√2)), differentiable. */
function normalCdf(z: tf.Tensor): tf.Tensor {
  return tf.mul(0.5, tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
}

/**
 * V-MoE load loss: the probability that expert e stays among token t's top-k under a fresh draw
 * of the noise is `p_te = 1 − Φ((threshold_t − clean_te) / σ_te)`, where `threshold_t` is the
 * k-th largest noisy logit of token t; the loss is cv² of `load_e = Σ_t p_te`.
 *
 * @param cleanLogits - `[N, E]` logits before noise.
 * @param noisyLogits - `[N, E]` logits after noise (those the top-k was taken from).
 * @param noiseStd - σ: a number (Gaussian noise) or `[N, E]` (learned noise).
 */
export function loadLoss(
  cleanLogits: tf.Tensor2D,
  noisyLogits: tf.Tensor2D,
  noiseStd: number | tf.Tensor2D,
  k: number,
): tf.Scalar {
  return tf.tidy(() => {
    const kth = tf.slice(tf.topk(noisyLogits, k).values, [0, k - 1], [-1, 1]); // [N, 1]
    const z = tf.div(tf.sub(kth, cleanLogits), noiseStd);
    const p = tf.sub(1, normalCdf(z));
    return cvSquared(tf.sum(p, 0) as tf.Tensor1D);
  });
}

/** ST-MoE router z-loss `mean_t(logsumexp_e(logits)²)`: keeps router logits small. */
export function zLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.logSumExp(logits, -1))) as tf.Scalar);
}
