import { constantVariable, initVariable, linear, linearCrossEntropy, type Rng } from '@msmoe/core';
import { ExpertBank } from '@msmoe/experts';
import { buildRouter, type Routing } from '@msmoe/router';
import { UpdateRule } from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import { lmForward } from '../forward.js';
import { type MoELayer, moeLayer } from '../moe-layer.js';
import { ParamRegistry } from '../params.js';
import { structureNorms } from '../structure.js';
import { type TfForwardOptions, tfBackend } from '../tf-backend.js';
import { legacyWeightName } from '../weight-names.js';
import { SpanAttention } from './attention.js';
import type { LmConfig } from './config.js';

/** Options of a forward pass. */
export type LmForwardOptions = TfForwardOptions;

/** What one forward pass returns besides the logits or the loss. */
interface LmBody {
  /** Sum of the routers' weighted auxiliary losses. */
  auxLoss: tf.Scalar;
  /** Routing of each MoE layer (for statistics): one per layer, that of the evaluation whose output the update used (SAM evaluates twice). */
  routings: Routing[];
  /** Hidden state `[B, M, d]` after each MoE layer's update (for output-norm statistics). */
  moeOutputs: tf.Tensor3D[];
  /** Next caches, one per attention layer `[B, S, d]` (kept: dispose them with {@link disposeCaches}). */
  caches: tf.Tensor3D[];
}

/** What {@link MoELanguageModel.forward} returns. */
export interface LmOutput extends LmBody {
  /** Logits `[B·M, V]` (row-major over batch then position). */
  logits: tf.Tensor2D;
}

/** What {@link MoELanguageModel.loss} returns. */
export interface LmLoss extends LmBody {
  /** Mean negative log-likelihood of the targets. */
  nll: tf.Scalar;
}

/**
 * Transformer-XL-style MoE language model as the MomentumSMoE authors': untied input embedding and
 * output projection, full softmax, span attention with a per-layer cache and learned relative key
 * embeddings, sub-layers from an architecture string, every MoE layer with the same router type and
 * the update rule its letter names (state carried across MoE layers, reset every forward pass).
 */
export class MoELanguageModel {
  readonly config: LmConfig;
  private readonly embedding: tf.Variable;
  private readonly outW: tf.Variable;
  private readonly outB: tf.Variable;
  private readonly attentions: SpanAttention[] = [];
  private readonly moes: MoELayer[] = [];
  private readonly params = new ParamRegistry();
  /** The update rule of the MoE layers (its learnable coefficients are model weights `rule.*`). */
  readonly rule: UpdateRule;

  /** Builds the model from a validated config (see {@link parseLmConfig}). */
  constructor(config: LmConfig, rng: Rng) {
    this.config = config;
    const c = this.config;
    const P = this.params;
    this.embedding = P.add(
      'embedding.weight',
      initVariable([c.vocabSize, c.dModel], { kind: 'normal', std: 1 }, rng),
    );
    const kaiming = { kind: 'kaiming-uniform', a: Math.sqrt(5) } as const;
    this.outW = P.add('out.weight', initVariable([c.dModel, c.vocabSize], kaiming, rng));
    this.outB = P.add(
      'out.bias',
      initVariable([c.vocabSize], { kind: 'linear-bias' }, rng, {
        fans: { fanIn: c.dModel, fanOut: c.vocabSize },
      }),
    );
    this.rule = new UpdateRule(c.rule);
    [...c.architecture].forEach((letter, i) => {
      const p = `layers.${i}`;
      if (letter === 's') {
        const attn = new SpanAttention(c.dModel, c.nHeads, c.span, rng);
        P.addAll(`${p}.attn`, attn.weights);
        P.layerNorm(`${p}.ln`, c.dModel);
        this.attentions.push(attn);
      } else if (letter === 'f') {
        const ffn = (n: string, v: tf.Variable) => P.add(`${p}.ffn.${n}`, v);
        ffn('w1', initVariable([c.dModel, c.dInner], kaiming, rng));
        ffn('b1', constantVariable([c.dInner], 0));
        ffn('w2', initVariable([c.dInner, c.dModel], kaiming, rng));
        ffn('b2', constantVariable([c.dModel], 0));
        P.layerNorm(`${p}.ln`, c.dModel);
      } else {
        const moe = moeLayer({
          router: buildRouter(c.router, rng),
          experts: new ExpertBank(
            { numExperts: c.numExperts, dModel: c.dModel, dHidden: c.dInner, dropout: c.dropout },
            rng,
          ),
          dropout: c.dropout,
        });
        P.addAll(`${p}.moe`, moe.variables());
        for (const n of structureNorms(c.structure)) P.layerNorm(`${p}.ln_${n}`, c.dModel);
        if (c.structure === 'paper') P.layerNorm(`${p}.ln`, c.dModel);
        this.moes.push(moe);
      }
    });
    P.addAll('rule', this.rule.variables());
    if (c.structure === 'paper') P.layerNorm('final_ln', c.dModel);
  }

  /** Number of attention layers (caches). */
  get attentionLayers(): number {
    return this.attentions.length;
  }

  /** Zero caches for a batch of B streams (the reference starts every stream from zeros). */
  initialCaches(batchSize: number): tf.Tensor3D[] {
    return Array.from(
      { length: this.attentionLayers },
      () => tf.zeros([batchSize, this.config.span, this.config.dModel]) as tf.Tensor3D,
    );
  }

