import * as tf from '@tensorflow/tfjs';
import { scale } from '../coefficient.js';
import type { Coefficient } from '../config.js';
import type { MoEFunction, RuleUpdate } from '../types.js';
import { BaseRule } from './base.js';

/** State of the heavy-ball and Nesterov rules: the momentum buffer m. */
export type MomentumState = { m: tf.Tensor };

/**
 * MomentumSMoE: `m_t = μ m_{t−1} + γ u_t`, `x_{t+1} = x_t + m_t` (the paper's
 * `p_t = −u_t + μ p_{t−1}`, `x_{t+1} = x_t − γ p_t` with m = −γp). Unrolled from zero,
 * `m_t = γ Σ_{s≤t} μ^{t−s} u_s`. Stable on `f(x) = −A x` for `0 < γλ < 2(1+μ)`.
 */
export class HeavyBallRule extends BaseRule<MomentumState> {
  readonly name: 'heavy-ball' | 'nesterov' = 'heavy-ball';
  protected readonly mu;
  protected readonly gamma;

  constructor(options: { mu: Coefficient; gamma: Coefficient }) {
    super();
    this.mu = this.coefficient('mu', options.mu, 'unit');
    this.gamma = this.coefficient('gamma', options.gamma, 'positive');
  }

  init(x: tf.Tensor): MomentumState {
    return { m: tf.zerosLike(x) };
  }

  update(x: tf.Tensor, moe: MoEFunction, state: MomentumState): RuleUpdate<MomentumState> {
    const u = moe(x);
    const m = tf.add(scale(this.mu.value(), state.m), scale(this.gamma.value(), u));
    return { delta: m, state: { m } };
  }
}

/**
 * Nesterov momentum over depth: the MoE is evaluated at the look-ahead point,
 * `u_t = f(x_t + μ m_{t−1})`, `m_t = μ m_{t−1} + γ u_t`, `x_{t+1} = x_t + m_t`.
 */
export class NesterovRule extends HeavyBallRule {
  override readonly name = 'nesterov' as const;

  override update(x: tf.Tensor, moe: MoEFunction, state: MomentumState): RuleUpdate<MomentumState> {
    const momentum = scale(this.mu.value(), state.m);
    const u = moe(tf.add(x, momentum));
    const m = tf.add(momentum, scale(this.gamma.value(), u));
    return { delta: m, state: { m } };
  }
}
