import { z } from 'zod';
import { defineRule, type RuleDef } from '../rule.js';
import { BASE_RULES, type BaseRuleConfig, baseRuleConfigSchema } from './base.js';

/** SAM over depth: perturb by `ρ u/‖u‖`, re-evaluate the MoE there, then apply the wrapped rule. */
export const samConfigSchema = z
  .object({
    rule: z.literal('sam'),
    rho: z.number().positive().default(0.05),
    inner: baseRuleConfigSchema.default({ rule: 'heavy-ball', mu: 0.7, gamma: 1 }),
  })
  .strict();

const innerDef = (c: BaseRuleConfig) =>
  BASE_RULES.find((r) => r.name === c.rule) as unknown as RuleDef<BaseRuleConfig>;

/**
 * SAM over depth, wrapping any rule: `u = f(x)`, `e = ρ u / ‖u‖` (norm over the whole batch
 * tensor), then the wrapped rule runs with the MoE evaluated at the point moved by `e` (look-ahead
 * shifts of the wrapped rule add to it). Costs one extra MoE evaluation per layer.
 */
export const sam = defineRule({
  name: 'sam',
  labelPrefix: 'SAM-',
  summary: 'e = ρ u/‖u‖, then the wrapped rule with f evaluated at x + e',
  schema: samConfigSchema,
  coefficients: {},
  referenceSign: (c) => innerDef(c.inner).referenceSign(c.inner),
  state: (c) => innerDef(c.inner).state(c.inner),
  update(ctx, c) {
    const { ops, moe } = ctx;
    const u = moe();
    const e = ops.mul(ops.div(u, ops.add(ops.norm(u), 1e-12)), c.rho);
    const perturbed = (shift?: typeof e) => moe(shift === undefined ? e : ops.add(shift, e));
    return innerDef(c.inner).update({ ...ctx, moe: perturbed }, c.inner);
  },
  inner: (c) => c.inner,
});
