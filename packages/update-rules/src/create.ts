import { type BaseRuleConfig, parseRuleConfig, type RuleConfigInput } from './config.js';
import { AdamRule } from './rules/adam.js';
import { HeavyBallRule, NesterovRule } from './rules/heavy-ball.js';
import { ResidualRule } from './rules/residual.js';
import { RmsPropRule } from './rules/rmsprop.js';
import { RobustRule } from './rules/robust.js';
import { SamRule } from './rules/sam.js';
import type { UpdateRule } from './types.js';

function createBase(c: BaseRuleConfig): UpdateRule {
  switch (c.rule) {
    case 'residual':
      return new ResidualRule() as unknown as UpdateRule;
    case 'heavy-ball':
      return new HeavyBallRule(c) as unknown as UpdateRule;
    case 'nesterov':
      return new NesterovRule(c) as unknown as UpdateRule;
    case 'adam':
      return new AdamRule(c) as unknown as UpdateRule;
    case 'rmsprop':
      return new RmsPropRule(c) as unknown as UpdateRule;
    case 'robust':
      return new RobustRule(c) as unknown as UpdateRule;
  }
}

/**
 * Builds an update rule from a plain configuration, validated at the door.
 *
 * @example
 * ```ts
 * createUpdateRule({ rule: 'heavy-ball', mu: 0.7, gamma: 1 });
 * createUpdateRule({ rule: 'heavy-ball', mu: { init: 0.7, learnable: true } });
 * createUpdateRule({ rule: 'sam', rho: 0.05, inner: { rule: 'adam' } });
 * ```
 */
export function createUpdateRule(config: RuleConfigInput): UpdateRule {
  const c = parseRuleConfig(config);
  if (c.rule === 'sam') return new SamRule(createBase(c.inner), c.rho) as unknown as UpdateRule;
  return createBase(c);
}
