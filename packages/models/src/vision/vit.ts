import { constantVariable, initVariable, parseOrThrow, type Rng, refineIssue } from '@msmoe/core';
import { ExpertBank } from '@msmoe/experts';
import {
  createRouter,
  type RouterConfigInput,
  type Routing,
  vmoeRouterConfig,
} from '@msmoe/router';
import { ruleSpecSchema, UpdateRule } from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { isMoeBlock, type VitBackend, vitForward } from '../forward.js';
import { type MoELayer, moeLayer } from '../moe-layer.js';
import { ParamRegistry } from '../params.js';
import { type TfForwardOptions, tfBackend } from '../tf-backend.js';
import { legacyWeightName } from '../weight-names.js';

/** Which MoE the ViT uses: V-MoE's noisy top-k with capacity, or Soft MoE. */
export type VitMoEKind = 'vmoe' | 'soft';
const kindSchema: z.ZodType<VitMoEKind> = z.enum(['vmoe', 'soft']);
/** Where the update sits: `paper` (x + Δ) or the authors' V-MoE code (`reference-vmoe`, LN(x ⊕ Δ)). */
export type VitStructure = 'paper' | 'reference-vmoe';
const structureSchema: z.ZodType<VitStructure> = z.enum(['paper', 'reference-vmoe']);

/** Configuration of a ViT with MoE blocks (V-MoE or Soft-MoE ViT). */
export const vitConfigSchema = z
  .object({
    imageHeight: z.number().int().positive(),
    imageWidth: z.number().int().positive(),
    channels: z.number().int().positive(),
    /** Square patch side; must divide both image sides. */
    patchSize: z.number().int().positive(),
    dModel: z.number().int().positive(),
    nHeads: z.number().int().positive(),
    depth: z.number().int().positive(),
    /** Hidden width of the MLPs and experts. */
    mlpDim: z.number().int().positive(),
    numClasses: z.number().int().positive(),
    /** MoE kind (default V-MoE's noisy top-k with capacity). */
    moe: kindSchema.default('vmoe'),
    numExperts: z.number().int().positive().default(4),
    /** Experts per token (V-MoE). */
    k: z.number().int().positive().default(2),
    /** Slots per expert (Soft MoE). */
    slotsPerExpert: z.number().int().positive().default(1),
    /** MoE in every `moeEvery`-th block, the last of each group (V-MoE: every 2nd, blocks 1, 3, 5, …). */
    moeEvery: z.number().int().positive().default(2),
    /** Update rule over the MoE blocks: a letter, name or object (default residual; `{ rule: 'heavy-ball', mu: 0.9 }` is MomentumV-MoE). */
    rule: ruleSpecSchema.prefault('residual'),
    structure: structureSchema.default('paper'),
    dropout: z.number().min(0).lt(1).default(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.imageHeight % c.patchSize || c.imageWidth % c.patchSize) {
      refineIssue(
        ctx,
        ['patchSize'],
        `must divide the image sides (${c.imageHeight}×${c.imageWidth})`,
        c.patchSize,
      );
    }
    if (c.dModel % c.nHeads)
      refineIssue(ctx, ['nHeads'], `must divide dModel (${c.dModel})`, c.nHeads);
    if (c.rule.rule === 'adam' && c.rule.layer0Quirk)
      refineIssue(
        ctx,
        ['rule', 'layer0Quirk'],
        "reproduces the authors' language-model code: a ViT has no such layer",
        true,
      );
  });

/** Validated ViT configuration. */
export type VitConfig = z.output<typeof vitConfigSchema>;
/** ViT configuration as written by a user. */
export type VitConfigInput = z.input<typeof vitConfigSchema>;

/** Validates a ViT configuration (one clear error naming the field). */
export function parseVitConfig(input: unknown): VitConfig {
  return parseOrThrow(vitConfigSchema, input, 'model config');
}

/** CPU-sized presets for 28×28×1 (MNIST) and 32×32×3 (CIFAR) images (left out: the defaults, 4 experts, top-2). */
export const VIT_PRESETS: Record<string, Omit<VitConfigInput, 'numClasses' | 'moe'>> = {
  'mnist-tiny': {
    imageHeight: 28,
    imageWidth: 28,
    channels: 1,
    patchSize: 7,
    dModel: 64,
    nHeads: 4,
    depth: 4,
    mlpDim: 128,
  },
  'cifar-tiny': {
    imageHeight: 32,
    imageWidth: 32,
    channels: 3,
    patchSize: 4,
    dModel: 96,
    nHeads: 4,
    depth: 6,
    mlpDim: 192,
    numExperts: 8,
  },
};

