import { parseOrThrow, refineIssue } from '@msmoe/core';
import { authorsLmRouterConfig, routerConfigSchema } from '@msmoe/router';
import {
  parseRuleConfig,
  RULE_LETTERS,
  type RuleConfig,
  ruleConfigSchema,
  ruleLetter,
  ruleSpecSchema,
} from '@msmoe/update-rules';
import { z } from 'zod';

/** Sub-layer letters of an architecture string: `s` attention, `f` dense FFN, and each rule's letter for an MoE layer (`g` SMoE, `m` MomentumSMoE, `a` AdamSMoE, `r` robust, `n` Nesterov, `p` RMSProp). */
export const LAYER_LETTERS: Readonly<Record<string, string>> = {
  s: 'attention',
  f: 'dense',
  ...RULE_LETTERS,
};
const MOE_LETTERS = Object.keys(RULE_LETTERS).join('');

/** Where LayerNorms sit: `reference` (post-LN, the authors' code) or `paper` (pre-LN, x + Δ). */
export type LmStructure = 'reference' | 'paper';
// Typed as plain ZodType so the API docs show the union, not zod's internal enum object.
const structureSchema: z.ZodType<LmStructure> = z.enum(['reference', 'paper']);

/** The MoE letters of an architecture string, once each. */
const moeLettersOf = (architecture: string) => [
  ...new Set([...architecture].filter((l) => MOE_LETTERS.includes(l))),
];

/** Configuration of the Transformer-XL-style MoE language model. */
export const lmConfigSchema = z
  .object({
    /** Vocabulary size. */
    vocabSize: z.number().int().positive(),
    /** Model width d. */
    dModel: z.number().int().positive(),
    /** Attention heads (d must be divisible by it). */
    nHeads: z.number().int().positive(),
    /** Expert (and dense FFN) hidden width (default d, as the authors). */
    dInner: z.number().int().positive().optional(),
    /** Sub-layers: `s` attention, `f` dense FFN, a rule letter for an MoE layer (e.g. `sgsgsg`, `smsmsm`, GLaM `sgsf`). */
    architecture: z
      .string()
      .regex(
        new RegExp(`^[sf${MOE_LETTERS}]+$`),
        `letters s (attention), f (dense) and MoE letters ${[...MOE_LETTERS].join(', ')} only`,
      ),
    /** Tokens per training block M. */
    blockLength: z.number().int().positive(),
    /** Attention span S: each query sees the S most recent tokens (cache included). */
    span: z.number().int().positive(),
    /** Dropout on attention, inside experts and on the MoE output. */
    dropout: z.number().min(0).lt(1).default(0.1),
    /** Experts per MoE layer. */
    numExperts: z.number().int().positive().default(16),
    /** Experts per token. */
    k: z.number().int().positive().default(2),
    /** Router fields over the authors' top-k gate (`{ jitter: 0.01 }`), or another router (`{ type: 'expert-choice' }`). `dModel` and `numExperts` are filled in. */
    router: z.record(z.string(), z.unknown()).optional(),
    /** The update rule of the MoE layers: a letter, name or object (`{ rule: 'heavy-ball', mu: 0.9 }`); default the architecture letter's rule. */
    rule: ruleSpecSchema.optional(),
    /** `reference` (post-LN, the authors' code, default) or `paper` (pre-LN, x + Δ). */
    structure: structureSchema.default('reference'),
    /** Weight of the routers' auxiliary losses in the training loss. */
    auxWeight: z.number().min(0).default(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.dModel % c.nHeads !== 0)
      refineIssue(ctx, ['nHeads'], `must divide dModel (${c.dModel})`, c.nHeads);
    if (c.k > c.numExperts) refineIssue(ctx, ['k'], `must be ≤ numExperts (${c.numExperts})`, c.k);
    const moe = moeLettersOf(c.architecture);
    if (moe.length > 1) {
      refineIssue(
        ctx,
        ['architecture'],
        `mixes MoE letters ${moe.join(', ')}: one update rule runs over all MoE layers`,
        c.architecture,
      );
    } else if (c.rule && moe.length === 1 && ruleLetter(c.rule) !== moe[0]) {
      const letter = ruleLetter(c.rule);
      refineIssue(
        ctx,
        ['rule'],
        `is ${c.rule.rule}, whose MoE letter is "${letter}", but the architecture's MoE layers are "${moe[0]}" (${RULE_LETTERS[moe[0] as string]}): write the architecture with "${letter}"`,
        c.rule.rule,
      );
    }
    if (c.rule?.rule === 'adam' && c.rule.layer0Quirk && c.structure !== 'reference')
      refineIssue(
        ctx,
        ['rule', 'layer0Quirk'],
        `reproduces the authors' reference code: it needs structure "reference" (got "${c.structure}")`,
        true,
      );
  })
  .transform((c, ctx) => {
    // The rule named by the architecture letter unless given; the router over the authors' gate.
    const letter = moeLettersOf(c.architecture)[0];
    const rule: RuleConfig =
      c.rule ?? ruleConfigSchema.parse({ rule: letter ? RULE_LETTERS[letter] : 'residual' });
    const user = c.router ?? {};
    const type = user.type ?? 'top-k';
    const input = {
      ...(type === 'top-k' ? { ...authorsLmRouterConfig(c.dModel, c.numExperts), k: c.k } : {}),
      ...user,
      dModel: c.dModel,
      numExperts: c.numExperts,
    };
    const r = routerConfigSchema.safeParse(input);
    if (!r.success) {
      for (const issue of r.error.issues)
        ctx.addIssue({ ...issue, path: ['router', ...issue.path] } as never);
      return z.NEVER;
    }
    return { ...c, dInner: c.dInner ?? c.dModel, rule, router: r.data };
  });

