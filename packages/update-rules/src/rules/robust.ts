import { refineIssue } from '@msmoe/core';
import { z } from 'zod';
import { defineRule } from '../rule.js';

/**
 * Robust momentum (Cyrus et al., 2018) over depth, from the condition number κ > 1, the rate
 * ρ ∈ [1 − 1/√κ, 1 − 1/κ] and the smoothness L > 0.
 */
export const robustConfigSchema = z
  .object({
    rule: z.literal('robust'),
    rho: z.number().default(0.2),
    kappa: z.number().default(1.25),
    L: z.number().positive().default(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!(c.kappa > 1)) {
      refineIssue(ctx, ['kappa'], 'must be > 1', c.kappa);
      return;
    }
    const lo = 1 - 1 / Math.sqrt(c.kappa);
    const hi = 1 - 1 / c.kappa;
    if (!(c.rho >= lo - 1e-12 && c.rho <= hi + 1e-12)) {
      refineIssue(
        ctx,
        ['rho'],
        `must be in [1 − 1/√κ, 1 − 1/κ] = [${lo.toPrecision(6)}, ${hi.toPrecision(6)}] for kappa ${c.kappa}`,
        c.rho,
      );
    }
  });

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
 * `x_{t+1} = x_t + β(x_t − x_{t−1}) + α f(y_t)`. The state `d` is the last displacement Δ. At
 * ρ = 1 − 1/κ the evaluation points follow gradient descent with step 1/L exactly.
 */
export const robust = defineRule({
  name: 'robust',
  letter: 'r',
  labelPrefix: 'Robust Momentum',
  summary: 'u = f(x + c d), d = β d + α u, x + d (Robust MomentumSMoE)',
  schema: robustConfigSchema,
  coefficients: {},
  referenceSign: () => -1,
  state: () => ['d'],
  update({ ops, moe, state }, c) {
    const { alpha, beta, c: look } = robustCoefficients(c.rho, c.kappa, c.L);
    const u = moe(ops.mul(state.d, look));
    const d = ops.add(ops.mul(state.d, beta), ops.mul(u, alpha));
    return { delta: d, state: { d } };
  },
  derived: (c) => ({ ...robustCoefficients(c.rho, c.kappa, c.L) }),
});
