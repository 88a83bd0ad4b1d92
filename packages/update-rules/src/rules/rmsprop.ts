import * as tf from '@tensorflow/tfjs';
import { oneMinus, scale } from '../coefficient.js';
import type { Coefficient } from '../config.js';
import type { MoEFunction, RuleUpdate } from '../types.js';
import { BaseRule } from './base.js';

/** State of RMSProp: the running mean square v. */
export type RmsPropState = { v: tf.Tensor };

/** RMSProp over depth: `v = β v + (1−β) u²`, `x_{t+1} = x_t + γ u / √(v + ε)`. */
export class RmsPropRule extends BaseRule<RmsPropState> {
  readonly name = 'rmsprop' as const;
  private readonly beta;
  private readonly gamma;

  constructor(private readonly options: { beta: Coefficient; gamma: Coefficient; eps: number }) {
    super();
    this.beta = this.coefficient('beta', options.beta, 'unit');
    this.gamma = this.coefficient('gamma', options.gamma, 'positive');
  }

  init(x: tf.Tensor): RmsPropState {
    return { v: tf.zerosLike(x) };
  }

  update(x: tf.Tensor, moe: MoEFunction, state: RmsPropState): RuleUpdate<RmsPropState> {
    const u = moe(x);
    const b = this.beta.value();
    const v = tf.add(scale(b, state.v), scale(oneMinus(b), tf.square(u)));
    const delta = scale(this.gamma.value(), tf.div(u, tf.sqrt(tf.add(v, this.options.eps))));
    return { delta, state: { v } };
  }
}
