import { z } from 'zod';
import { defineRule, positiveCoefficient, unitCoefficient } from '../rule.js';

/** MomentumSMoE: `m_t = μ m_{t−1} + γ u_t`, `x_{t+1} = x_t + m_t`. */
export const heavyBallConfigSchema = z
  .object({
    rule: z.literal('heavy-ball'),
    mu: unitCoefficient.default(0.7),
    gamma: positiveCoefficient.default(1),
  })
  .strict();

/**
 * MomentumSMoE: `m_t = μ m_{t−1} + γ u_t`, `x_{t+1} = x_t + m_t` (the paper's `p_t = −u_t + μ p_{t−1}`,
 * `x_{t+1} = x_t − γ p_t`). Unrolled from zero, `m_t = γ Σ_{s≤t} μ^{t−s} u_s`. Stable on
 * `f(x) = −A x` for `0 < γλ < 2(1+μ)`.
 */
export const heavyBall = defineRule({
  name: 'heavy-ball',
  letter: 'm',
  labelPrefix: 'Momentum',
  aliases: ['momentum'],
  summary: 'm = μ m + γ u, x + m (MomentumSMoE)',
  schema: heavyBallConfigSchema,
  coefficients: { mu: 'unit', gamma: 'positive' },
  referenceSign: () => -1,
  state: () => ['m'],
  update({ ops, moe, state, k }) {
    const m = ops.add(ops.mul(state.m, k.mu), ops.mul(moe(), k.gamma));
    return { delta: m, state: { m } };
  },
});
