import { readFileSync } from 'node:fs';
import { ConfigError, parseOrThrow } from '@msmoe/core';
import { LM_PRESETS, VIT_PRESETS } from '@msmoe/models';
import { trainConfigSchema } from '@msmoe/training';
import { ruleConfigSchema } from '@msmoe/update-rules';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** What a run learns: an LM corpus or an image set. */
export type TaskName = 'sotu' | 'wikitext' | 'mnist' | 'mnist-c' | 'fashion-mnist';
const taskSchema: z.ZodType<TaskName> = z.enum([
  'sotu',
  'wikitext',
  'mnist',
  'mnist-c',
  'fashion-mnist',
]);

/** The MoE variant: g SMoE, m MomentumSMoE, a AdamSMoE, r Robust MomentumSMoE. */
export type RuleLetter = 'g' | 'm' | 'a' | 'r';
const letterSchema: z.ZodType<RuleLetter> = z.enum(['g', 'm', 'a', 'r']);

/** Display names of the variants, as the paper. */
export const VARIANT_NAMES: Record<RuleLetter, string> = {
  g: 'SMoE',
  m: 'MomentumSMoE',
  a: 'AdamSMoE',
  r: 'Robust MomentumSMoE',
};

/** The update rule of each letter (for ViTs, whose config names the rule). */
export const RULE_OF_LETTER = {
  g: 'residual',
  m: 'heavy-ball',
  a: 'adam',
  r: 'robust',
} as const;

/** Accepts a letter or a rule/variant name (`heavy-ball`, `MomentumSMoE`, …). */
export function parseRule(value: string): RuleLetter {
  const v = value.toLowerCase().replace(/[\s_]/g, '-');
  const aliases: Record<string, RuleLetter> = {
    g: 'g',
    smoe: 'g',
    residual: 'g',
    m: 'm',
    momentumsmoe: 'm',
    momentum: 'm',
    'heavy-ball': 'm',
    a: 'a',
    adamsmoe: 'a',
    adam: 'a',
    r: 'r',
    'robust-momentumsmoe': 'r',
    robust: 'r',
  };
  const letter = aliases[v];
  if (!letter)
    throw new ConfigError(
      `rule: "${value}" is not a rule; allowed: g|residual|SMoE, m|heavy-ball|MomentumSMoE, a|adam|AdamSMoE, r|robust`,
      'rule',
    );
  return letter;
}

const IMAGE_TASKS = new Set<TaskName>(['mnist', 'mnist-c', 'fashion-mnist']);
/** Whether a task trains a ViT. */
export const isImageTask = (t: TaskName) => IMAGE_TASKS.has(t);

/** A complete run configuration (what config.json holds). */
export const runConfigSchema = z
  .object({
    /** Run folder name (default `<variant>-s<seed>`). */
    name: z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, ".", "_" and "-" only')
      .optional(),
    /** Variant label for reports (default the rule's paper name). */
    variant: z.string().optional(),
    task: taskSchema.default('sotu'),
    data: z
      .object({
        /** Folder of WikiText (`wiki.*.tokens` or `*.txt`) or Fashion-MNIST IDX files. */
        folder: z.string().optional(),
        /** Vocabulary cap (most frequent words + `<unk>`): the CPU presets' softmax. */
        vocabSize: z.number().int().min(3).default(10000),
        /** Attack rate of the word-swap attack on validation/test text. */
        attackRate: z.number().min(0).max(1).default(0.025),
        /** MNIST-C corruptions evaluated (default all 15). */
        corruptions: z.array(z.string()).optional(),
        /** Images per corrupted test set (default the whole test set). */
        corruptedLimit: z.number().int().positive().optional(),
      })
      .strict()
      .default({ vocabSize: 10000, attackRate: 0.025 }),
    model: z
      .object({
        /** LM presets: tiny, mini, small, medium, large, glam-medium; ViT: mnist-tiny, cifar-tiny. */
        preset: z.string().optional(),
        /** MoE update: g (SMoE), m (MomentumSMoE), a (AdamSMoE), r (Robust MomentumSMoE). */
        rule: letterSchema.default('g'),
        /** Rule coefficients, e.g. `{ rule: heavy-ball, mu: 0.7, gamma: 1 }`. */
        coefficients: ruleConfigSchema.optional(),
        /** ViT MoE kind. */
        moe: z.enum(['vmoe', 'soft']).default('vmoe'),
        /** Any model config field to override (validated by the model's own schema). */
        overrides: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .default({ rule: 'g', moe: 'vmoe' }),
    /** Streams (LM) or images (ViT) per micro-batch. */
    batchSize: z.number().int().positive().default(8),
    train: trainConfigSchema.prefault({ steps: 300 }),
    eval: z
      .object({
        /** Validation every N updates (0: only at the end). */
        every: z.number().int().min(0).default(100),
        /** Validation blocks (LM) or images/250 (ViT) per periodic evaluation. */
        blocks: z.number().int().positive().default(20),
        /** Limit of the final clean/attacked evaluation in blocks (LM); default the whole split. */
        finalBlocks: z.number().int().positive().optional(),
        batchSize: z.number().int().positive().default(10),
      })
      .strict()
      .default({ every: 100, blocks: 20, batchSize: 10 }),
    seed: z.number().int().min(0).default(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    const image = isImageTask(c.task);
    const presets = image ? VIT_PRESETS : LM_PRESETS;
    const preset = c.model.preset ?? (image ? 'mnist-tiny' : 'tiny');
    if (!presets[preset])
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'preset'],
        message: `unknown preset for task ${c.task}; allowed: ${Object.keys(presets).join(', ')}`,
        input: preset,
      });
    if (c.task === 'wikitext' && !c.data.folder)
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'folder'],
        message: 'is required for task wikitext (a folder with wiki.train.tokens or train.txt)',
        input: undefined,
      });
  });

/** Validated run configuration. */
export type RunConfig = z.output<typeof runConfigSchema>;
/** Run configuration as written in a file or built from flags. */
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Validates a run configuration (one line naming the field, the value and what is allowed). */
export function parseRunConfig(input: unknown): RunConfig {
  const c = parseOrThrow(runConfigSchema, input, 'config');
  return {
    ...c,
    model: { ...c.model, preset: c.model.preset ?? (isImageTask(c.task) ? 'mnist-tiny' : 'tiny') },
  };
}

/** Reads a JSON or YAML config file (by extension; YAML otherwise). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`config file ${path}: cannot be read (does it exist?)`, '');
  }
  try {
    const v = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new Error('the top level must be an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message.split('\n')[0]}`, '');
  }
}

/** Deep-merges plain objects (later wins); arrays and scalars are replaced. */
export function merge(...objs: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of objs)
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      const prev = out[k];
      out[k] =
        v &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        prev &&
        typeof prev === 'object' &&
        !Array.isArray(prev)
          ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
          : v;
    }
  return out;
}

/** Default folder name of a run. */
export function runName(c: RunConfig): string {
  return (
    c.name ?? `${(c.variant ?? VARIANT_NAMES[c.model.rule]).replace(/[^\w.-]+/g, '-')}-s${c.seed}`
  );
}
