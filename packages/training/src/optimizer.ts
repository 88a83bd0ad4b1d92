import { emptyTensor, hostView, isHostBackend, parseOrThrow } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

/** Optimiser kind. */
export type OptimizerType = 'adam' | 'adamw';
// Typed as plain ZodType so the API docs show the union, not zod's internal enum object.
const typeSchema: z.ZodType<OptimizerType> = z.enum(['adam', 'adamw']);

/** Optimiser configuration: Adam (PyTorch's formula) or AdamW (decoupled weight decay). */
export const optimizerConfigSchema = z
  .object({
    type: typeSchema.default('adam'),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-8),
    /** AdamW: decoupled decay `w ← w − lr·wd·w`; Adam: L2 term `g ← g + wd·w` (PyTorch semantics). */
    weightDecay: z.number().min(0).default(0),
  })
  .strict();

/** Validated optimiser configuration. */
export type OptimizerConfig = z.output<typeof optimizerConfigSchema>;
/** Optimiser configuration as written by a user. */
export type OptimizerConfigInput = z.input<typeof optimizerConfigSchema>;

/**
 * One Adam(W) update over plain arrays: `m`, `v`, `out` receive the new moments and weights (`m0`,
 * `v0` null before the first update). A standalone function with one loop per case: V8 optimises
 * it 2.5× better than the same loop inline in a method.
 */
function adamPass(
  g: Float32Array,
  w: Float32Array,
  m0: Float32Array | null,
  v0: Float32Array | null,
  m: Float32Array,
  v: Float32Array,
  out: Float32Array,
  k: {
    beta1: number;
    beta2: number;
    eps: number;
    l2: number;
    decay: number;
    step: number;
    rootBc2: number;
  },
): void {
  const { beta1, beta2, eps, l2, decay, step, rootBc2 } = k;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  const n = w.length;
  if (m0 && v0 && l2 === 0)
    for (let i = 0; i < n; i++) {
      const gi = g[i] as number;
      const mi = beta1 * (m0[i] as number) + c1 * gi;
      const vi = beta2 * (v0[i] as number) + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      // w − lr · (m / bc1) / (√(v / bc2) + ε) − lr·wd·w (AdamW)
      out[i] = (w[i] as number) * (1 - decay) - (step * mi) / (Math.sqrt(vi) / rootBc2 + eps);
    }
  else
    for (let i = 0; i < n; i++) {
      const wi = w[i] as number;
      const gi = (g[i] as number) + l2 * wi;
      const mi = (m0 ? beta1 * (m0[i] as number) : 0) + c1 * gi;
      const vi = (v0 ? beta2 * (v0[i] as number) : 0) + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      out[i] = wi * (1 - decay) - (step * mi) / (Math.sqrt(vi) / rootBc2 + eps);
    }
}

/**
 * Largest weight updated by the host pass on wasm/cpu. Small weights are bound by kernel launches
 * (a dozen per weight), large ones by memory passes, where tfjs-wasm's SIMD kernels beat a JS loop:
 * measured on the mini LM, all-host 26.1 ms, all-kernels 22.7 ms, split at 64 K 20.2 ms per update.
 */
const HOST_MAX = 1 << 16;

/**
 * Adam / AdamW with explicit state, as `torch.optim.Adam(W)`: `m = β1 m + (1−β1) g`,
 * `v = β2 v + (1−β2) g²`, `w ← w − lr · m̂ / (√v̂ + ε)` with bias-corrected m̂, v̂. Its state (step
 * count and the moments, named after the variables) is plain tensors, so it goes into a
 * checkpoint and comes back exactly ({@link AdamOptimizer.getState}, {@link AdamOptimizer.setState}).
 */
export class AdamOptimizer {
  readonly config: OptimizerConfig;
  /** Updates applied so far. */
  step = 0;
  private readonly m = new Map<string, tf.Tensor>();
  private readonly v = new Map<string, tf.Tensor>();

