import { constantVariable, initVariable, parseOrThrow, type Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import {
  type SoftRouterConfig,
  type SoftRouterConfigInput,
  softRouterConfigSchema,
} from './config.js';
import { meanEntropy } from './stats.js';
import type { RouteOptions, Router, SoftRouting } from './types.js';
import { checkTokens } from './weights.js';

function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), axis, true), 1e-6)));
}

/**
 * Soft MoE router (Puigcerver et al., 2023). Tokens are L2-normalised, slot parameters Φ `[d, E·S]`
 * are L2-normalised per slot and multiplied by a learned scale (initialised to 1); logits
 * `[G, m, E·S]` give the dispatch weights (softmax over the m tokens of a group) and the combine
 * weights (softmax over the slots of a token). Fully differentiable; no token is dropped.
 */
export class SoftMoERouter implements Router {
  readonly config: SoftRouterConfig;
  readonly numExperts: number;
  private readonly phi: tf.Variable;
  private readonly scale: tf.Variable;

  constructor(config: SoftRouterConfigInput, rng: Rng) {
    this.config = parseOrThrow(softRouterConfigSchema, config, 'router config');
    this.numExperts = this.config.numExperts;
    const slots = this.numExperts * this.config.slotsPerExpert;
    this.phi = initVariable(
      [this.config.dModel, slots],
      { kind: 'normal', std: 1 / Math.sqrt(this.config.dModel) },
      rng,
    );
    this.scale = constantVariable([], 1);
  }

  variables(): Record<string, tf.Variable> {
    return { phi: this.phi, scale: this.scale };
  }

  dispose(): void {
    tf.dispose([this.phi, this.scale]);
  }

  route(x: tf.Tensor2D, _options: RouteOptions = {}): SoftRouting {
    const c = this.config;
    checkTokens(x, c.dModel, 'SoftMoERouter.route');
    const [N] = x.shape as [number, number];
    const m = c.groupSize ?? N;
    if (N % m !== 0)
      throw new Error(
        `SoftMoERouter.route: ${N} tokens do not split into groups of groupSize ${m}`,
      );
    const G = N / m;
    const E = this.numExperts;
    const S = c.slotsPerExpert;
    const xn = l2Normalize(x, -1);
    const phin = tf.mul(this.scale, l2Normalize(this.phi, 0));
    const logits = tf.reshape(tf.matMul(xn, phin), [G, m, E * S]);
    const dispatch = tf.transpose(
      tf.softmax(tf.transpose(logits, [0, 2, 1])),
      [0, 2, 1],
    ) as tf.Tensor3D;
    const combine = tf.softmax(logits) as tf.Tensor3D;
    // Share of each token's output coming from each expert: combine weights summed over its slots.
    const probs = tf.sum(tf.reshape(combine, [N, E, S]), -1) as tf.Tensor2D;
    const share = tf.tidy(() => Array.from(tf.sum(probs, 0).dataSync()));
    return {
      kind: 'soft',
      numTokens: N,
      numExperts: E,
      probs,
      dispatch,
      combine,
      slotsPerExpert: S,
      groupSize: m,
      auxLoss: tf.scalar(0),
      auxLosses: {},
      stats: {
        tokensPerExpert: share,
        droppedTokens: 0,
        entropy: meanEntropy(probs),
        capacity: null,
        auxLosses: {},
      },
    };
  }
}
