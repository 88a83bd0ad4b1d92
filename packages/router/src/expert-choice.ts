import { linear, parseOrThrow, type Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { zLoss } from './aux-losses.js';
import {
  type ExpertChoiceRouterConfig,
  type ExpertChoiceRouterConfigInput,
  expertChoiceRouterConfigSchema,
} from './config.js';
import { meanEntropy, scalarValues } from './stats.js';
import type { ExpertChoiceRouting, RouteOptions, Router } from './types.js';
import { checkTokens, routerProjection } from './weights.js';

/**
 * Expert-choice router (Zhou et al., 2022): scores `softmax(x·W + b)` over experts, then every
 * expert takes the C tokens it scores highest, `C = min(N, ceil(N · capacityFactor / E))`. Load is
 * perfectly balanced by construction; a token may be taken by several experts or by none.
 */
export class ExpertChoiceRouter implements Router {
  readonly config: ExpertChoiceRouterConfig;
  readonly numExperts: number;
  private readonly W: tf.Variable;
  private readonly b?: tf.Variable;

  constructor(config: ExpertChoiceRouterConfigInput, rng: Rng) {
    this.config = parseOrThrow(expertChoiceRouterConfigSchema, config, 'router config');
    this.numExperts = this.config.numExperts;
    const { W, b } = routerProjection(
      this.config.dModel,
      this.numExperts,
      this.config.bias,
      rng,
      this.config.init,
    );
    this.W = W;
    this.b = b;
  }

  variables(): Record<string, tf.Variable> {
    return this.b ? { weight: this.W, bias: this.b } : { weight: this.W };
  }

  dispose(): void {
    tf.dispose(Object.values(this.variables()));
  }

  /** Tokens per expert for a batch of N tokens. */
  capacityFor(numTokens: number): number {
    return Math.min(
      numTokens,
      Math.max(1, Math.ceil((numTokens * this.config.capacityFactor) / this.numExperts)),
    );
  }

  route(x: tf.Tensor2D, _options: RouteOptions = {}): ExpertChoiceRouting {
    checkTokens(x, this.config.dModel, 'ExpertChoiceRouter.route');
    const [N] = x.shape as [number, number];
    const E = this.numExperts;
    const C = this.capacityFor(N);
    const logits = linear(
      x,
      this.W as unknown as tf.Tensor2D,
      this.b as unknown as tf.Tensor1D | undefined,
    ) as tf.Tensor2D;
    const probs = tf.softmax(logits) as tf.Tensor2D;
    const top = tf.topk(tf.transpose(probs), C); // [E, C]
    const tokenIndexValues = (top.indices.dataSync() as Int32Array).slice();
    top.indices.dispose();
    const chosen = new Uint8Array(N);
    for (const t of tokenIndexValues) chosen[t] = 1;
    const auxLosses: Record<string, tf.Scalar> = {};
    if (this.config.aux.zLoss > 0) auxLosses.zLoss = zLoss(logits);
    const auxLoss = (
      auxLosses.zLoss ? tf.mul(auxLosses.zLoss, this.config.aux.zLoss) : tf.scalar(0)
    ) as tf.Scalar;
    return {
      kind: 'expert-choice',
      numTokens: N,
      numExperts: E,
      probs,
      tokenIndex: tf.tensor2d(tokenIndexValues, [E, C], 'int32'),
      tokenIndexValues,
      gate: top.values as tf.Tensor2D,
      capacity: C,
      auxLoss,
      auxLosses,
      stats: {
        tokensPerExpert: new Array<number>(E).fill(C),
        droppedTokens: N - chosen.reduce((a, b) => a + b, 0),
        entropy: meanEntropy(probs),
        capacity: C,
        auxLosses: scalarValues(auxLosses),
      },
    };
  }
}
