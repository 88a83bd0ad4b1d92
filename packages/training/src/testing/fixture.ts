import { Rng } from '@msmoe/core';
import type { LmConfigInput } from '@msmoe/models';

/** Vocabulary of the test LM. */
export const V = 40;

/** A small MomentumSMoE LM that trains in milliseconds per step. */
export const smallLm: LmConfigInput = {
  vocabSize: V,
  dModel: 16,
  nHeads: 2,
  dInner: 16,
  architecture: 'smsm',
  blockLength: 8,
  span: 8,
  dropout: 0.1,
  numExperts: 4,
  k: 2,
};

/** A token stream with structure to learn: a noisy repeating pattern. */
export function patternStream(n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, (_, i) => (rng.uniform() < 0.8 ? (i * 7) % V : rng.int(V)));
}