/** A ViT preset as a full config, with the class count, MoE kind and optional overrides. */
export function vitPresetConfig(
  name: string,
  numClasses: number,
  moe: VitMoEKind = 'vmoe',
  overrides: Partial<VitConfigInput> = {},
): VitConfigInput {
  const p = VIT_PRESETS[name];
  if (!p)
    throw new Error(
      `model preset: unknown "${name}"; allowed: ${Object.keys(VIT_PRESETS).join(', ')}`,
    );
  return { ...p, numClasses, moe, ...overrides };
}

const PATCH_EMBED = ['patch_embed.weight', 'patch_embed.bias'] as const;

/** Rearranges `[B, H, W, C]` images into `[B, P, p·p·C]` patches (row-major patches, channels last). */
export function patchify(
  images: Float32Array,
  batch: number,
  H: number,
  W: number,
  C: number,
  p: number,
): Float32Array {
  const ph = H / p;
  const pw = W / p;
  const out = new Float32Array(images.length);
  let o = 0;
  for (let b = 0; b < batch; b++)
    for (let py = 0; py < ph; py++)
      for (let px = 0; px < pw; px++)
        for (let y = 0; y < p; y++)
          for (let x = 0; x < p; x++)
            for (let c = 0; c < C; c++)
              out[o++] = images[((b * H + py * p + y) * W + px * p + x) * C + c] as number;
  return out;
}

/**
 * Vision Transformer with MoE blocks, as V-MoE (noisy top-2 with capacity in every second block,
 * GELU experts) or Soft-MoE ViT (soft routing over each image's tokens): patch embedding, a class
 * token, learned position embeddings, pre-LN blocks, and the update rule of `@msmoe/update-rules`
 * over the MoE blocks (heavy-ball gives the authors' MomentumV-MoE).
 */
export class MoEVisionTransformer {
  readonly config: VitConfig;
  private readonly moes: MoELayer[] = [];
  private readonly params = new ParamRegistry();
  /** The update rule of the MoE blocks (its learnable coefficients are model weights `rule.*`). */
  readonly rule: UpdateRule;

  /** Builds the model from a validated config (see {@link parseVitConfig}). */
  constructor(config: VitConfig, rng: Rng) {
    this.config = config;
    const c = this.config;
    const P = (c.imageHeight / c.patchSize) * (c.imageWidth / c.patchSize);
    const patchDim = c.patchSize * c.patchSize * c.channels;
    // Weights are made in the order of the random draws; the blocks' are registered apart and
    // placed after the model's own (the head is drawn last) and before the rule's.
    const reg = this.params;
    const blocks = new ParamRegistry();
    const lin = (r: ParamRegistry, name: string, i: number, o: number) =>
      r.addAll(name, {
        weight: initVariable([i, o], { kind: 'xavier-uniform' }, rng),
        bias: constantVariable([o], 0),
      });
    lin(reg, 'patch_embed', patchDim, c.dModel);
    reg.add('cls_token', constantVariable([1, 1, c.dModel], 0));
    reg.add(
      'pos_embed',
      initVariable([1, P + 1, c.dModel], { kind: 'trunc-normal', std: 0.02 }, rng),
    );
    for (let i = 0; i < c.depth; i++) {
      let moe: MoELayer | null = null;
      if (isMoeBlock(c, i)) {
        const router: RouterConfigInput =
          c.moe === 'soft'
            ? {
                type: 'soft',
                dModel: c.dModel,
                numExperts: c.numExperts,
                slotsPerExpert: c.slotsPerExpert,
                groupSize: P + 1,
              }
            : vmoeRouterConfig(c.dModel, c.numExperts, c.k);
        moe = moeLayer({
          router: createRouter(router, rng),
          experts: new ExpertBank(
            {
              numExperts: c.numExperts,
              dModel: c.dModel,
              dHidden: c.mlpDim,
              activation: 'gelu',
              init: 'linear',
              dropout: c.dropout,
            },
            rng,
          ),
          dropout: c.dropout,
        });
      }
      const p = `blocks.${i}`;
      blocks.layerNorm(`${p}.norm1`, c.dModel);
      lin(blocks, `${p}.attn.qkv`, c.dModel, 3 * c.dModel);
      lin(blocks, `${p}.attn.proj`, c.dModel, c.dModel);
      blocks.layerNorm(`${p}.norm2`, c.dModel);
      if (moe) {
        blocks.addAll(`${p}.moe`, moe.variables());
        if (c.structure === 'reference-vmoe') blocks.layerNorm(`${p}.ln_out`, c.dModel);
        this.moes.push(moe);
      } else {
        lin(blocks, `${p}.mlp.fc1`, c.dModel, c.mlpDim);
        lin(blocks, `${p}.mlp.fc2`, c.mlpDim, c.dModel);
      }
    }
    this.rule = new UpdateRule(c.rule);
    reg.layerNorm('norm', c.dModel);
    lin(reg, 'head', c.dModel, c.numClasses);
    for (const [n, v] of Object.entries(blocks.all())) reg.add(n, v);
    reg.addAll('rule', this.rule.variables());
  }

