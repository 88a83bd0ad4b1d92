// The rules that stand alone (SAM wraps one of them). A new rule is one file beside these plus
// its line here.
import { z } from 'zod';
import { adam, adamConfigSchema } from './adam.js';
import { heavyBall, heavyBallConfigSchema } from './heavy-ball.js';
import { nesterov, nesterovConfigSchema } from './nesterov.js';
import { residual, residualConfigSchema } from './residual.js';
import { rmsprop, rmspropConfigSchema } from './rmsprop.js';
import { robust, robustConfigSchema } from './robust.js';

/** Any rule but SAM (which wraps one of these). */
export const baseRuleConfigSchema = z.discriminatedUnion('rule', [
  residualConfigSchema,
  heavyBallConfigSchema,
  nesterovConfigSchema,
  adamConfigSchema,
  rmspropConfigSchema,
  robustConfigSchema,
]);

/** Validated configuration of a rule SAM can wrap. */
export type BaseRuleConfig = z.output<typeof baseRuleConfigSchema>;

/** The stand-alone rules, in display order. */
export const BASE_RULES = [residual, heavyBall, nesterov, adam, rmsprop, robust] as const;
