import { type LayerNormParams, layerNorm, layerNormParams } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import type { MoEFunction, RuleState, UpdateRule } from './types.js';

/**
 * Where the update sits in the block:
 * - `paper`: `x_{t+1} = x_t + Δ` (clean form, pre-LN friendly);
 * - `reference`: the authors' language-model code, a post-LN double residual
 *   `x_{t+1} = LN2(x + LN_inner(x + s·Δ))` with s the rule's {@link UpdateRule.referenceSign};
 * - `reference-vmoe`: the authors' V-MoE code, an extra post-LN `x_{t+1} = LN(x + s·Δ)`.
 */
export type UpdateStructure = 'paper' | 'reference' | 'reference-vmoe';

/** Options of {@link MoEUpdate}. */
export interface MoEUpdateOptions {
  /** Structure (default `paper`). */
  structure?: UpdateStructure;
  /** Model width (needed for the LayerNorms of the reference structures). */
  dModel?: number;
  /** Number of MoE layers (each reference layer has its own LayerNorms). */
  numLayers?: number;
  /**
   * Reference structure with AdamSMoE: reproduce the authors' layer 0, which computes
   * `LN_inner(h − (Δ + h))`, dropping its inner residual (it produced the published numbers).
   */
  layer0Quirk?: boolean;
}

/**
 * An update rule placed in a block structure: what a model calls at each MoE layer. Owns the
 * LayerNorms of the reference structures (one or two per MoE layer).
 *
 * @example
 * ```ts
 * const update = new MoEUpdate(createUpdateRule({ rule: 'heavy-ball' }), { structure: 'reference', dModel: 128, numLayers: 3 });
 * let state = update.init(h);
 * for (let t = 0; t < 3; t++) ({ x: h, state } = update.apply(h, (y) => moe[t](y), state, t));
 * ```
 */
export class MoEUpdate<S extends RuleState = RuleState> {
  readonly structure: UpdateStructure;
  private readonly norms: { inner?: LayerNormParams; outer: LayerNormParams }[] = [];

  constructor(
    readonly rule: UpdateRule<S>,
    private readonly options: MoEUpdateOptions = {},
  ) {
    this.structure = options.structure ?? 'paper';
    if (this.structure !== 'paper') {
      const { dModel, numLayers } = options;
      if (!dModel || !numLayers) {
        throw new Error(
          `MoEUpdate: structure "${this.structure}" needs dModel and numLayers (for its LayerNorms)`,
        );
      }
      for (let t = 0; t < numLayers; t++) {
        this.norms.push(
          this.structure === 'reference'
            ? { inner: layerNormParams(dModel), outer: layerNormParams(dModel) }
            : { outer: layerNormParams(dModel) },
        );
      }
    }
    if (options.layer0Quirk && (this.structure !== 'reference' || rule.name !== 'adam')) {
      throw new Error(
        'MoEUpdate: layer0Quirk applies only to the adam rule in the reference structure',
      );
    }
  }

  /** Zero rule state at the start of a forward pass. */
  init(x: tf.Tensor): S {
    return this.rule.init(x);
  }

  /** Applies the update at MoE layer `layer`. */
  apply(x: tf.Tensor, moe: MoEFunction, state: S, layer: number): { x: tf.Tensor; state: S } {
    if (this.structure === 'paper') return this.rule.step(x, moe, state, layer);
    const norms = this.norms[layer];
    if (!norms)
      throw new Error(`MoEUpdate: layer ${layer} is out of range (numLayers ${this.norms.length})`);
    const { delta, state: next } = this.rule.update(x, moe, state, layer);
    const signed = this.rule.referenceSign === 1 ? delta : tf.neg(delta);
    const ln = (t: tf.Tensor, p: LayerNormParams) => layerNorm(t, p.gamma, p.beta);
    if (this.structure === 'reference-vmoe')
      return { x: ln(tf.add(x, signed), norms.outer), state: next };
    const quirk = this.options.layer0Quirk && layer === 0;
    const inner = ln(quirk ? signed : tf.add(x, signed), norms.inner as LayerNormParams);
    return { x: ln(tf.add(x, inner), norms.outer), state: next };
  }

  /** Rule coefficients and the LayerNorm parameters, by name. */
  variables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [n, v] of Object.entries(this.rule.variables())) out[`rule.${n}`] = v;
    this.norms.forEach((p, t) => {
      if (p.inner) {
        out[`layers.${t}.ln_inner.weight`] = p.inner.gamma;
        out[`layers.${t}.ln_inner.bias`] = p.inner.beta;
      }
      out[`layers.${t}.ln_out.weight`] = p.outer.gamma;
      out[`layers.${t}.ln_out.bias`] = p.outer.beta;
    });
    return out;
  }
}
