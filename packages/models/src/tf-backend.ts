import { dropout, layerNorm, linear, type Rng, type Routing } from '@msmoe/core';
import { activate } from '@msmoe/experts';
import { tfOps, type UpdateRule } from '@msmoe/update-rules';
import type * as tf from '@tensorflow/tfjs';
import type { ModelBackend } from './forward.js';
import type { MoELayer } from './moe-layer.js';
import type { ParamRegistry } from './params.js';

/**
 * A profiling seam: called with the hidden state where a part of the forward starts and ends
 * (`attention`, `dense`, `block` = an MoE block with its update rule, `moe` = the MoE layer itself,
 * `output` = final LayerNorm, output layer and loss); returns the tensor to continue with (an
 * identity that records time, say, forward and backward). Off (undefined) in normal use.
 */
export type ForwardProbe = (x: tf.Tensor, part: string, edge: 'start' | 'end') => tf.Tensor;

/** Options of a tfjs forward pass. */
export interface TfForwardOptions {
  /** Training mode: dropout and router noise apply (default false). */
  training?: boolean;
  /** Random source for dropout and noise (required when training uses any). */
  rng?: Rng;
  /** See {@link ForwardProbe}. */
  probe?: ForwardProbe;
}

/** The tfjs backend's parts both models share, and what the forward records on the way. */
export interface TfBackend extends Omit<ModelBackend<tf.Tensor>, 'embed' | 'attention'> {
  /** Routing of each MoE layer: that of the evaluation whose output the update used (SAM evaluates twice). */
  routings: Routing[];
  /** Hidden state after each MoE block's update (for output-norm statistics). */
  moeOutputs: tf.Tensor3D[];
}

/** Weights by name from the model's registry, dropout at `rate`, the MoE layers with their routings. */
export function tfBackend(
  params: ParamRegistry,
  rule: UpdateRule,
  layers: MoELayer[],
  rate: number,
  options: TfForwardOptions,
): TfBackend {
  const { training = false, rng, probe } = options;
  if (training && rate > 0 && !rng)
    throw new Error('forward: training with dropout needs options.rng');
  const W = <R extends tf.Tensor>(name: string) => params.get(name) as unknown as R;
  const probed = (x: tf.Tensor, part: string, edge: 'start' | 'end') =>
    probe ? probe(x, part, edge) : x;
  const routings: Routing[] = [];
  const moeOutputs: tf.Tensor3D[] = [];
  return {
    ops: tfOps,
    coefficients: rule.values(),
    routings,
    moeOutputs,
    layerNorm: (x, n, eps) => layerNorm(x, W(`${n}.weight`), W(`${n}.bias`), eps),
    linear: (x, w, b) => linear(x, W<tf.Tensor2D>(w), W<tf.Tensor1D>(b)),
    activation: activate,
    dropout: (x) => (training && rate > 0 ? dropout(x, rate, rng as Rng) : x),
    moe: (x, _name, t) => {
      const out = (layers[t] as MoELayer)(probed(x, 'moe', 'start'), { training, rng });
      routings[t] = out.routing;
      return probed(out.y, 'moe', 'end');
    },
    mark: (x, part, edge) => {
      if (part === 'block' && edge === 'end') moeOutputs.push(x as tf.Tensor3D);
      return probed(x, part, edge);
    },
  };
}
