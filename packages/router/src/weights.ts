import { type InitSpec, initVariable, linear, type Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';

/**
 * A router scored from the projection `x·W (+ b)` (`[d, E]`, bias `[E]`): PyTorch nn.Linear's
 * initialisation unless `config.init` names another; the bias follows nn.Linear (U(±1/√d)) in
 * both cases. Token-choice and expert-choice routers extend it.
 */
export abstract class ProjectionRouter<
  C extends { dModel: number; numExperts: number; bias: boolean; init?: InitSpec },
> {
  readonly numExperts: number;
  protected readonly W: tf.Variable;
  protected readonly b?: tf.Variable;

  /** @param rng - draws the initial weights. */
  constructor(
    readonly config: C,
    rng: Rng,
  ) {
    const { dModel: d, numExperts: E } = config;
    this.numExperts = E;
    this.W = initVariable([d, E], config.init ?? { kind: 'kaiming-uniform', a: Math.sqrt(5) }, rng);
    if (config.bias)
      this.b = initVariable([E], { kind: 'linear-bias' }, rng, { fans: { fanIn: d, fanOut: E } });
  }

  variables(): Record<string, tf.Variable> {
    return this.b ? { weight: this.W, bias: this.b } : { weight: this.W };
  }

  dispose(): void {
    tf.dispose(Object.values(this.variables()));
  }

  /** The logits `x·W (+ b)` of tokens `[N, d]`. */
  protected project(x: tf.Tensor2D): tf.Tensor2D {
    return linear(
      x,
      this.W as unknown as tf.Tensor2D,
      this.b as unknown as tf.Tensor1D | undefined,
    ) as tf.Tensor2D;
  }
}

/** Throws unless `x` is `[N, dModel]`. */
export function checkTokens(x: tf.Tensor, dModel: number, who: string): void {
  if (x.rank !== 2 || x.shape[1] !== dModel) {
    throw new Error(`${who}: tokens must be [N, ${dModel}], got [${x.shape.join(', ')}]`);
  }
}
