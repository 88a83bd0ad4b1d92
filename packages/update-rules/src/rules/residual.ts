import { z } from 'zod';
import { defineRule } from '../rule.js';

/** SMoE: `x_{t+1} = x_t + u_t`. */
export const residualConfigSchema = z.object({ rule: z.literal('residual') }).strict();

/** SMoE's residual update `x_{t+1} = x_t + u_t`: one gradient-descent step per layer. Stateless. */
export const residual = defineRule({
  name: 'residual',
  letter: 'g',
  labelPrefix: '',
  aliases: ['smoe', 'v-moe', 'gd'],
  summary: 'x + u: one gradient-descent step per layer (SMoE)',
  schema: residualConfigSchema,
  coefficients: {},
  referenceSign: () => 1,
  state: () => [],
  update: ({ moe, state }) => ({ delta: moe(), state }),
});
