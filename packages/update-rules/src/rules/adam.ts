import * as tf from '@tensorflow/tfjs';
import { oneMinus, power, scale } from '../coefficient.js';
import type { Coefficient } from '../config.js';
import type { MoEFunction, RuleUpdate } from '../types.js';
import { BaseRule } from './base.js';

/** State of AdamSMoE: Adam's moments p, v and the heavy-ball buffer m of the later layers. */
export type AdamState = { p: tf.Tensor; v: tf.Tensor; m: tf.Tensor };

/** Options of {@link AdamRule} (see the config schema for defaults). */
export interface AdamRuleOptions {
  beta1: Coefficient;
  beta2: Coefficient;
  eps: number;
  gamma1: Coefficient;
  gamma2: Coefficient;
  mu: Coefficient;
  adamLayers: number;
  allLayers: boolean;
  biasCorrection: boolean;
}

/**
 * AdamSMoE. On the first `adamLayers` MoE layers (all with `allLayers`):
 * `p = β1 p + (1−β1) u`, `v = β2 v + (1−β2) u²`, `x_{t+1} = x_t + γ1 · p / √(v + ε)` (ε inside the
 * root, no bias correction unless asked), and the heavy-ball buffer is seeded `m = γ2 · u`.
 * Later layers: heavy-ball `m = μ m + γ2 u`, `x_{t+1} = x_t + m`. From zero state the first step
 * is ≈ `γ1 · (0.1/√0.001) · sign(u)`.
 */
export class AdamRule extends BaseRule<AdamState> {
  readonly name = 'adam' as const;
  private readonly beta1;
  private readonly beta2;
  private readonly gamma1;
  private readonly gamma2;
  private readonly mu;

  constructor(private readonly options: AdamRuleOptions) {
    super();
    this.beta1 = this.coefficient('beta1', options.beta1, 'unit');
    this.beta2 = this.coefficient('beta2', options.beta2, 'unit');
    this.gamma1 = this.coefficient('gamma1', options.gamma1, 'positive');
    this.gamma2 = this.coefficient('gamma2', options.gamma2, 'positive');
    this.mu = this.coefficient('mu', options.mu, 'unit');
  }

  /** Whether MoE layer `layer` takes an Adam step. */
  isAdamLayer(layer: number): boolean {
    return this.options.allLayers || layer < this.options.adamLayers;
  }

  init(x: tf.Tensor): AdamState {
    const z = tf.zerosLike(x);
    return { p: z, v: z, m: z };
  }

  update(x: tf.Tensor, moe: MoEFunction, state: AdamState, layer: number): RuleUpdate<AdamState> {
    const u = moe(x);
    if (!this.isAdamLayer(layer)) {
      const m = tf.add(scale(this.mu.value(), state.m), scale(this.gamma2.value(), u));
      return { delta: m, state: { ...state, m } };
    }
    const b1 = this.beta1.value();
    const b2 = this.beta2.value();
    const p = tf.add(scale(b1, state.p), scale(oneMinus(b1), u));
    const v = tf.add(scale(b2, state.v), scale(oneMinus(b2), tf.square(u)));
    let pHat: tf.Tensor = p;
    let vHat: tf.Tensor = v;
    if (this.options.biasCorrection) {
      const t = layer + 1; // Adam steps taken, counting this one
      pHat = tf.div(p, oneMinus(power(b1, t)));
      vHat = tf.div(v, oneMinus(power(b2, t)));
    }
    const delta = scale(this.gamma1.value(), tf.div(pHat, tf.sqrt(tf.add(vHat, this.options.eps))));
    return { delta, state: { p, v, m: scale(this.gamma2.value(), u) } };
  }
}
