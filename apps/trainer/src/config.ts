import { readFileSync } from 'node:fs';
import { ConfigError, parseOrThrow, refineIssue } from '@msmoe/core';
import {
  LM_PRESETS,
  lmConfigSchema,
  presetConfig,
  VIT_PRESETS,
  vitConfigSchema,
  vitPresetConfig,
} from '@msmoe/models';
import { trainConfigSchema } from '@msmoe/training';
import { type RuleConfig, ruleLabel, ruleSpecSchema } from '@msmoe/update-rules';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** What a run learns: an LM corpus or an image set. */
export type TaskName =
  | 'sotu'
  | 'sotu-shift'
  | 'wikitext'
  | 'mnist'
  | 'mnist-c'
  | 'fashion-mnist'
  | 'fashion-mnist-c';
const taskSchema: z.ZodType<TaskName> = z.enum([
  'sotu',
  'sotu-shift',
  'wikitext',
  'mnist',
  'mnist-c',
  'fashion-mnist',
  'fashion-mnist-c',
]);

const IMAGE_TASKS = new Set<TaskName>(['mnist', 'mnist-c', 'fashion-mnist', 'fashion-mnist-c']);
/** Image tasks evaluated under the MNIST-C corruptions. */
export const CORRUPTED_TASKS = new Set<TaskName>(['mnist-c', 'fashion-mnist-c']);
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
        /** MNIST-C corruptions evaluated (mnist-c, fashion-mnist-c; default all 15). */
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
        /**
         * The MoE update rule: a letter, name or label (`m`, `heavy-ball`, `MomentumSMoE`) or an
         * object with its settings (`{ rule: heavy-ball, mu: 0.9 }`); default SMoE (residual).
         */
        rule: ruleSpecSchema.prefault('g'),
        /** ViT MoE kind. */
        moe: z.enum(['vmoe', 'soft']).default('vmoe'),
        /** Any model config field to override (validated by the model's own schema). */
        overrides: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .prefault({}),
    /** Streams (LM) or images (ViT) per micro-batch. */
    batchSize: z.number().int().positive().default(8),
    train: trainConfigSchema.prefault({ steps: 300 }),
    eval: z
      .object({
        /** Validation every N updates (0: only at the end). */
        every: z.number().int().min(0).default(100),
        /** Validation blocks (LM) or images/250 (ViT) per periodic evaluation. */
        blocks: z.number().int().positive().default(20),
        /**
         * Blocks per split of the final evaluation (LM; each of valid, test, attacked and shift):
         * bounded by default so it takes seconds, not minutes; `"all"` for the whole splits.
         */
        finalBlocks: z.union([z.number().int().positive(), z.literal('all')]).default(200),
        batchSize: z.number().int().positive().default(10),
      })
      .strict()
      .default({ every: 100, blocks: 20, batchSize: 10, finalBlocks: 200 }),
    seed: z.number().int().min(0).default(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    const image = isImageTask(c.task);
    const presets = image ? VIT_PRESETS : LM_PRESETS;
    const preset = c.model.preset ?? (image ? 'mnist-tiny' : 'tiny');
    if (!presets[preset])
      refineIssue(
        ctx,
        ['model', 'preset'],
        `unknown preset for task ${c.task}; allowed: ${Object.keys(presets).join(', ')}`,
        preset,
      );
    if (c.task === 'wikitext' && !c.data.folder)
      refineIssue(
        ctx,
        ['data', 'folder'],
        'is required for task wikitext (a folder with wiki.train.tokens or train.txt)',
        undefined,
      );
    // The model this config builds, checked now (before any data is read or written); the
    // vocabulary size is known only once the data is read, any valid size stands in for it.
    if (!presets[preset]) return;
    const model = modelConfigInput(c, preset, image ? 10 : c.data.vocabSize);
    const r = (image ? vitConfigSchema : lmConfigSchema).safeParse(model);
    if (!r.success)
      for (const issue of r.error.issues) {
        const field = String(issue.path[0]);
        const path =
          field === 'rule' ? ['model', ...issue.path] : ['model', 'overrides', ...issue.path];
        ctx.addIssue({ ...issue, path, input: undefined } as never);
      }
  });

/** Validated run configuration. */
export type RunConfig = z.output<typeof runConfigSchema>;
/** Run configuration as written in a file or built from flags. */
export type RunConfigInput = z.input<typeof runConfigSchema>;

/**
 * The model config of a run config (preset + rule + overrides), before validation by the
 * model's schema; `size` is the vocabulary size (LM) or the number of classes (ViT).
 */
