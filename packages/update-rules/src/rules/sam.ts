import * as tf from '@tensorflow/tfjs';
import type { RuleName } from '../config.js';
import type { MoEFunction, RuleState, RuleUpdate, UpdateRule } from '../types.js';

/**
 * SAM over depth, wrapping any rule: `u = f(x)`, `e = ρ u / ‖u‖` (norm over the whole batch
 * tensor), then the wrapped rule runs with the MoE evaluated at the perturbed point, `y ↦ f(y + e)`.
 * Costs one extra MoE evaluation per layer.
 */
export class SamRule<S extends RuleState> implements UpdateRule<S> {
  readonly name: RuleName = 'sam';

  constructor(
    readonly inner: UpdateRule<S>,
    readonly rho: number,
  ) {}

  get referenceSign(): 1 | -1 {
    return this.inner.referenceSign;
  }

  init(x: tf.Tensor): S {
    return this.inner.init(x);
  }

  update(x: tf.Tensor, moe: MoEFunction, state: S, layer: number): RuleUpdate<S> {
    const u = moe(x);
    const norm = tf.add(tf.norm(u), 1e-12);
    const e = tf.mul(tf.div(u, norm), this.rho);
    return this.inner.update(x, (y) => moe(tf.add(y, e)), state, layer);
  }

  step(x: tf.Tensor, moe: MoEFunction, state: S, layer: number): { x: tf.Tensor; state: S } {
    const { delta, state: next } = this.update(x, moe, state, layer);
    return { x: tf.add(x, delta), state: next };
  }

  variables(): Record<string, tf.Variable> {
    return this.inner.variables();
  }

  coefficients(): Record<string, number> {
    return { ...this.inner.coefficients(), rho: this.rho };
  }
}
