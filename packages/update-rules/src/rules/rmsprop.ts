import { z } from 'zod';
import { defineRule, positiveCoefficient, unitCoefficient } from '../rule.js';

/** RMSProp over depth: `v = β v + (1−β) u²`, `x_{t+1} = x_t + γ u / √(v + ε)`. */
export const rmspropConfigSchema = z
  .object({
    rule: z.literal('rmsprop'),
    beta: unitCoefficient.default(0.9),
    gamma: positiveCoefficient.default(1),
    eps: z.number().positive().default(1e-8),
  })
  .strict();

/** RMSProp over depth: `v = β v + (1−β) u²`, `x_{t+1} = x_t + γ u / √(v + ε)`. */
export const rmsprop = defineRule({
  name: 'rmsprop',
  letter: 'p',
  labelPrefix: 'RMSProp',
  summary: 'v = β v + (1−β) u², x + γ u/√(v+ε)',
  schema: rmspropConfigSchema,
  coefficients: { beta: 'unit', gamma: 'positive' },
  referenceSign: () => -1,
  state: () => ['v'],
  update({ ops, moe, state, k }, c) {
    const u = moe();
    const b = k.beta;
    const v = ops.add(ops.mul(state.v, b), ops.mul(ops.square(u), ops.sub(1, b)));
    const delta = ops.mul(ops.divSqrt(u, v, c.eps), k.gamma);
    return { delta, state: { v } };
  },
});
