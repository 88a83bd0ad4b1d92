import {
  constantVariable,
  dropout,
  initVariable,
  type LayerNormParams,
  layerNorm,
  linear,
  parseOrThrow,
  type Rng,
  refineIssue,
} from '@msmoe/core';
import { activate, ExpertBank } from '@msmoe/experts';
import {
  createRouter,
  type RouterConfigInput,
  type Routing,
  vmoeRouterConfig,
} from '@msmoe/router';
import { type RuleState, ruleSpecSchema, UpdateRule } from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { type MoELayer, moeLayer } from '../moe-layer.js';
import { ParamRegistry } from '../params.js';
import { moeBlock } from '../structure.js';
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

type Ln = LayerNormParams;
type Linear = { W: tf.Variable; b: tf.Variable };
type Block = {
  ln1: Ln;
  qkv: Linear;
  proj: Linear;
  ln2: Ln;
  mlp: { fc1: Linear; fc2: Linear } | null;
  moe: MoELayer | null;
  /** `reference-vmoe`: the LayerNorm on the MoE block's output. */
  lnOut: Ln | null;
  moeIndex: number;
};

const w2 = (v: tf.Variable) => v as unknown as tf.Tensor2D;
const w1 = (v: tf.Variable) => v as unknown as tf.Tensor1D;

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
  private readonly patchEmbed: Linear;
  private readonly cls: tf.Variable;
  private readonly pos: tf.Variable;
  private readonly blocks: Block[] = [];
  private readonly finalLn: Ln;
  private readonly head: Linear;
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
    const lin = (i: number, o: number) => ({
      W: initVariable([i, o], { kind: 'xavier-uniform' }, rng),
      b: constantVariable([o], 0),
    });
    const named = (l: Linear) => ({ weight: l.W, bias: l.b });
    this.patchEmbed = lin(patchDim, c.dModel);
    reg.addAll('patch_embed', named(this.patchEmbed));
    this.cls = reg.add('cls_token', constantVariable([1, 1, c.dModel], 0));
    this.pos = reg.add(
      'pos_embed',
      initVariable([1, P + 1, c.dModel], { kind: 'trunc-normal', std: 0.02 }, rng),
    );
    let moeIndex = 0;
    for (let i = 0; i < c.depth; i++) {
      const isMoe = i % c.moeEvery === c.moeEvery - 1;
      let moe: MoELayer | null = null;
      if (isMoe) {
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
      const ln1 = blocks.layerNorm(`${p}.norm1`, c.dModel);
      const qkv = lin(c.dModel, 3 * c.dModel);
      const proj = lin(c.dModel, c.dModel);
      blocks.addAll(`${p}.attn.qkv`, named(qkv));
      blocks.addAll(`${p}.attn.proj`, named(proj));
      const ln2 = blocks.layerNorm(`${p}.norm2`, c.dModel);
      const mlp = isMoe ? null : { fc1: lin(c.dModel, c.mlpDim), fc2: lin(c.mlpDim, c.dModel) };
      if (mlp) for (const [n, l] of Object.entries(mlp)) blocks.addAll(`${p}.mlp.${n}`, named(l));
      if (moe) blocks.addAll(`${p}.moe`, moe.variables());
      const lnOut =
        isMoe && c.structure === 'reference-vmoe'
          ? blocks.layerNorm(`${p}.ln_out`, c.dModel)
          : null;
      this.blocks.push({ ln1, qkv, proj, ln2, mlp, moe, lnOut, moeIndex: isMoe ? moeIndex++ : -1 });
    }
    this.rule = new UpdateRule(c.rule);
    this.finalLn = reg.layerNorm('norm', c.dModel);
    this.head = lin(c.dModel, c.numClasses);
    reg.addAll('head', named(this.head));
    for (const [n, v] of Object.entries(blocks.all())) reg.add(n, v);
    reg.addAll('rule', this.rule.variables());
  }

  private attention(x: tf.Tensor3D, b: Block): tf.Tensor3D {
    const [B, N, d] = x.shape;
    const H = this.config.nHeads;
    const dh = d / H;
    const qkv = tf.reshape(linear(x, w2(b.qkv.W), w1(b.qkv.b)), [B, N, 3, H, dh]);
    const part = (i: number) =>
      tf.reshape(tf.transpose(tf.slice(qkv, [0, 0, i, 0, 0], [B, N, 1, H, dh]), [0, 2, 3, 1, 4]), [
        B * H,
        N,
        dh,
      ]);
    const [q, k, v] = [part(0), part(1), part(2)];
    const attn = tf.softmax(tf.div(tf.matMul(q, tf.transpose(k, [0, 2, 1])), Math.sqrt(dh)));
    const out = tf.reshape(
      tf.transpose(tf.reshape(tf.matMul(attn, v), [B, H, N, dh]), [0, 2, 1, 3]),
      [B, N, d],
    );
    return linear(out, w2(b.proj.W), w1(b.proj.b)) as tf.Tensor3D;
  }

  /**
   * Logits `[B, classes]` for images `[B, H, W, C]` (already normalised), plus the routers'
   * auxiliary loss and routings. Creates tensors: call inside `tf.tidy` or a gradient function.
   */
  forward(
    images: Float32Array,
    batchSize: number,
    options: { training?: boolean; rng?: Rng } = {},
  ): { logits: tf.Tensor2D; auxLoss: tf.Scalar; routings: Routing[]; moeOutputs: tf.Tensor3D[] } {
    const c = this.config;
    const { imageHeight: H, imageWidth: W, channels: C, patchSize: p } = c;
    if (images.length !== batchSize * H * W * C) {
      throw new Error(
        `forward: ${images.length} values are not ${batchSize} images of ${H}×${W}×${C}`,
      );
    }
    const training = options.training ?? false;
    const drop = (t: tf.Tensor) =>
      training && c.dropout > 0 ? dropout(t, c.dropout, options.rng as Rng) : t;
    const P = (H / p) * (W / p);
    const patches = tf.tensor3d(patchify(images, batchSize, H, W, C, p), [batchSize, P, p * p * C]);
    const emb = linear(patches, w2(this.patchEmbed.W), w1(this.patchEmbed.b));
    let x = tf.add(
      tf.concat([tf.tile(this.cls, [batchSize, 1, 1]), emb], 1),
      this.pos,
    ) as tf.Tensor3D;
    let state: RuleState<tf.Tensor> = this.rule.init();
    const k = this.rule.values();
    const routings: Routing[] = [];
    const moeOutputs: tf.Tensor3D[] = [];
    const ln = (t: tf.Tensor, l: Ln) => layerNorm(t, l.gamma, l.beta, 1e-6);
    for (const b of this.blocks) {
      x = tf.add(x, drop(this.attention(ln(x, b.ln1) as tf.Tensor3D, b))) as tf.Tensor3D;
      if (b.moe) {
        const call = { training, rng: options.rng };
        const norms = { pre: b.ln2, preEps: 1e-6, out: b.lnOut ?? undefined };
        const r = moeBlock(c.structure, this.rule, k, b.moe, call, norms, x, state, b.moeIndex);
        x = r.x as tf.Tensor3D;
        state = r.state;
        routings.push(r.routing);
        moeOutputs.push(x);
      } else if (b.mlp) {
        const { fc1, fc2 } = b.mlp;
        const g = activate(linear(ln(x, b.ln2), w2(fc1.W), w1(fc1.b)), 'gelu');
        x = tf.add(x, drop(linear(g, w2(fc2.W), w1(fc2.b)))) as tf.Tensor3D;
      }
    }
    const clsOut = tf.reshape(tf.slice(ln(x, this.finalLn), [0, 0, 0], [batchSize, 1, c.dModel]), [
      batchSize,
      c.dModel,
    ]);
    const logits = linear(clsOut, w2(this.head.W), w1(this.head.b)) as tf.Tensor2D;
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
    return this.blocks.flatMap((b) => (b.moe ? [b.moe] : []));
  }

  /**
   * The current name of a weight written under an older layout (before 0.2 the V-MoE reference
   * LayerNorms were `update.layers.<t>.*` by MoE index and learnable coefficients `update.rule.*`).
   */
  currentWeightName(name: string): string {
    return legacyWeightName(name, (t) => {
      const i = this.blocks.findIndex((b) => b.moeIndex === t);
      return i < 0 ? undefined : `blocks.${i}`;
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
