/**
 * `@msmoe/update-rules`: the hidden state moves through the MoE layers like an optimiser over
 * depth. Each rule is one record of the {@link RULES} registry (name, letter, label, schema with
 * the authors' defaults, and its maths written once against {@link Ops}): residual (SMoE),
 * heavy-ball (MomentumSMoE), Nesterov, Adam (AdamSMoE), RMSProp, robust momentum (Robust
 * MomentumSMoE) and SAM, which wraps any of them. {@link createUpdateRule} binds a rule to tfjs
 * tensors with fixed or learnable coefficients; the ONNX exporter binds the same record to graph
 * values.
 *
 * @packageDocumentation
 */
export { foldingOps, type Ops, type OpsBackend, type Value } from './ops.js';
export {
  parseRuleConfig,
  RULE_LETTERS,
  RULE_NAMES,
  RULES,
  type RuleConfig,
  type RuleConfigInput,
  type RuleName,
  ruleConfigSchema,
  ruleDef,
  ruleLabel,
  ruleLetter,
  ruleSpecSchema,
  ruleSpellings,
} from './registry.js';
export {
  type Coefficient,
  coefficientSchema,
  defineRule,
  type Parametrisation,
  positiveCoefficient,
  type RuleContext,
  type RuleDef,
  type RuleState,
  type RuleStep,
  unitCoefficient,
} from './rule.js';
export { adamConfigSchema } from './rules/adam.js';
export { type BaseRuleConfig, baseRuleConfigSchema } from './rules/base.js';
export { heavyBallConfigSchema } from './rules/heavy-ball.js';
export { nesterovConfigSchema } from './rules/nesterov.js';
export { residualConfigSchema } from './rules/residual.js';
export { rmspropConfigSchema } from './rules/rmsprop.js';
export { type RobustCoefficients, robustCoefficients, robustConfigSchema } from './rules/robust.js';
export { samConfigSchema } from './rules/sam.js';
export {
  createUpdateRule,
  type MoEFunction,
  RuleCoefficient,
  tfOps,
  UpdateRule,
} from './tfjs.js';
