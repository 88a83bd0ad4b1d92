import { initSpecSchema, parseOrThrow, refineIssue } from '@msmoe/core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const weight = z.number().nonnegative();

/** Auxiliary loss weights of a token-choice router; a weight of 0 (the default) skips the loss. */
export const auxWeightsSchema = z
  .object({
    /** Switch/GShard load balance `E · Σ_e f_e · P_e` (the authors' weight when on: 0.01). */
    loadBalance: weight.default(0),
    /** V-MoE importance loss, cv² of per-expert summed probabilities (V-MoE: 0.005). */
    importance: weight.default(0),
    /** V-MoE load loss, cv² of the smooth per-expert load estimate; needs noise (V-MoE: 0.005). */
    load: weight.default(0),
    /** ST-MoE router z-loss `mean(logsumexp(logits)²)` (ST-MoE: 1e-3). */
    zLoss: weight.default(0),
  })
  .strict();

const noiseSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  /** Gaussian noise on the logits in training; std defaults to 1/E (V-MoE). */
  z.object({ type: z.literal('gaussian'), std: z.number().positive().optional() }).strict(),
  /** Shazeer et al.'s learned noise: std = softplus(x · W_noise), W_noise initialised to zero. */
  z.object({ type: z.literal('learned') }).strict(),
]);

const capacitySchema = z
  .object({
    /** Capacity factor while training (Switch 1.25, V-MoE 1.05). */
    train: z.number().positive(),
    /** Capacity factor at evaluation (Switch 2.0, V-MoE 4.0). */
    eval: z.number().positive(),
  })
  .strict();

/** How a token-choice router turns logits into gates (see {@link topKRouterConfigSchema}). */
export type TopKScoring = 'topk-then-softmax' | 'softmax-then-topk';
/** Order in which tokens claim expert capacity. */
export type CapacityPriority = 'token-order' | 'batch-priority';
// Typed as plain ZodType so the API docs show the union, not zod's internal enum object.
const scoringSchema: z.ZodType<TopKScoring> = z.enum(['topk-then-softmax', 'softmax-then-topk']);
const prioritySchema: z.ZodType<CapacityPriority> = z.enum(['token-order', 'batch-priority']);

