import { dropout, type Rng } from '@msmoe/core';
import { type DispatchStrategy, type ExpertBank, sparseMoE } from '@msmoe/experts';
import type { Router, Routing } from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';

/** Parts of an MoE layer. */
export interface MoELayerOptions {
  /** Any router from `@msmoe/router`. */
  router: Router;
  /** The experts. */
  experts: ExpertBank;
  /** Dropout on the MoE output in training (the authors: same rate as elsewhere). Default 0. */
  dropout?: number;
  /** Dispatch strategy for token choice (default auto). */
  strategy?: DispatchStrategy;
}

/** Options of one call of an MoE layer. */
export interface MoECallOptions {
  /** Training mode: router noise/jitter, training capacity and dropout apply (default false). */
  training?: boolean;
  /** Random source for noise, jitter and dropout (required when training uses any). */
  rng?: Rng;
}

/** What an MoE layer returns: the output (same shape as the input) and the routing used. */
export interface MoEOutput {
  /** `[..., d]`, same shape as the input. */
  y: tf.Tensor;
  /** Routing of the flattened tokens; its `auxLoss` belongs in the training loss. */
  routing: Routing;
}

/** A callable MoE layer with its trainable weights. */
export interface MoELayer {
  /** Routes and runs experts on `x [..., d]`. Creates tensors: call inside `tf.tidy` or a gradient function. */
  (x: tf.Tensor, options?: MoECallOptions): MoEOutput;
  /** Router and expert weights, names prefixed `router.` and `experts.`. */
  variables(): Record<string, tf.Variable>;
  /** The router. */
  readonly router: Router;
  /** The experts. */
  readonly experts: ExpertBank;
}

/**
 * Composes a router and an expert bank into the layer `f(x) = Σ_{e ∈ TopK(x)} g_e(x) E_e(x)`
 * (without residual: update rules add it), followed by dropout in training.
 *
 * @example
 * ```ts
 * const moe = moeLayer({ router: createRouter(authorsLmRouterConfig(64, 8), rng), experts: new ExpertBank({ numExperts: 8, dModel: 64, dHidden: 64 }, rng) });
 * const { y, routing } = moe(x, { training: true, rng });
 * ```
 */
export function moeLayer(options: MoELayerOptions): MoELayer {
  const { router, experts } = options;
  const rate = options.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) throw new Error(`moeLayer: dropout must be in [0, 1), got ${rate}`);
  if (router.numExperts !== experts.numExperts) {
    throw new Error(
      `moeLayer: router has ${router.numExperts} experts, bank has ${experts.numExperts}`,
    );
  }
  const d = experts.config.dModel;
  const layer = ((x: tf.Tensor, call: MoECallOptions = {}): MoEOutput => {
    if (x.shape[x.rank - 1] !== d) {
      throw new Error(`moeLayer: last axis of x [${x.shape.join(', ')}] must be ${d}`);
    }
    const flat = (x.rank === 2 ? x : tf.reshape(x, [-1, d])) as tf.Tensor2D;
    const routing = router.route(flat, call);
    let y: tf.Tensor = sparseMoE(flat, routing, experts, { ...call, strategy: options.strategy });
    if (call.training && rate > 0) {
      if (!call.rng) throw new Error('moeLayer: training with dropout needs options.rng');
      y = dropout(y, rate, call.rng);
    }
    return { y: x.rank === 2 ? y : tf.reshape(y, x.shape), routing };
  }) as MoELayer;
  layer.variables = () => {
    const out: Record<string, tf.Variable> = {};
    for (const [n, v] of Object.entries(router.variables())) out[`router.${n}`] = v;
    for (const [n, v] of Object.entries(experts.variables())) out[`experts.${n}`] = v;
    return out;
  };
  Object.defineProperty(layer, 'router', { value: router });
  Object.defineProperty(layer, 'experts', { value: experts });
  return layer;
}
