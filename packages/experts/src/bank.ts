import {
  dropout,
  type InitSpec,
  initVariable,
  linear,
  matmul,
  parseOrThrow,
  type Rng,
} from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

/** Activation of the expert FFN. `gelu` is exact (erf, PyTorch's default); `gelu-tanh` the tanh approximation (JAX/V-MoE). */
export const ACTIVATIONS = ['relu', 'gelu', 'gelu-tanh', 'swiglu'] as const;

/** One of {@link ACTIVATIONS}. */
export type Activation = (typeof ACTIVATIONS)[number];

/** Expert initialisation schemes (see {@link expertBankConfigSchema}). */
export type ExpertInit = 'experts-uniform' | 'linear';

// Typed as plain ZodType so the API docs show the union, not zod's internal enum object.
const activationSchema: z.ZodType<Activation> = z.enum(ACTIVATIONS);
const expertInitSchema: z.ZodType<ExpertInit> = z.enum(['experts-uniform', 'linear']);

/** Configuration of an {@link ExpertBank}. */
export const expertBankConfigSchema = z
  .object({
    /** Experts E. */
    numExperts: z.number().int().positive(),
    /** Model width d. */
    dModel: z.number().int().positive(),
    /** Hidden width h of each expert (the authors use h = d). */
    dHidden: z.number().int().positive(),
    /** Default `relu` (the authors' LM). SwiGLU adds a gate projection W3. */
    activation: activationSchema.default('relu'),
    /** Biases on both projections (default true; the authors' are zero-initialised). */
    bias: z.boolean().default(true),
    /**
     * `experts-uniform` (default): the MomentumSMoE experts' U(±1/√(d·h)) weights and zero biases;
     * `linear`: PyTorch nn.Linear's default per expert.
     */
    init: expertInitSchema.default('experts-uniform'),
    /** Dropout after the activation, in training (the authors: 0.1, 0.7 for the small model). */
    dropout: z.number().min(0).lt(1).default(0),
  })
  .strict();

/** Validated bank configuration. */
export type ExpertBankConfig = z.output<typeof expertBankConfigSchema>;
/** Bank configuration as written by a user. */
export type ExpertBankConfigInput = z.input<typeof expertBankConfigSchema>;

/** Options of a forward pass through experts. */
export interface ExpertForwardOptions {
  /** Training mode: dropout applies (default false). */
  training?: boolean;
  /** Random source for dropout (required when training with dropout > 0). */
  rng?: Rng;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Backends whose batched matMul is slower than a loop of plain ones (measured: 604 ms vs 48 ms for 64 experts). */
const PER_EXPERT_BACKENDS = new Set(['wasm', 'cpu']);

/** Applies an element-wise activation (not SwiGLU, which needs two projections). */
export function activate(x: tf.Tensor, activation: Exclude<Activation, 'swiglu'>): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu-tanh':
      return tf.mul(
        tf.mul(0.5, x),
        tf.add(1, tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
      );
  }
}

/**
 * All experts' FFN weights as stacked tensors: `w1 [E, d, h]`, `b1 [E, h]`, `w2 [E, h, d]`,
 * `b2 [E, d]` (and `w3 [E, d, h]` for SwiGLU). Expert e computes
 * `act(x·w1[e] + b1[e]) → dropout → ·w2[e] + b2[e]` (SwiGLU: `silu(x·w1[e]) ⊙ (x·w3[e])`).
 *
 * Forward forms: {@link ExpertBank.forwardGrouped} runs each expert on exactly its own rows
 * (dropless token choice); {@link ExpertBank.forwardPadded} runs capacity buffers `[E, C, d]`
 * (per expert on wasm/cpu, whose batched matMul is slow; batched elsewhere);
 * {@link ExpertBank.forwardBatched} is the batched form.
 */
export class ExpertBank {
  readonly config: ExpertBankConfig;
  private readonly weights: Record<string, tf.Variable>;

  /** @param rng - draws the initial weights. */
  constructor(config: ExpertBankConfigInput, rng: Rng) {
    this.config = parseOrThrow(expertBankConfigSchema, config, 'experts config');
    const { numExperts: E, dModel: d, dHidden: h, init, bias, activation } = this.config;
    const weightInit: InitSpec =
      init === 'experts-uniform'
        ? { kind: 'experts-uniform' }
        : { kind: 'kaiming-uniform', a: Math.sqrt(5) };
    const biasInit = (fanIn: number, shape: number[]) =>
      init === 'experts-uniform'
        ? initVariable(shape, { kind: 'zeros' }, rng)
        : initVariable(shape, { kind: 'linear-bias' }, rng, {
            fans: { fanIn, fanOut: shape[1] as number },
          });
    this.weights = { w1: initVariable([E, d, h], weightInit, rng) };
    if (bias) this.weights.b1 = biasInit(d, [E, h]);
    if (activation === 'swiglu') this.weights.w3 = initVariable([E, d, h], weightInit, rng);
    this.weights.w2 = initVariable([E, h, d], weightInit, rng);
    if (bias) this.weights.b2 = biasInit(h, [E, d]);
  }

  /** Experts E. */
  get numExperts(): number {
    return this.config.numExperts;
  }

  /** Trainable weights by stable name (`w1`, `b1`, `w2`, `b2`, `w3`). */
  variables(): Record<string, tf.Variable> {
    return { ...this.weights };
  }

