import type * as tf from '@tensorflow/tfjs';
import type { MoEFunction, RuleUpdate } from '../types.js';
import { BaseRule } from './base.js';

/** SMoE's residual update `x_{t+1} = x_t + u_t`: one gradient-descent step per layer. Stateless. */
export class ResidualRule extends BaseRule<Record<string, never>> {
  readonly name = 'residual' as const;
  override readonly referenceSign = 1 as const;

  init(_x: tf.Tensor): Record<string, never> {
    return {};
  }

  update(
    x: tf.Tensor,
    moe: MoEFunction,
    state: Record<string, never>,
  ): RuleUpdate<Record<string, never>> {
    return { delta: moe(x), state };
  }
}
