import {
  constantVariable,
  dropout,
  initVariable,
  type LayerNormParams,
  layerNorm,
  linear,
  linearCrossEntropy,
  type Rng,
} from '@msmoe/core';
import { ExpertBank } from '@msmoe/experts';
import { buildRouter, type Routing } from '@msmoe/router';
import { type RuleState, UpdateRule } from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import { type MoELayer, moeLayer } from '../moe-layer.js';
import { ParamRegistry } from '../params.js';
import { moeBlock, structureNorms } from '../structure.js';
import { legacyWeightName } from '../weight-names.js';
import { SpanAttention } from './attention.js';
import type { LmConfig } from './config.js';

type Ln = LayerNormParams;

type Sublayer =
  | { kind: 'attention'; attn: SpanAttention; ln: Ln; index: number }
  | {
      kind: 'moe';
      moe: MoELayer;
      /** Pre-LN of the MoE input (paper structure). */
      ln: Ln | null;
      /** The reference structure's LayerNorms. */
      norms: { inner?: Ln; out?: Ln };
      moeIndex: number;
    }
  | { kind: 'dense'; w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable; ln: Ln };

/**
 * A profiling seam: called with the hidden state where a part of the forward starts and ends
 * (`attention`, `dense`, `block` = an MoE block with its update rule, `moe` = the MoE layer itself,
 * `output` = final LayerNorm, output layer and loss); returns the tensor to continue with (an
 * identity that records time, say, forward and backward). Off (undefined) in normal use.
 */
export type ForwardProbe = (x: tf.Tensor, part: string, edge: 'start' | 'end') => tf.Tensor;