  /**
   * Logits `[B, classes]` for images `[B, H, W, C]` (already normalised), plus the routers'
   * auxiliary loss and routings. Creates tensors: call inside `tf.tidy` or a gradient function.
   */
  forward(
    images: Float32Array,
    batchSize: number,
    options: Omit<TfForwardOptions, 'probe'> = {},
  ): { logits: tf.Tensor2D; auxLoss: tf.Scalar; routings: Routing[]; moeOutputs: tf.Tensor3D[] } {
    const c = this.config;
    const { imageHeight: H, imageWidth: W, channels: C, patchSize: p, dModel: d } = c;
    if (images.length !== batchSize * H * W * C) {
      throw new Error(
        `forward: ${images.length} values are not ${batchSize} images of ${H}×${W}×${C}`,
      );
    }
    const weight = (name: string) => this.params.get(name);
    const be = tfBackend(this.params, this.rule, this.moes, c.dropout, options);
    const P = (H / p) * (W / p);
    const vit: VitBackend<tf.Tensor> = {
      ...be,
      embed: () => {
        const patches = patchify(images, batchSize, H, W, C, p);
        const emb = be.linear(tf.tensor3d(patches, [batchSize, P, p * p * C]), ...PATCH_EMBED);
        const cls = tf.tile(weight('cls_token'), [batchSize, 1, 1]);
        return tf.add(tf.concat([cls, emb], 1), weight('pos_embed'));
      },
      attention: (x, name) => {
        const H = c.nHeads;
        const [B, N] = x.shape as [number, number];
        const dh = d / H;
        const qkv = tf.reshape(be.linear(x, `${name}.attn.qkv.weight`, `${name}.attn.qkv.bias`), [
          B,
          N,
          3,
          H,
          dh,
        ]);
        const part = (i: number) =>
          tf.reshape(
            tf.transpose(tf.slice(qkv, [0, 0, i, 0, 0], [B, N, 1, H, dh]), [0, 2, 3, 1, 4]),
            [B * H, N, dh],
          );
        const [q, k, v] = [part(0), part(1), part(2)];
        const attn = tf.softmax(tf.div(tf.matMul(q, tf.transpose(k, [0, 2, 1])), Math.sqrt(dh)));
        const out = tf.reshape(
          tf.transpose(tf.reshape(tf.matMul(attn, v), [B, H, N, dh]), [0, 2, 1, 3]),
          [B, N, d],
        );
        return be.linear(out, `${name}.attn.proj.weight`, `${name}.attn.proj.bias`);
      },
      classToken: (x) => tf.reshape(tf.slice(x, [0, 0, 0], [batchSize, 1, d]), [batchSize, d]),
    };
    const logits = vitForward(c, this.rule, vit) as tf.Tensor2D;
    const { routings, moeOutputs } = be;
    const auxLoss = (
      routings.length ? tf.addN(routings.map((r) => r.auxLoss)) : tf.scalar(0)
    ) as tf.Scalar;
    return { logits, auxLoss, routings, moeOutputs };
  }

  /** All trainable weights by stable name. */
  variables(): Record<string, tf.Variable> {
    return this.params.all();
  }

  /** The MoE layers in order (router and experts of each). */
  get moeLayers(): MoELayer[] {
    return [...this.moes];
  }

  /**
   * The current name of a weight written under an older layout (before 0.2 the V-MoE reference
   * LayerNorms were `update.layers.<t>.*` by MoE index and learnable coefficients `update.rule.*`).
   */
  currentWeightName(name: string): string {
    return legacyWeightName(name, (t) => {
      const i = (t + 1) * this.config.moeEvery - 1;
      return t >= 0 && i < this.config.depth ? `blocks.${i}` : undefined;
    });
  }

  /** Trainable parameter count. */
  parameterCount(): number {
    return Object.values(this.variables()).reduce((n, v) => n + v.size, 0);
  }

  /** Frees every weight. */
  dispose(): void {
    tf.dispose(Object.values(this.variables()));
  }
}