  /**
   * Forward pass on a block of token ids `[B, M]` (row-major) with the previous caches. Creates
   * tensors: call inside `tf.tidy` or a gradient function; the returned caches are kept.
   */
  forward(
    tokens: Int32Array,
    batchSize: number,
    caches: tf.Tensor3D[],
    options: LmForwardOptions = {},
  ): LmOutput {
    const { hidden, ...body } = this.body(tokens, batchSize, caches, options);
    const logits = linear(
      hidden,
      this.outW as unknown as tf.Tensor2D,
      this.outB as unknown as tf.Tensor1D,
    ) as tf.Tensor2D;
    return { logits: (options.probe?.(logits, 'output', 'end') ?? logits) as tf.Tensor2D, ...body };
  }

  /**
   * The mean NLL of `targets` (the next token of each input position) with the forward's other
   * outputs; the logits are never materialised whole (`linearCrossEntropy` of `@msmoe/core`), so
   * training and evaluation skip the `[B·M, V]` softmax passes of {@link forward} + {@link nll}.
   */
  loss(
    tokens: Int32Array,
    targets: Int32Array,
    batchSize: number,
    caches: tf.Tensor3D[],
    options: LmForwardOptions = {},
  ): LmLoss {
    const { hidden, ...body } = this.body(tokens, batchSize, caches, options);
    const nll = linearCrossEntropy(
      hidden,
      this.outW as unknown as tf.Tensor2D,
      this.outB as unknown as tf.Tensor1D,
      targets,
    );
    return { nll: (options.probe?.(nll, 'output', 'end') ?? nll) as tf.Scalar, ...body };
  }

  private body(
    tokens: Int32Array,
    batchSize: number,
    caches: tf.Tensor3D[],
    options: LmForwardOptions,
  ): LmBody & { hidden: tf.Tensor2D } {
    const c = this.config;
    const M = tokens.length / batchSize;
    if (!Number.isInteger(M))
      throw new Error(`forward: ${tokens.length} tokens do not split into ${batchSize} streams`);
    if (caches.length !== this.attentionLayers)
      throw new Error(`forward: need ${this.attentionLayers} caches, got ${caches.length}`);
    const training = options.training ?? false;
    const be = tfBackend(this.params, this.rule, this.moes, c.dropout, options);
    const newCaches: tf.Tensor3D[] = [];
    const embed = () =>
      tf.reshape(tf.gather(this.embedding, tf.tensor1d(tokens, 'int32')), [batchSize, M, c.dModel]);
    const attention = (input: tf.Tensor, _name: string, i: number) => {
      const cache = caches[i] as tf.Tensor3D;
      // The cache holds the attention inputs of the last S positions. It is a value for the
      // next block, which sees it as a constant: no gradient flows back through it (that tape
      // ends with this step), so no copy off the tape is needed.
      const joined = tf.concat([cache, input as tf.Tensor3D], 1);
      newCaches.push(tf.keep(tf.slice(joined, [0, joined.shape[1] - c.span, 0], [-1, c.span, -1])));
      const call = { training, rng: options.rng, dropout: c.dropout };
      return (this.attentions[i] as SpanAttention).apply(input as tf.Tensor3D, cache, call);
    };
    const h = lmForward(c, this.rule, { ...be, embed, attention });
    const { routings, moeOutputs } = be;
    const aux = routings.length > 0 ? tf.addN(routings.map((r) => r.auxLoss)) : tf.scalar(0);
    return {
      hidden: tf.reshape(h, [batchSize * M, c.dModel]) as tf.Tensor2D,
      auxLoss: tf.mul(aux, c.auxWeight) as tf.Scalar,
      routings,
      moeOutputs,
      caches: newCaches,
    };
  }

  /** Mean negative log-likelihood of `targets` under `logits` (full softmax, one gather per row). */
  static nll(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
    const [N, V] = logits.shape;
    const logp = tf.logSoftmax(logits);
    const flat = Int32Array.from(targets, (t, i) => i * V + t);
    return tf.neg(
      tf.mean(tf.gather(tf.reshape(logp, [N * V]), tf.tensor1d(flat, 'int32'))),
    ) as tf.Scalar;
  }

  /** All trainable weights by stable name (the safetensors layout). */
  variables(): Record<string, tf.Variable> {
    return this.params.all();
  }

  /** The MoE layers in order (router and experts of each). */
  get moeLayers(): MoELayer[] {
    return [...this.moes];
  }

  /**
   * The current name of a weight written under an older layout (before 0.2 the reference
   * LayerNorms were `update.layers.<t>.*` by MoE index and learnable coefficients `update.rule.*`).
   */
  currentWeightName(name: string): string {
    return legacyWeightName(name, (t) => {
      const i = [...this.config.architecture].flatMap((l, j) => ('sf'.includes(l) ? [] : [j]))[t];
      return i === undefined ? undefined : `layers.${i}`;
    });
  }

  /** Trainable parameter count. */
  parameterCount(): number {
    return Object.values(this.variables()).reduce((n, v) => n + v.size, 0);
  }

  /** Frees every weight. */
  dispose(): void {
    for (const a of this.attentions) a.dispose();
    tf.dispose(Object.values(this.variables()));
  }
}

/** Disposes caches returned by {@link MoELanguageModel.forward}. */
export function disposeCaches(caches: tf.Tensor3D[]): void {
  tf.dispose(caches);
}
