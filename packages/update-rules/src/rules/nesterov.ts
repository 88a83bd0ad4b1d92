import { z } from 'zod';
import { defineRule, positiveCoefficient, unitCoefficient } from '../rule.js';

/** Nesterov over depth: the MoE is evaluated at the look-ahead `x_t + μ m_{t−1}`. */
export const nesterovConfigSchema = z
  .object({
    rule: z.literal('nesterov'),
    mu: unitCoefficient.default(0.7),
    gamma: positiveCoefficient.default(1),
  })
  .strict();

/** Nesterov momentum over depth: `u_t = f(x_t + μ m_{t−1})`, `m_t = μ m_{t−1} + γ u_t`, `x_{t+1} = x_t + m_t`. */
export const nesterov = defineRule({
  name: 'nesterov',
  letter: 'n',
  labelPrefix: 'Nesterov',
  summary: 'u = f(x + μ m), m = μ m + γ u, x + m',
  schema: nesterovConfigSchema,
  coefficients: { mu: 'unit', gamma: 'positive' },
  referenceSign: () => -1,
  state: () => ['m'],
  update({ ops, moe, state, k }) {
    const momentum = ops.mul(state.m, k.mu);
    const m = ops.add(momentum, ops.mul(moe(momentum), k.gamma));
    return { delta: m, state: { m } };
  },
});