export function modelConfigInput(
  c: Pick<RunConfig, 'task' | 'model'>,
  preset: string,
  size: number,
): Record<string, unknown> {
  const overrides = c.model.overrides ?? {};
  if (!isImageTask(c.task)) return { ...presetConfig(preset, size, c.model.rule), ...overrides };
  return vitPresetConfig(preset, size, c.model.moe, { rule: c.model.rule, ...overrides });
}

/**
 * Config files and folders written before 0.2 chose the rule twice (`model.rule` a letter and
 * `model.coefficients` the settings): the settings become `model.rule`.
 */
export function migrateRunConfig(input: unknown): unknown {
  const model = (input as { model?: Record<string, unknown> } | null)?.model;
  if (!model || typeof model !== 'object' || !('coefficients' in model)) return input;
  const { coefficients, ...rest } = model;
  return { ...(input as object), model: { ...rest, rule: coefficients ?? rest.rule } };
}

/** Validates a run configuration (one line naming the field, the value and what is allowed). */
export function parseRunConfig(input: unknown): RunConfig {
  const c = parseOrThrow(runConfigSchema, migrateRunConfig(input), 'config');
  return {
    ...c,
    model: { ...c.model, preset: c.model.preset ?? (isImageTask(c.task) ? 'mnist-tiny' : 'tiny') },
  };
}

/** The fields a run adds to its config.json (not part of the run config). */
const RESOLVED_FIELDS = [
  'backend',
  'provenance',
  'modelConfig',
  'parameters',
  'vocabulary',
  'provenance',
  'dataParallel',
];

/** The run config of a run folder's config.json, migrated and validated (what `--resume`, `eval` and `export` use). */
export function runConfigOf(config: Record<string, unknown>): RunConfig {
  return parseRunConfig(
    Object.fromEntries(Object.entries(config).filter(([k]) => !RESOLVED_FIELDS.includes(k))),
  );
}

/** The display name of a run config's variant: its label, or the rule's (`MomentumSMoE`, `MomentumV-MoE`). */
export function variantName(c: Pick<RunConfig, 'task' | 'model' | 'variant'>): string {
  return c.variant ?? ruleLabel(c.model.rule, familyOf(c));
}

/** The MoE family name of a run config: `SMoE` for LMs, `V-MoE` or `Soft-MoE` for ViTs. */
export function familyOf(c: Pick<RunConfig, 'task' | 'model'>): string {
  return !isImageTask(c.task) ? 'SMoE' : c.model.moe === 'soft' ? 'Soft-MoE' : 'V-MoE';
}

/** The rule of a CLI value: a letter, name, label or JSON object; one error naming `field`. */
export function parseRuleFlag(value: string, field = 'rule'): RuleConfig {
  let input: unknown = value;
  if (value.trim().startsWith('{')) {
    try {
      input = JSON.parse(value);
    } catch {
      throw new ConfigError(`${field}: "${value}" is not valid JSON`, field);
    }
  }
  const r = ruleSpecSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ConfigError(
    `${field}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'} (got ${JSON.stringify(value)})`,
    field,
  );
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

/**
 * Merges run config sources (later wins) as {@link merge}, with `model.rule` written as a letter or
 * name expanded first, so `--set model.rule.mu=0.9` adds to `--rule m`; a source naming another
 * rule replaces the earlier rule's settings instead of mixing them.
 */
export function mergeRunConfigs(...sources: Record<string, unknown>[]): Record<string, unknown> {
  let rule: Record<string, unknown> | string | undefined;
  const rest = sources.map((src) => {
    const model = src.model as Record<string, unknown> | undefined;
    if (!model || model.rule === undefined) return src;
    let next = model.rule as Record<string, unknown> | string;
    if (typeof next === 'string') {
      const r = ruleSpecSchema.safeParse(next);
      next = r.success ? { ...r.data } : next;
    }
    const sameRule =
      typeof rule === 'object' &&
      typeof next === 'object' &&
      (next.rule === undefined || next.rule === rule.rule);
    rule = sameRule
      ? merge(rule as Record<string, unknown>, next as Record<string, unknown>)
      : next;
    const { rule: _, ...others } = model;
    return { ...src, model: others };
  });
  const merged = merge(...rest);
  if (rule !== undefined) merged.model = { ...((merged.model as object) ?? {}), rule };
  return merged;
}

/** Deep-merges plain objects (later wins); arrays and scalars are replaced. */
export function merge(...objs: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of objs)
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      // A config file's "__proto__" key is an own property after JSON.parse: never a field.
      if (k === '__proto__' || k === 'constructor' || k === 'prototype')
        throw new ConfigError(`${k}: is not a config field name`, k);
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
  return c.name ?? `${variantName(c).replace(/[^\w.-]+/g, '-')}-s${c.seed}`;
}
