/**
 * `@msmoe/update-rules`: the hidden state moves through the MoE layers like an optimiser over
 * depth. {@link ResidualRule} is SMoE (gradient descent), {@link HeavyBallRule} MomentumSMoE,
 * {@link AdamRule} AdamSMoE, {@link RobustRule} Robust MomentumSMoE; also RMSProp, Nesterov and
 * {@link SamRule}, which wraps any of them. Coefficients may be fixed or learnable;
 * {@link MoEUpdate} places a rule in the paper's form or the authors' post-LN structures.
 *
 * @packageDocumentation
 */
export { oneMinus, type Parametrisation, power, RuleCoefficient, scale } from './coefficient.js';
export {
  adamConfigSchema,
  type BaseRuleConfig,
  baseRuleConfigSchema,
  type Coefficient,
  coefficientSchema,
  heavyBallConfigSchema,
  nesterovConfigSchema,
  parseRuleConfig,
  RULE_NAMES,
  type RuleConfig,
  type RuleConfigInput,
  type RuleName,
  residualConfigSchema,
  rmspropConfigSchema,
  robustConfigSchema,
  ruleConfigSchema,
  samConfigSchema,
} from './config.js';
export { createUpdateRule } from './create.js';
export { AdamRule, type AdamRuleOptions, type AdamState } from './rules/adam.js';
export { BaseRule } from './rules/base.js';
export { HeavyBallRule, type MomentumState, NesterovRule } from './rules/heavy-ball.js';
export { ResidualRule } from './rules/residual.js';
export { RmsPropRule, type RmsPropState } from './rules/rmsprop.js';
export {
  type RobustCoefficients,
  RobustRule,
  type RobustState,
  robustCoefficients,
} from './rules/robust.js';
export { SamRule } from './rules/sam.js';
export { MoEUpdate, type MoEUpdateOptions, type UpdateStructure } from './structure.js';
export type { MoEFunction, RuleState, RuleUpdate, UpdateRule } from './types.js';