/** Token-choice router: each token picks its k experts. Covers top-k, noisy top-k and Switch. */
export const topKRouterConfigSchema = z
  .object({
    type: z.literal('top-k'),
    /** Model width d (router input). */
    dModel: positiveInt,
    /** Number of experts E. */
    numExperts: positiveInt,
    /** Experts per token (default 2). */
    k: positiveInt.default(2),
    /**
     * `topk-then-softmax`: softmax over the k chosen logits (the authors' LM, renormalised by
     * construction). `softmax-then-topk`: softmax over all experts, then the k largest
     * probabilities (V-MoE, Switch), renormalised to sum 1 only with `renormalize`.
     */
    scoring: scoringSchema.default('topk-then-softmax'),
    /** Renormalise the k gates of `softmax-then-topk` to sum to 1 (default false). */
    renormalize: z.boolean().default(false),
    /** Router with bias `W x + b` (the authors' LM) or without (V-MoE) (default true). */
    bias: z.boolean().default(true),
    /** Router weight initialiser (default: PyTorch nn.Linear's). */
    init: initSpecSchema.optional(),
    /** Logit noise in training (default none). */
    noise: noiseSchema.default({ type: 'none' }),
    /** Switch's multiplicative jitter on the router input in training: x · U(1−ε, 1+ε) (default 0). */
    jitter: z.number().min(0).lt(1).default(0),
    /** Capacity factors; null (default) serves every token (no capacity). */
    capacityFactor: capacitySchema.nullable().default(null),
    /** With a capacity: set it to the largest load so nothing is dropped (default false). */
    dropless: z.boolean().default(false),
    /** Order in which tokens claim capacity: `token-order` (GShard) or `batch-priority` (V-MoE BPR). */
    priority: prioritySchema.default('token-order'),
    /** Smallest capacity per expert (default 1). */
    minCapacity: positiveInt.default(1),
    aux: auxWeightsSchema.default({ loadBalance: 0, importance: 0, load: 0, zLoss: 0 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.k > c.numExperts) refineIssue(ctx, ['k'], `must be ≤ numExperts (${c.numExperts})`, c.k);
    if (c.aux.load > 0 && c.noise.type === 'none') {
      refineIssue(
        ctx,
        ['aux', 'load'],
        'the load loss needs logit noise: set noise to gaussian or learned, or the weight to 0',
        c.aux.load,
      );
    }
    if (c.dropless && c.capacityFactor === null) {
      refineIssue(
        ctx,
        ['dropless'],
        'dropless needs a capacityFactor (without one no token is ever dropped)',
        c.dropless,
      );
    }
  });

/** Expert-choice router (Zhou et al. 2022): each expert takes its top-C tokens. */
export const expertChoiceRouterConfigSchema = z
  .object({
    type: z.literal('expert-choice'),
    dModel: positiveInt,
    numExperts: positiveInt,
    /** C = ceil(N · capacityFactor / E) tokens per expert (default 2: as many slots as top-2). */
    capacityFactor: z.number().positive().default(2),
    bias: z.boolean().default(true),
    init: initSpecSchema.optional(),
    aux: z
      .object({ zLoss: weight.default(0) })
      .strict()
      .default({ zLoss: 0 }),
  })
  .strict();

/** Soft MoE router (Puigcerver et al. 2023): every slot is a convex combination of tokens. */
export const softRouterConfigSchema = z
  .object({
    type: z.literal('soft'),
    dModel: positiveInt,
    numExperts: positiveInt,
    /** Slots per expert S (default 1). */
    slotsPerExpert: positiveInt.default(1),
    /** Tokens per group (a sequence or an image); dispatch softmax runs within a group. Default: all tokens. */
    groupSize: positiveInt.optional(),
  })
  .strict();

/** Any router configuration, discriminated by `type`. */
export const routerConfigSchema = z.discriminatedUnion('type', [
  topKRouterConfigSchema,
  expertChoiceRouterConfigSchema,
  softRouterConfigSchema,
]);

/** Validated token-choice configuration (defaults filled in). */
export type TopKRouterConfig = z.output<typeof topKRouterConfigSchema>;
/** Token-choice configuration as written by a user (defaults optional). */
export type TopKRouterConfigInput = z.input<typeof topKRouterConfigSchema>;
/** Validated expert-choice configuration. */
export type ExpertChoiceRouterConfig = z.output<typeof expertChoiceRouterConfigSchema>;
/** Expert-choice configuration as written by a user. */
export type ExpertChoiceRouterConfigInput = z.input<typeof expertChoiceRouterConfigSchema>;
/** Validated Soft MoE configuration. */
export type SoftRouterConfig = z.output<typeof softRouterConfigSchema>;
/** Soft MoE configuration as written by a user. */
export type SoftRouterConfigInput = z.input<typeof softRouterConfigSchema>;
/** Any validated router configuration. */
export type RouterConfig = TopKRouterConfig | ExpertChoiceRouterConfig | SoftRouterConfig;
/** Any router configuration as written by a user. */
export type RouterConfigInput =
  | TopKRouterConfigInput
  | ExpertChoiceRouterConfigInput
  | SoftRouterConfigInput;

/**
 * Validates a router configuration and fills in defaults; throws a `ConfigError` whose message
 * names the field, the value and what is allowed.
 */
export function parseRouterConfig(input: unknown): RouterConfig {
  return parseOrThrow(routerConfigSchema, input, 'router config');
}

/** The authors' language-model gate: `W x + b`, top-2 of raw logits, softmax over the two, no noise or capacity. */
export function authorsLmRouterConfig(dModel: number, numExperts = 16): TopKRouterConfigInput {
  return { type: 'top-k', dModel, numExperts, k: 2, scoring: 'topk-then-softmax', bias: true };
}

/** V-MoE's gate: no bias, softmax over experts, noise std 1/E, top-2 not renormalised, capacity 1.05/4.0, importance and load losses 0.005. */
export function vmoeRouterConfig(dModel: number, numExperts = 8, k = 2): TopKRouterConfigInput {
  return {
    type: 'top-k',
    dModel,
    numExperts,
    k,
    scoring: 'softmax-then-topk',
    renormalize: false,
    bias: false,
    noise: { type: 'gaussian', std: 1 / numExperts },
    capacityFactor: { train: 1.05, eval: 4.0 },
    aux: { loadBalance: 0, importance: 0.005, load: 0.005, zLoss: 0 },
  };
}

/** Switch Transformer's gate: top-1 of the softmax, capacity 1.25/2.0, jitter 0.01, load balance 0.01. */
export function switchRouterConfig(dModel: number, numExperts = 8): TopKRouterConfigInput {
  return {
    type: 'top-k',
    dModel,
    numExperts,
    k: 1,
    scoring: 'softmax-then-topk',
    bias: false,
    jitter: 0.01,
    capacityFactor: { train: 1.25, eval: 2.0 },
    aux: { loadBalance: 0.01, importance: 0, load: 0, zLoss: 0 },
  };
}
