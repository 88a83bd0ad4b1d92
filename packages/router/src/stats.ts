import * as tf from '@tensorflow/tfjs';
import type { Routing } from './types.js';

/** Mean over tokens of the entropy (nats) of each row of `probs` `[N, E]`. */
export function meanEntropy(probs: tf.Tensor2D): number {
  return tf.tidy(() => {
    const p = tf.clipByValue(probs, 1e-12, 1);
    return tf.neg(tf.mean(tf.sum(tf.mul(probs, tf.log(p)), -1))).dataSync()[0] as number;
  });
}

/** Reads the value of each scalar loss (for logging). */
export function scalarValues(losses: Record<string, tf.Scalar>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(losses)) out[name] = t.dataSync()[0] as number;
  return out;
}

/**
 * Top-1 expert of every token, as a JS array: the first choice for token choice, the expert with
 * the largest routing probability otherwise. Store it to measure routing stability.
 */
export function topExpert(routing: Routing): Int32Array {
  if (routing.kind === 'token-choice') {
    const { expertIndexValues: idx, k, numTokens } = routing;
    const out = new Int32Array(numTokens);
    for (let t = 0; t < numTokens; t++) out[t] = idx[t * k] as number;
    return out;
  }
  return tf.tidy(() => tf.argMax(routing.probs, -1).dataSync() as Int32Array).slice();
}

/**
 * Fraction of tokens whose top-1 expert differs between two routings of the same tokens (e.g.
 * the same evaluation batch at two checkpoints): the paper's router-stability measure.
 */
export function routingChange(prev: ArrayLike<number>, next: ArrayLike<number>): number {
  if (prev.length !== next.length) {
    throw new Error(`routingChange: token counts differ (${prev.length} vs ${next.length})`);
  }
  if (prev.length === 0) return 0;
  let changed = 0;
  for (let i = 0; i < prev.length; i++) if (prev[i] !== next[i]) changed++;
  return changed / prev.length;
}
