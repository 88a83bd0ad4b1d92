import { z } from 'zod';
import { defineRule, positiveCoefficient, unitCoefficient } from '../rule.js';

/** AdamSMoE: Adam on the first MoE layer(s), heavy-ball after (the authors' design). */
export const adamConfigSchema = z
  .object({
    rule: z.literal('adam'),
    beta1: unitCoefficient.default(0.9),
    beta2: unitCoefficient.default(0.999),
    eps: z.number().positive().default(1e-8),
    /** Step size of the Adam layers. */
    gamma1: positiveCoefficient.default(1),
    /** Seeds the heavy-ball buffer after the Adam layers: `m = γ2 · u`. */
    gamma2: positiveCoefficient.default(1),
    /** Momentum of the heavy-ball layers. */
    mu: unitCoefficient.default(0.7),
    /** Number of leading MoE layers that take an Adam step (default 1, the authors'). */
    adamLayers: z.number().int().positive().default(1),
    /** Adam on every MoE layer instead. */
    allLayers: z.boolean().default(false),
    /** Divide the moments by (1 − β^t) (default false, as the authors). */
    biasCorrection: z.boolean().default(false),
    /** Reference structure only: reproduce the authors' layer-0 code, which drops its inner residual. */
    layer0Quirk: z.boolean().default(false),
  })
  .strict();

/**
 * AdamSMoE. On the first `adamLayers` MoE layers (all with `allLayers`):
 * `p = β1 p + (1−β1) u`, `v = β2 v + (1−β2) u²`, `x_{t+1} = x_t + γ1 · p / √(v + ε)` (ε inside the
 * root, no bias correction unless asked), and the heavy-ball buffer is seeded `m = γ2 · u`.
 * Later layers: heavy-ball `m = μ m + γ2 u`, `x_{t+1} = x_t + m`. From zero state the first step
 * is ≈ `γ1 · (0.1/√0.001) · sign(u)`.
 */
export const adam = defineRule({
  name: 'adam',
  letter: 'a',
  labelPrefix: 'Adam',
  summary: 'Adam step on the first MoE layer(s), heavy-ball after (AdamSMoE)',
  schema: adamConfigSchema,
  coefficients: {
    beta1: 'unit',
    beta2: 'unit',
    gamma1: 'positive',
    gamma2: 'positive',
    mu: 'unit',
  },
  referenceSign: () => -1,
  state: () => ['p', 'v', 'm'],
  update({ ops, moe, state, k, layer }, c) {
    const u = moe();
    if (!(c.allLayers || layer < c.adamLayers)) {
      const m = ops.add(ops.mul(state.m, k.mu), ops.mul(u, k.gamma2));
      return { delta: m, state: { ...state, m } };
    }
    const p = ops.add(ops.mul(state.p, k.beta1), ops.mul(u, ops.sub(1, k.beta1)));
    const v = ops.add(ops.mul(state.v, k.beta2), ops.mul(ops.square(u), ops.sub(1, k.beta2)));
    // Adam steps taken, counting this one.
    const correct = (m: typeof p, beta: typeof p) =>
      c.biasCorrection ? ops.div(m, ops.sub(1, ops.pow(beta, layer + 1))) : m;
    const step = ops.divSqrt(correct(p, k.beta1), correct(v, k.beta2), c.eps);
    return { delta: ops.mul(step, k.gamma1), state: { p, v, m: ops.mul(u, k.gamma2) } };
  },
  dropsInnerResidual: (c, layer) => c.layer0Quirk && layer === 0,
});
