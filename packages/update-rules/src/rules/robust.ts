import * as tf from '@tensorflow/tfjs';
import type { MoEFunction, RuleUpdate } from '../types.js';
import { BaseRule } from './base.js';

/** State of robust momentum: the previous displacement `d = x_t − x_{t−1}`. */
export type RobustState = { d: tf.Tensor };

/** Robust momentum coefficients from (ρ, κ, L). */
export interface RobustCoefficients {
  /** Step on the MoE output: `κ(1−ρ)²(1+ρ)/L`. */
  alpha: number;
  /** Momentum: `κρ³/(κ−1)`. */
  beta: number;
  /** Look-ahead: `ρ³/((κ−1)(1−ρ)²(1+ρ))`. */
  c: number;
}

/** Cyrus et al.'s robust momentum coefficients (validate κ > 1 and ρ's range first). */
export function robustCoefficients(rho: number, kappa: number, L: number): RobustCoefficients {
  return {
    alpha: (kappa * (1 - rho) ** 2 * (1 + rho)) / L,
    beta: (kappa * rho ** 3) / (kappa - 1),
    c: rho ** 3 / ((kappa - 1) * (1 - rho) ** 2 * (1 + rho)),
  };
}

/**
 * Robust MomentumSMoE (Cyrus et al., 2018): evaluate at `y_t = x_t + c(x_t − x_{t−1})`, then
 * `x_{t+1} = x_t + β(x_t − x_{t−1}) + α f(y_t)`. At ρ = 1 − 1/κ the evaluation points follow
 * gradient descent with step 1/L exactly: `y_{t+1} = y_t + f(y_t)/L`.
 */
export class RobustRule extends BaseRule<RobustState> {
  readonly name = 'robust' as const;
  /** The derived coefficients. */
  readonly coefficientsDerived: RobustCoefficients;

  constructor(readonly options: { rho: number; kappa: number; L: number }) {
    super();
    this.coefficientsDerived = robustCoefficients(options.rho, options.kappa, options.L);
  }

  init(x: tf.Tensor): RobustState {
    return { d: tf.zerosLike(x) };
  }

  update(x: tf.Tensor, moe: MoEFunction, state: RobustState): RuleUpdate<RobustState> {
    const { alpha, beta, c } = this.coefficientsDerived;
    const u = moe(tf.add(x, tf.mul(state.d, c)));
    const delta = tf.add(tf.mul(state.d, beta), tf.mul(u, alpha));
    return { delta, state: { d: delta } };
  }

  override coefficients(): Record<string, number> {
    return {
      ...this.coefficientsDerived,
      rho: this.options.rho,
      kappa: this.options.kappa,
      L: this.options.L,
    };
  }
}