  constructor(config: OptimizerConfigInput = {}) {
    this.config = parseOrThrow(optimizerConfigSchema, config, 'optimizer config');
  }

  /** Applies one update with learning rate `lr` from gradients named like the variables. */
  apply(
    variables: Record<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    lr: number,
  ): void {
    const { beta1, beta2, eps, weightDecay, type } = this.config;
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    const host = isHostBackend();
    for (const [name, w] of Object.entries(variables)) {
      const g0 = grads[name];
      if (!g0) continue; // a weight that did not take part (e.g. an unused expert) keeps its moments
      if (host && w.dtype === 'float32' && w.size <= HOST_MAX) {
        this.applyOnHost(name, w, g0, lr, bc1, bc2);
        continue;
      }
      tf.tidy(() => {
        let g = g0;
        if (type === 'adam' && weightDecay > 0) g = tf.add(g, tf.mul(w, weightDecay));
        const mPrev = this.m.get(name) ?? tf.zerosLike(w);
        const vPrev = this.v.get(name) ?? tf.zerosLike(w);
        const m = tf.add(tf.mul(mPrev, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(vPrev, beta2), tf.mul(tf.square(g), 1 - beta2));
        let next = tf.sub(
          w,
          tf.mul(tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps)), lr),
        );
        if (type === 'adamw' && weightDecay > 0) next = tf.sub(next, tf.mul(w, lr * weightDecay));
        w.assign(next);
        this.m.get(name)?.dispose();
        this.v.get(name)?.dispose();
        this.m.set(name, tf.keep(m));
        this.v.set(name, tf.keep(v));
      });
    }
  }

  /**
   * The same update in one pass over the host memory of a wasm/cpu tensor (the tf-op chain is a
   * dozen kernels per weight; this writes the new weight and moments into fresh tensors).
   */
  private applyOnHost(
    name: string,
    w: tf.Variable,
    grad: tf.Tensor,
    lr: number,
    bc1: number,
    bc2: number,
  ): void {
    const { beta1, beta2, eps, weightDecay, type } = this.config;
    const l2 = type === 'adam' ? weightDecay : 0;
    const decay = type === 'adamw' ? lr * weightDecay : 0;
    const prevM = this.m.get(name);
    const prevV = this.v.get(name);
    // Fresh outputs first: an allocation may grow (and detach) the wasm heap, so views come after.
    const m = emptyTensor(w.shape);
    const v = emptyTensor(w.shape);
    const next = emptyTensor(w.shape);
    const view = (t: tf.Tensor) => hostView(t) as Float32Array;
    adamPass(
      view(grad),
      view(w),
      prevM ? view(prevM) : null,
      prevV ? view(prevV) : null,
      view(m),
      view(v),
      view(next),
      { beta1, beta2, eps, l2, decay, step: lr / bc1, rootBc2: Math.sqrt(bc2) },
    );
    w.assign(next);
    next.dispose();
    prevM?.dispose();
    prevV?.dispose();
    this.m.set(name, m);
    this.v.set(name, v);
  }

  /** The state as named tensors (copies): `step` and `m.<name>`, `v.<name>` for every variable seen. */
  getState(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = { step: tf.scalar(this.step, 'int32') };
    for (const [n, t] of this.m) out[`m.${n}`] = tf.clone(t);
    for (const [n, t] of this.v) out[`v.${n}`] = tf.clone(t);
    return out;
  }

  /** Restores a state from {@link AdamOptimizer.getState} (tensors are copied; the caller keeps ownership). */
  setState(state: Record<string, tf.Tensor>): void {
    const step = state.step;
    if (!step) throw new Error('optimizer state: "step" is missing');
    this.dispose();
    this.step = step.dataSync()[0] as number;
    for (const [key, t] of Object.entries(state)) {
      if (key.startsWith('m.')) this.m.set(key.slice(2), tf.keep(tf.clone(t)));
      else if (key.startsWith('v.')) this.v.set(key.slice(2), tf.keep(tf.clone(t)));
    }
  }

  /** Frees the moments. */
  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
