import * as tf from '@tensorflow/tfjs';

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (`torch.nn.utils.clip_grad_norm_`:
 * factor `maxNorm / (norm + 1e-6)` when above). Returns new tensors (the inputs are not disposed)
 * and the norm before clipping (non-finite when a gradient is).
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return sq.length ? (tf.sqrt(tf.addN(sq)).dataSync()[0] as number) : 0;
  });
  const factor = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  const out: Record<string, tf.Tensor> = {};
  for (const [n, g] of Object.entries(grads))
    out[n] = factor === 1 ? tf.clone(g) : tf.mul(g, factor);
  return { grads: out, norm };
}