  /** Frees the weights. */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }

  /** The hidden activation of the first projection `a` (SwiGLU: `silu(a) ⊙ gate()`, the W3 projection). */
  private hidden(a: tf.Tensor, gate: () => tf.Tensor): tf.Tensor {
    const act = this.config.activation;
    return act === 'swiglu' ? tf.mul(tf.mul(a, tf.sigmoid(a)), gate()) : activate(a, act);
  }

  private checkBuffers(xs: tf.Tensor3D, who: string): void {
    const { numExperts: E, dModel: d } = this.config;
    if (xs.rank !== 3 || xs.shape[0] !== E || xs.shape[2] !== d)
      throw new Error(
        `ExpertBank.${who}: buffers must be [${E}, C, ${d}], got [${xs.shape.join(', ')}]`,
      );
  }

  private dropout(h: tf.Tensor, options: ExpertForwardOptions): tf.Tensor {
    const rate = this.config.dropout;
    if (!options.training || rate === 0) return h;
    if (!options.rng) throw new Error('ExpertBank: training with dropout needs options.rng');
    return dropout(h, rate, options.rng);
  }

  /**
   * Runs every expert on exactly its own rows: `xs [A, d]` holds `counts[0]` rows for expert 0,
   * then `counts[1]` for expert 1, …; returns `[A, d]` in the same order. The stacked weights are
   * unstacked once (one op; its gradient is one stack), so the cost follows the tokens.
   */
  forwardGrouped(
    xs: tf.Tensor2D,
    counts: readonly number[],
    options: ExpertForwardOptions = {},
  ): tf.Tensor2D {
    if (counts.length !== this.numExperts) {
      throw new Error(
        `ExpertBank.forwardGrouped: need ${this.numExperts} counts, got ${counts.length}`,
      );
    }
    const w = this.weights;
    const w1 = tf.unstack(w.w1 as tf.Tensor) as tf.Tensor2D[];
    const w2 = tf.unstack(w.w2 as tf.Tensor) as tf.Tensor2D[];
    const w3 = w.w3 ? (tf.unstack(w.w3) as tf.Tensor2D[]) : null;
    const b1 = w.b1 ? (tf.unstack(w.b1) as tf.Tensor1D[]) : null;
    const b2 = w.b2 ? (tf.unstack(w.b2) as tf.Tensor1D[]) : null;
    const parts = tf.split(xs, [...counts], 0);
    const outs: tf.Tensor[] = [];
    parts.forEach((x, e) => {
      if (counts[e] === 0) return;
      const h = this.hidden(linear(x, w1[e] as tf.Tensor2D, b1?.[e]), () =>
        linear(x, w3?.[e] as tf.Tensor2D),
      );
      outs.push(linear(this.dropout(h, options), w2[e] as tf.Tensor2D, b2?.[e]));
    });
    return (
      outs.length > 0 ? tf.concat(outs, 0) : tf.zeros([0, this.config.dModel])
    ) as tf.Tensor2D;
  }

  /**
   * Runs every expert on its buffer of the same size: `xs [E, C, d]` → `[E, C, d]`, with batched
   * matMuls (one per projection for all experts).
   */
  forwardPadded(xs: tf.Tensor3D, options: ExpertForwardOptions = {}): tf.Tensor3D {
    this.checkBuffers(xs, 'forwardPadded');
    const { numExperts: E, dModel: d } = this.config;
    if (PER_EXPERT_BACKENDS.has(tf.getBackend())) {
      // tfjs-wasm's batched matMul is ~20× slower than one plain matMul per expert.
      const C = xs.shape[1];
      const rows = this.forwardGrouped(
        tf.reshape(xs, [E * C, d]) as tf.Tensor2D,
        new Array(E).fill(C),
        options,
      );
      return tf.reshape(rows, [E, C, d]) as tf.Tensor3D;
    }
    return this.forwardBatched(xs, options);
  }

  /** `xs [E, C, d]` → `[E, C, d]` with one batched matMul per projection (fast on GPU backends). */
  forwardBatched(xs: tf.Tensor3D, options: ExpertForwardOptions = {}): tf.Tensor3D {
    this.checkBuffers(xs, 'forwardBatched');
    const w = this.weights;
    const addBias = (t: tf.Tensor, b?: tf.Variable) => (b ? tf.add(t, tf.expandDims(b, 1)) : t);
    const a = addBias(matmul(xs, w.w1 as unknown as tf.Tensor3D), w.b1);
    const h = this.dropout(
      this.hidden(a, () => matmul(xs, w.w3 as unknown as tf.Tensor3D)),
      options,
    );
    return addBias(matmul(h as tf.Tensor3D, w.w2 as unknown as tf.Tensor3D), w.b2) as tf.Tensor3D;
  }

  /**
   * Every expert on every token: `x [N, d]` → `[E, N, d]`, through the batched path (an
   * implementation independent of {@link ExpertBank.forwardGrouped}). The dense oracle's building block.
   */
  forwardAll(x: tf.Tensor2D, options: ExpertForwardOptions = {}): tf.Tensor3D {
    const E = this.numExperts;
    return this.forwardBatched(tf.tile(tf.expandDims(x, 0), [E, 1, 1]) as tf.Tensor3D, options);
  }
}
