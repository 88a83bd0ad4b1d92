import { parseOrThrow, refineIssue } from '@msmoe/core';
import { z } from 'zod';
import type { RuleDef } from './rule.js';
import { BASE_RULES, baseRuleConfigSchema } from './rules/base.js';
import { sam, samConfigSchema } from './rules/sam.js';

/** Every update rule, in display order: one record each (name, letter, label, schema, maths). */
export const RULES: readonly RuleDef<RuleConfig>[] = [
  ...BASE_RULES,
  sam,
] as unknown as RuleDef<RuleConfig>[];

/** Any update-rule configuration, discriminated by `rule`, with the authors' defaults. */
export const ruleConfigSchema = z.discriminatedUnion('rule', [
  ...baseRuleConfigSchema.options,
  samConfigSchema,
]);

/** Validated configuration (defaults filled in). */
export type RuleConfig = z.output<typeof ruleConfigSchema>;
/** Configuration as written by a user. */
export type RuleConfigInput = z.input<typeof ruleConfigSchema>;
/** A rule's name. */
export type RuleName = RuleConfig['rule'];
/** Names of the rules. */
export const RULE_NAMES = RULES.map((r) => r.name) as RuleName[];

/** Rule letters of architecture strings (`g` SMoE, `m` MomentumSMoE, …) to rule names. */
export const RULE_LETTERS: Readonly<Record<string, RuleName>> = Object.fromEntries(
  RULES.filter((r) => r.letter).map((r) => [r.letter, r.name]),
);

/** The record of a rule by name. */
export function ruleDef(name: string): RuleDef<RuleConfig> {
  const def = RULES.find((r) => r.name === name);
  if (!def) throw new Error(`update rule "${name}" is unknown; allowed: ${RULE_NAMES.join(', ')}`);
  return def;
}

/**
 * The rule's display name in a model family: `ruleLabel({ rule: 'heavy-ball' })` is
 * `MomentumSMoE`, with family `V-MoE` `MomentumV-MoE`; SAM prefixes its wrapped rule's.
 */
export function ruleLabel(c: RuleConfig, family = 'SMoE'): string {
  const def = ruleDef(c.rule);
  const inner = def.inner?.(c) as RuleConfig | undefined;
  return `${def.labelPrefix}${inner ? ruleLabel(inner, family) : family}`;
}

/** The architecture-string letter of a configured rule (SAM: its wrapped rule's). */
export function ruleLetter(c: RuleConfig): string {
  const def = ruleDef(c.rule);
  const inner = def.inner?.(c) as RuleConfig | undefined;
  if (inner) return ruleLetter(inner);
  return def.letter as string;
}

const normalise = (s: string) => s.toLowerCase().replace(/[\s_]+/g, '-');

/** What the CLI accepts for a rule: letters, names, labels and aliases, each listed once per rule. */
export function ruleSpellings(): string[] {
  return RULES.map((r) =>
    [r.letter, r.name, ruleLabel(ruleConfigSchema.parse({ rule: r.name }))]
      .filter(Boolean)
      .join('|'),
  );
}

function nameOf(spelling: string): RuleName | undefined {
  const v = normalise(spelling);
  for (const r of RULES) {
    const labels = ['SMoE', 'V-MoE'].map((f) =>
      normalise(ruleLabel(ruleConfigSchema.parse({ rule: r.name }), f)),
    );
    if ([r.letter, r.name, ...labels, ...(r.aliases ?? [])].includes(v)) return r.name;
  }
  return undefined;
}

/**
 * A rule as a user writes it: a letter, name or label (`m`, `heavy-ball`, `MomentumSMoE`), or a
 * full object (`{ rule: 'heavy-ball', mu: 0.9 }`); validated with the authors' defaults.
 */
export const ruleSpecSchema = z
  .union([z.string(), z.object({ rule: z.string() }).loose()])
  .transform((v, ctx) => {
    const obj = typeof v === 'string' ? { rule: nameOf(v) ?? v } : v;
    if (typeof v === 'string' && !nameOf(v)) {
      refineIssue(ctx, [], `is not a rule; allowed: ${ruleSpellings().join(', ')}`, v);
      return z.NEVER;
    }
    const r = ruleConfigSchema.safeParse(obj);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, input: undefined } as never);
    return z.NEVER;
  });

/** Validates a rule given as a letter, name, label or object; one error naming the field otherwise. */
export function parseRuleConfig(input: unknown): RuleConfig {
  return parseOrThrow(ruleSpecSchema, input, 'update rule config');
}
