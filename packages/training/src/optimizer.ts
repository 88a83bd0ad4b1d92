import { parseOrThrow } from '@msmoe/core';
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
    for (const [name, w] of Object.entries(variables)) {
      const g0 = grads[name];
      if (!g0) continue; // a weight that did not take part (e.g. an unused expert) keeps its moments
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
