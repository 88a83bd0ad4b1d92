import * as tf from '@tensorflow/tfjs';

/** The squared global L2 norm of gradients, as a scalar tensor (read it with the step's other numbers). */
export function squaredGlobalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return (sq.length ? tf.addN(sq) : tf.scalar(0)) as tf.Scalar;
  });
}

/**
 * Gradients scaled so their global L2 norm `norm` is at most `maxNorm` (PyTorch's factor
 * `maxNorm / (norm + 1e-6)` when above); new tensors, the inputs are not disposed.
 */
export function clipToNorm(
  grads: Record<string, tf.Tensor>,
  norm: number,
  maxNorm: number,
): Record<string, tf.Tensor> {
  const factor = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  const out: Record<string, tf.Tensor> = {};
  for (const [n, g] of Object.entries(grads))
    out[n] = factor === 1 ? tf.clone(g) : tf.mul(g, factor);
  return out;
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (`torch.nn.utils.clip_grad_norm_`:
 * factor `maxNorm / (norm + 1e-6)` when above). Returns new tensors (the inputs are not disposed)
 * and the norm before clipping (non-finite when a gradient is).
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: number } {
  const sq = squaredGlobalNorm(grads);
  const norm = Math.sqrt(sq.dataSync()[0] as number);
  sq.dispose();
  return { grads: clipToNorm(grads, norm, maxNorm), norm };
}
