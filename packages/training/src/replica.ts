import * as tf from '@tensorflow/tfjs';

/**
 * This trainer is one replica of a data-parallel run (`size` replicas, one per process): each
 * trains on its shard of every batch, the gradients are averaged over replicas at every step
 * (one all-reduce), so every replica applies the same update and keeps the same weights.
 * Replica 0 writes checkpoints; the others only read them (resume, roll-back).
 */
export interface DataParallel {
  /** This replica's index, 0 … size−1. */
  readonly rank: number;
  /** Replicas of the run. */
  readonly size: number;
  /**
   * The element-wise mean of `buffer` over all replicas. Every replica calls it once per step, in
   * step order, with a buffer of the same length (a barrier: no replica runs ahead). It returns
   * `stop: true` on every replica at the same step when the run is to stop there (Ctrl-C).
   */
  allReduce(buffer: Float32Array, step: number): Promise<{ mean: Float32Array; stop: boolean }>;
  /** Reports the digest of this replica's weights after `step` (the coordinator compares them). */
  verify(step: number, digest: string): void;
  /** Steps between weight digests (0: only at the end of the run). */
  readonly verifyEvery: number;
}

/** The gradients' values in one buffer (in `names` order), with `tail` extra numbers after them. */
export function packGradients(
  grads: Record<string, tf.Tensor>,
  names: string[],
  tail: ArrayLike<number>,
): Float32Array {
  let total = tail.length;
  for (const n of names) total += (grads[n] as tf.Tensor).size;
  const buffer = new Float32Array(total);
  let offset = 0;
  for (const n of names) {
    const g = grads[n] as tf.Tensor;
    buffer.set(g.dataSync() as Float32Array, offset);
    offset += g.size;
  }
  buffer.set(tail, offset);
  return buffer;
}

/**
 * The inverse of {@link packGradients}: new tensors shaped as `like`, the tail numbers, and the
 * squared global L2 norm of the gradients (summed in float64 on the host).
 */
export function unpackGradients(
  buffer: Float32Array,
  like: Record<string, tf.Tensor>,
  names: string[],
): { grads: Record<string, tf.Tensor>; tail: Float32Array; squaredNorm: number } {
  const grads: Record<string, tf.Tensor> = {};
  let offset = 0;
  let squaredNorm = 0;
  for (const n of names) {
    const g = like[n] as tf.Tensor;
    const values = buffer.subarray(offset, offset + g.size);
    for (let i = 0; i < values.length; i++) squaredNorm += (values[i] as number) ** 2;
    grads[n] = tf.tensor(values, g.shape, 'float32');
    offset += g.size;
  }
  return { grads, tail: buffer.subarray(offset), squaredNorm };
}

/**
 * A digest of weights' exact bits (two 32-bit multiply-xorshift hashes over every value, in name
 * order), to check that replicas hold identical weights. Equal digests mean equal bits with
 * overwhelming probability; one flipped bit changes them.
 */
export function weightsDigest(vars: Record<string, tf.Variable>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const name of Object.keys(vars).sort()) {
    const v = vars[name] as tf.Variable;
    const data = v.dataSync();
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < bits.length; i++) {
      const x = bits[i] as number;
      h1 = Math.imul(h1 ^ x, 0x85ebca6b);
      h1 ^= h1 >>> 13;
      h2 = Math.imul(h2 + x, 0xc2b2ae35);
      h2 ^= h2 >>> 16;
    }
    h1 = Math.imul(h1 ^ bits.length, 0x27d4eb2f);
  }
  return `${(h1 >>> 0).toString(16).padStart(8, '0')}${(h2 >>> 0).toString(16).padStart(8, '0')}`;
}