/** Options of a forward pass. */
export interface LmForwardOptions {
  /** Training mode: dropout and router noise apply (default false). */
  training?: boolean;
  /** Random source for dropout and noise (required when training uses any). */
  rng?: Rng;
  /** See {@link ForwardProbe}. */
  probe?: ForwardProbe;
}

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
  private readonly finalLn: Ln | null;
  private readonly sublayers: Sublayer[] = [];
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
    let attnIndex = 0;
    let moeIndex = 0;
    [...c.architecture].forEach((letter, i) => {
      const p = `layers.${i}`;
      if (letter === 's') {
        const attn = new SpanAttention(c.dModel, c.nHeads, c.span, rng);
        P.addAll(`${p}.attn`, attn.weights);
        const ln = P.layerNorm(`${p}.ln`, c.dModel);
        this.sublayers.push({ kind: 'attention', attn, ln, index: attnIndex++ });
      } else if (letter === 'f') {
        const ffn = (n: string, v: tf.Variable) => P.add(`${p}.ffn.${n}`, v);
        const w1 = ffn('w1', initVariable([c.dModel, c.dInner], kaiming, rng));
        const b1 = ffn('b1', constantVariable([c.dInner], 0));
        const w2 = ffn('w2', initVariable([c.dInner, c.dModel], kaiming, rng));
        const b2 = ffn('b2', constantVariable([c.dModel], 0));
        const ln = P.layerNorm(`${p}.ln`, c.dModel);
        this.sublayers.push({ kind: 'dense', w1, b1, w2, b2, ln });
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
        const norms = Object.fromEntries(
          structureNorms(c.structure).map((n) => [n, P.layerNorm(`${p}.ln_${n}`, c.dModel)]),
        );
        const ln = c.structure === 'paper' ? P.layerNorm(`${p}.ln`, c.dModel) : null;
        this.sublayers.push({ kind: 'moe', moe, ln, norms, moeIndex: moeIndex++ });
      }
    });
    P.addAll('rule', this.rule.variables());
    this.finalLn = c.structure === 'paper' ? P.layerNorm('final_ln', c.dModel) : null;
  }

  /** Number of attention layers (caches). */
  get attentionLayers(): number {
    return this.sublayers.filter((s) => s.kind === 'attention').length;
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
    return { logits: probed(options.probe, logits, 'output', 'end') as tf.Tensor2D, ...body };
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
    return { nll: probed(options.probe, nll, 'output', 'end') as tf.Scalar, ...body };
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
    if (training && c.dropout > 0 && !options.rng)
      throw new Error('forward: training with dropout needs options.rng');
    const drop = (t: tf.Tensor) =>
      training && c.dropout > 0 ? dropout(t, c.dropout, options.rng as Rng) : t;
    let h = tf.reshape(tf.gather(this.embedding, tf.tensor1d(tokens, 'int32')), [
      batchSize,
      M,
      c.dModel,
    ]) as tf.Tensor3D;
    let state: RuleState<tf.Tensor> = this.rule.init();
    const k = this.rule.values();
    const routings: Routing[] = [];
    const moeOutputs: tf.Tensor3D[] = [];
    const newCaches: tf.Tensor3D[] = [];
    const ln = (t: tf.Tensor, p: Ln) => layerNorm(t, p.gamma, p.beta);
    const paper = c.structure === 'paper';
    const probe = options.probe;
    for (const s of this.sublayers) {
      const part = s.kind === 'moe' ? 'block' : s.kind;
      h = probed(probe, h, part, 'start') as tf.Tensor3D;
      if (s.kind === 'attention') {
        const cache = caches[s.index] as tf.Tensor3D;
        const input = paper ? (ln(h, s.ln) as tf.Tensor3D) : h;
        // The cache holds the attention inputs of the last S positions. It is a value for the
        // next block, which sees it as a constant: no gradient flows back through it (that tape
        // ends with this step), so no copy off the tape is needed.
        const joined = tf.concat([cache, input], 1);
        newCaches.push(
          tf.keep(tf.slice(joined, [0, joined.shape[1] - c.span, 0], [-1, c.span, -1])),
        );
        const a = drop(
          s.attn.apply(input, cache, { training, rng: options.rng, dropout: c.dropout }),
        );
        h = (paper ? tf.add(h, a) : ln(tf.add(h, a), s.ln)) as tf.Tensor3D;
      } else if (s.kind === 'dense') {
        const f = (x: tf.Tensor) =>
          linear(
            drop(
              tf.relu(linear(x, s.w1 as unknown as tf.Tensor2D, s.b1 as unknown as tf.Tensor1D)),
            ),
            s.w2 as unknown as tf.Tensor2D,
            s.b2 as unknown as tf.Tensor1D,
          );
        h = (
          paper ? tf.add(h, drop(f(ln(h, s.ln)))) : ln(tf.add(h, drop(f(h))), s.ln)
        ) as tf.Tensor3D;
      } else {
        const call = { training, rng: options.rng };
        const norms = { pre: s.ln, ...s.norms };
        const layer = probe ? probedLayer(s.moe, probe) : s.moe;
        const r = moeBlock(c.structure, this.rule, k, layer, call, norms, h, state, s.moeIndex);
        h = r.x as tf.Tensor3D;
        state = r.state;
        routings.push(r.routing);
        moeOutputs.push(h);
      }
      h = probed(probe, h, part, 'end') as tf.Tensor3D;
    }
    h = probed(probe, h, 'output', 'start') as tf.Tensor3D;
    if (this.finalLn) h = ln(h, this.finalLn) as tf.Tensor3D;
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
    return this.sublayers.flatMap((s) => (s.kind === 'moe' ? [s.moe] : []));
  }

  /**
   * The current name of a weight written under an older layout (before 0.2 the reference
   * LayerNorms were `update.layers.<t>.*` by MoE index and learnable coefficients `update.rule.*`).
   */
  currentWeightName(name: string): string {
    return legacyWeightName(name, (t) => {
      const i = this.sublayers.findIndex((s) => s.kind === 'moe' && s.moeIndex === t);
      return i < 0 ? undefined : `layers.${i}`;
    });
  }

  /** Trainable parameter count. */
  parameterCount(): number {
    return Object.values(this.variables()).reduce((n, v) => n + v.size, 0);
  }

  /** Frees every weight. */
  dispose(): void {
    for (const s of this.sublayers) if (s.kind === 'attention') s.attn.dispose();
    tf.dispose(Object.values(this.variables()));
  }
}

const probed = (
  probe: ForwardProbe | undefined,
  x: tf.Tensor,
  part: string,
  edge: 'start' | 'end',
) => (probe ? probe(x, part, edge) : x);

/** An MoE layer whose calls are wrapped by a probe (`moe` start and end). */
function probedLayer(layer: MoELayer, probe: ForwardProbe): MoELayer {
  const wrapped = ((x: tf.Tensor, call?: Parameters<MoELayer>[1]) => {
    const out = layer(probe(x, 'moe', 'start'), call);
    return { ...out, y: probe(out.y, 'moe', 'end') };
  }) as MoELayer;
  return Object.assign(wrapped, {
    variables: layer.variables,
    router: layer.router,
    experts: layer.experts,
  });
}

/** Disposes caches returned by {@link MoELanguageModel.forward}. */
export function disposeCaches(caches: tf.Tensor3D[]): void {
  tf.dispose(caches);
}
