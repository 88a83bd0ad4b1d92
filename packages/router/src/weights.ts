import { type InitSpec, initVariable, type Rng } from '@msmoe/core';
import type * as tf from '@tensorflow/tfjs';

/**
 * Router projection `[d, E]` (+ bias `[E]`): PyTorch nn.Linear's initialisation unless `init`
 * names another; the bias follows nn.Linear (U(±1/√d)) in both cases.
 */
export function routerProjection(
  dModel: number,
  numExperts: number,
  bias: boolean,
  rng: Rng,
  init?: InitSpec,
): { W: tf.Variable; b?: tf.Variable } {
  const W = initVariable(
    [dModel, numExperts],
    init ?? { kind: 'kaiming-uniform', a: Math.sqrt(5) },
    rng,
  );
  if (!bias) return { W };
  const b = initVariable([numExperts], { kind: 'linear-bias' }, rng, {
    fans: { fanIn: dModel, fanOut: numExperts },
  });
  return { W, b };
}

/** Throws unless `x` is `[N, dModel]`. */
export function checkTokens(x: tf.Tensor, dModel: number, who: string): void {
  if (x.rank !== 2 || x.shape[1] !== dModel) {
    throw new Error(`${who}: tokens must be [N, ${dModel}], got [${x.shape.join(', ')}]`);
  }
}