/** Validated configuration: the rule and router resolved, defaults filled in. */
export type LmConfig = z.output<typeof lmConfigSchema>;
/** Configuration as written by a user. */
export type LmConfigInput = z.input<typeof lmConfigSchema>;

/** Validates an LM configuration (one clear error naming the field). */
export function parseLmConfig(input: unknown): LmConfig {
  return parseOrThrow(lmConfigSchema, input, 'model config');
}

/** Presets (word-level; fields left out take the schema defaults: dInner = d, dropout 0.1, 16 experts, top-2). `small`…`glam-medium` are the paper's sizes; `tiny` and `mini` train on 2 CPU cores in minutes. */
export const LM_PRESETS: Record<string, Omit<LmConfigInput, 'vocabSize'>> = {
  tiny: {
    dModel: 64,
    nHeads: 4,
    architecture: 'sgsg',
    blockLength: 32,
    span: 32,
    numExperts: 4,
  },
  mini: {
    dModel: 128,
    nHeads: 4,
    architecture: 'sgsgsg',
    blockLength: 64,
    span: 64,
    numExperts: 8,
  },
  small: {
    dModel: 128,
    nHeads: 8,
    architecture: 'sgsgsg',
    blockLength: 256,
    span: 256,
    dropout: 0.7,
  },
  medium: {
    dModel: 352,
    nHeads: 8,
    architecture: 'sgsgsgsgsgsg',
    blockLength: 512,
    span: 1024,
  },
  large: {
    dModel: 512,
    nHeads: 8,
    architecture: 'sg'.repeat(12),
    blockLength: 1024,
    span: 2048,
  },
  'glam-medium': {
    dModel: 352,
    nHeads: 8,
    architecture: 'sgsf'.repeat(6),
    blockLength: 512,
    span: 2048,
  },
};

/**
 * A preset with an update rule: its MoE layers take the rule's letter (`g` → `m` for
 * MomentumSMoE) and the rule its settings: a letter, name or label, or a validated rule config
 * (`presetConfig('tiny', 10000, parseRuleConfig({ rule: 'heavy-ball', mu: 0.9 }))`).
 */
export function presetConfig(
  name: string,
  vocabSize: number,
  rule: RuleConfig | string = 'g',
): LmConfigInput {
  const p = LM_PRESETS[name];
  if (!p)
    throw new Error(
      `model preset: unknown "${name}"; allowed: ${Object.keys(LM_PRESETS).join(', ')}`,
    );
  const parsed = typeof rule === 'string' ? parseRuleConfig(rule) : rule;
  return {
    ...p,
    vocabSize,
    architecture: p.architecture.replace(/g/g, ruleLetter(parsed)),
    rule: parsed,
  };
}
