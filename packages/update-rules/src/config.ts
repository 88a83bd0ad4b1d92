import { parseOrThrow } from '@msmoe/core';
import { z } from 'zod';

/** A coefficient: a fixed number, or `{ init, learnable: true }` for a trained scalar. */
export function coefficientSchema(range: {
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}) {
  let n = z.number();
  if (range.min !== undefined) n = range.exclusiveMin ? n.gt(range.min) : n.gte(range.min);
  if (range.max !== undefined) n = range.exclusiveMax ? n.lt(range.max) : n.lte(range.max);
  return z.union([n, z.object({ init: n, learnable: z.boolean().default(true) }).strict()]);
}

const unit = coefficientSchema({ min: 0, max: 1, exclusiveMax: true }); // μ, β ∈ [0, 1)
const positive = coefficientSchema({ min: 0, exclusiveMin: true }); // γ > 0

/** A coefficient as written in a config. */
export type Coefficient = number | { init: number; learnable?: boolean };

/** SMoE: `x_{t+1} = x_t + u_t`. */
export const residualConfigSchema = z.object({ rule: z.literal('residual') }).strict();

/** MomentumSMoE: `m_t = μ m_{t−1} + γ u_t`, `x_{t+1} = x_t + m_t`. */
export const heavyBallConfigSchema = z
  .object({ rule: z.literal('heavy-ball'), mu: unit.default(0.7), gamma: positive.default(1) })
  .strict();

/** Nesterov over depth: the MoE is evaluated at the look-ahead `x_t + μ m_{t−1}`. */
export const nesterovConfigSchema = z
  .object({ rule: z.literal('nesterov'), mu: unit.default(0.7), gamma: positive.default(1) })
  .strict();

/** AdamSMoE: Adam on the first MoE layer(s), heavy-ball after (the authors' design). */
export const adamConfigSchema = z
  .object({
    rule: z.literal('adam'),
    beta1: unit.default(0.9),
    beta2: unit.default(0.999),
    eps: z.number().positive().default(1e-8),
    /** Step size of the Adam layers. */
    gamma1: positive.default(1),
    /** Seeds the heavy-ball buffer after the Adam layers: `m = γ2 · u`. */
    gamma2: positive.default(1),
    /** Momentum of the heavy-ball layers. */
    mu: unit.default(0.7),
    /** Number of leading MoE layers that take an Adam step (default 1, the authors'). */
    adamLayers: z.number().int().positive().default(1),
    /** Adam on every MoE layer instead. */
    allLayers: z.boolean().default(false),
    /** Divide the moments by (1 − β^t) (default false, as the authors). */
    biasCorrection: z.boolean().default(false),
    /** Reference mode only: reproduce the authors' layer-0 code, which drops its inner residual. */
    layer0Quirk: z.boolean().default(false),
  })
  .strict();

/** RMSProp over depth: `v = β v + (1−β) u²`, `x_{t+1} = x_t + γ u / √(v + ε)`. */
export const rmspropConfigSchema = z
  .object({
    rule: z.literal('rmsprop'),
    beta: unit.default(0.9),
    gamma: positive.default(1),
    eps: z.number().positive().default(1e-8),
  })
  .strict();

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
      ctx.addIssue({ code: 'custom', path: ['kappa'], message: 'must be > 1', input: c.kappa });
      return;
    }
    const lo = 1 - 1 / Math.sqrt(c.kappa);
    const hi = 1 - 1 / c.kappa;
    if (!(c.rho >= lo - 1e-12 && c.rho <= hi + 1e-12)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rho'],
        message: `must be in [1 − 1/√κ, 1 − 1/κ] = [${lo.toPrecision(6)}, ${hi.toPrecision(6)}] for kappa ${c.kappa}`,
        input: c.rho,
      });
    }
  });

/** Any rule but SAM (which wraps one of these). */
export const baseRuleConfigSchema = z.discriminatedUnion('rule', [
  residualConfigSchema,
  heavyBallConfigSchema,
  nesterovConfigSchema,
  adamConfigSchema,
  rmspropConfigSchema,
  robustConfigSchema,
]);

/** SAM over depth: perturb by `ρ u/‖u‖`, re-evaluate the MoE there, then apply the wrapped rule. */
export const samConfigSchema = z
  .object({
    rule: z.literal('sam'),
    rho: z.number().positive().default(0.05),
    inner: baseRuleConfigSchema.default({ rule: 'heavy-ball', mu: 0.7, gamma: 1 }),
  })
  .strict();

/** Any update-rule configuration, discriminated by `rule`. */
export const ruleConfigSchema = z.discriminatedUnion('rule', [
  residualConfigSchema,
  heavyBallConfigSchema,
  nesterovConfigSchema,
  adamConfigSchema,
  rmspropConfigSchema,
  robustConfigSchema,
  samConfigSchema,
]);

/** Names of the rules. */
export const RULE_NAMES = [
  'residual',
  'heavy-ball',
  'nesterov',
  'adam',
  'rmsprop',
  'robust',
  'sam',
] as const;
/** One of {@link RULE_NAMES}. */
export type RuleName = (typeof RULE_NAMES)[number];

/** Validated configuration (defaults filled in). */
export type RuleConfig = z.output<typeof ruleConfigSchema>;
/** Configuration as written by a user. */
export type RuleConfigInput = z.input<typeof ruleConfigSchema>;
/** Validated configuration of a rule SAM can wrap. */
export type BaseRuleConfig = z.output<typeof baseRuleConfigSchema>;

/** Validates a rule configuration; a bad field gives one error naming it, its value and what is allowed. */
export function parseRuleConfig(input: unknown): RuleConfig {
  return parseOrThrow(ruleConfigSchema, input, 'update rule config');
}
