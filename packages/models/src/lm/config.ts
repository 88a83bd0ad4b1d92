import { parseOrThrow } from '@msmoe/core';
import { routerConfigSchema } from '@msmoe/router';
import { type RuleConfigInput, ruleConfigSchema } from '@msmoe/update-rules';
import { z } from 'zod';

/** Sub-layer letters of an architecture string: attention, SMoE, MomentumSMoE, AdamSMoE, robust, dense FFN. */
export const LAYER_LETTERS = {
  s: 'attention',
  g: 'residual',
  m: 'heavy-ball',
  a: 'adam',
  r: 'robust',
  f: 'dense',
} as const;

/** Where LayerNorms sit: `reference` (post-LN, the authors' code) or `paper` (pre-LN, x + Δ). */
export type LmStructure = 'reference' | 'paper';
// Typed as plain ZodType so the API docs show the union, not zod's internal enum object.
const structureSchema: z.ZodType<LmStructure> = z.enum(['reference', 'paper']);

/** Configuration of the Transformer-XL-style MoE language model. */
export const lmConfigSchema = z
  .object({
    /** Vocabulary size. */
    vocabSize: z.number().int().positive(),
    /** Model width d. */
    dModel: z.number().int().positive(),
    /** Attention heads (d must be divisible by it). */
    nHeads: z.number().int().positive(),
    /** Expert (and dense FFN) hidden width; the authors use d. */
    dInner: z.number().int().positive(),
    /** Sub-layers: `s` attention, `g` SMoE, `m` MomentumSMoE, `a` AdamSMoE, `r` robust, `f` dense FFN (e.g. `sgsgsg`, GLaM `sgsf`). */
    architecture: z.string().regex(/^[sgmarf]+$/, 'letters s, g, m, a, r, f only'),
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
    /** Router override (default: the authors' top-k gate). `dModel` and `numExperts` are filled in. */
    router: z.record(z.string(), z.unknown()).optional(),
    /** Rule coefficients for the MoE letter used (e.g. `{ rule: 'heavy-ball', mu: 0.7 }`). */
    rule: ruleConfigSchema.optional(),
    /** `reference` (post-LN, the authors' code, default) or `paper` (pre-LN, x + Δ). */
    structure: structureSchema.default('reference'),
    /** Weight of the routers' auxiliary losses in the training loss. */
    auxWeight: z.number().min(0).default(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.dModel % c.nHeads !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['nHeads'],
        message: `must divide dModel (${c.dModel})`,
        input: c.nHeads,
      });
    }
    if (c.k > c.numExperts)
      ctx.addIssue({
        code: 'custom',
        path: ['k'],
        message: `must be ≤ numExperts (${c.numExperts})`,
        input: c.k,
      });
    const moe = new Set([...c.architecture].filter((l) => 'gmar'.includes(l)));
    if (moe.size > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['architecture'],
        message: `mixes MoE letters ${[...moe].join(', ')}: one update rule runs over all MoE layers`,
        input: c.architecture,
      });
    }
    if (c.rule && moe.size === 1) {
      const expected = LAYER_LETTERS[[...moe][0] as 'g' | 'm' | 'a' | 'r'];
      const allowed = c.rule.rule === 'sam' ? c.rule.inner.rule : c.rule.rule;
      if (expected !== 'residual' && allowed !== expected) {
        ctx.addIssue({
          code: 'custom',
          path: ['rule', 'rule'],
          message: `must be ${expected} for architecture letter ${[...moe][0]}`,
          input: c.rule.rule,
        });
      }
    }
    if (c.router) {
      const r = routerConfigSchema.safeParse({
        dModel: c.dModel,
        numExperts: c.numExperts,
        ...c.router,
      });
      if (!r.success)
        ctx.addIssue({
          code: 'custom',
          path: ['router'],
          message: r.error.issues[0]?.message ?? 'invalid router',
          input: c.router,
        });
    }
  });

/** Validated configuration. */
export type LmConfig = z.output<typeof lmConfigSchema>;
/** Configuration as written by a user. */
export type LmConfigInput = z.input<typeof lmConfigSchema>;

/** Validates an LM configuration (one clear error naming the field). */
export function parseLmConfig(input: unknown): LmConfig {
  return parseOrThrow(lmConfigSchema, input, 'model config');
}

/** The update rule implied by an architecture string (and the optional `rule` override). */
export function ruleOf(config: LmConfig): RuleConfigInput {
  if (config.rule) return config.rule;
  const letter = [...config.architecture].find((l) => 'gmar'.includes(l)) as
    | 'g'
    | 'm'
    | 'a'
    | 'r'
    | undefined;
  return { rule: letter ? LAYER_LETTERS[letter] : 'residual' } as RuleConfigInput;
}

/** Presets (word-level). `small`…`glam-medium` are the paper's sizes; `tiny` and `mini` train on 2 CPU cores in minutes. */
export const LM_PRESETS: Record<string, Omit<LmConfigInput, 'vocabSize'>> = {
  tiny: {
    dModel: 64,
    nHeads: 4,
    dInner: 64,
    architecture: 'sgsg',
    blockLength: 32,
    span: 32,
    dropout: 0.1,
    numExperts: 4,
    k: 2,
  },
  mini: {
    dModel: 128,
    nHeads: 4,
    dInner: 128,
    architecture: 'sgsgsg',
    blockLength: 64,
    span: 64,
    dropout: 0.1,
    numExperts: 8,
    k: 2,
  },
  small: {
    dModel: 128,
    nHeads: 8,
    dInner: 128,
    architecture: 'sgsgsg',
    blockLength: 256,
    span: 256,
    dropout: 0.7,
    numExperts: 16,
    k: 2,
  },
  medium: {
    dModel: 352,
    nHeads: 8,
    dInner: 352,
    architecture: 'sgsgsgsgsgsg',
    blockLength: 512,
    span: 1024,
    dropout: 0.1,
    numExperts: 16,
    k: 2,
  },
  large: {
    dModel: 512,
    nHeads: 8,
    dInner: 512,
    architecture: 'sg'.repeat(12),
    blockLength: 1024,
    span: 2048,
    dropout: 0.1,
    numExperts: 16,
    k: 2,
  },
  'glam-medium': {
    dModel: 352,
    nHeads: 8,
    dInner: 352,
    architecture: 'sgsf'.repeat(6),
    blockLength: 512,
    span: 2048,
    dropout: 0.1,
    numExperts: 16,
    k: 2,
  },
};

/** A preset with an architecture letter swapped in for its MoE layers (`g` → `m` gives MomentumSMoE). */
export function presetConfig(
  name: string,
  vocabSize: number,
  moeLetter: 'g' | 'm' | 'a' | 'r' = 'g',
): LmConfigInput {
  const p = LM_PRESETS[name];
  if (!p)
    throw new Error(
      `model preset: unknown "${name}"; allowed: ${Object.keys(LM_PRESETS).join(', ')}`,
    );
  return { ...p, vocabSize, architecture: p.architecture.replace(/g/g, moeLetter) };
}
