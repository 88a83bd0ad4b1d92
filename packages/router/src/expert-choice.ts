import { parseOrThrow, type Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { zLoss } from './aux-losses.js';
import {
  type ExpertChoiceRouterConfig,
  type ExpertChoiceRouterConfigInput,
  expertChoiceRouterConfigSchema,
} from './config.js';
import { meanEntropy, scalarValues } from './stats.js';
import type { ExpertChoiceRouting, RouteOptions, Router } from './types.js';
import { checkTokens, ProjectionRouter } from './weights.js';

/**
 * Expert-choice router (Zhou et al., 2022): scores `softmax(x·W + b)` over experts, then every
 * expert takes the C tokens it scores highest, `C = min(N, ceil(N · capacityFactor / E))`. Load is
 * perfectly balanced by construction; a token may be taken by several experts or by none.
 */
export class ExpertChoiceRouter
  extends ProjectionRouter<ExpertChoiceRouterConfig>
  implements Router
{
  /** @param rng - draws the initial weights. */
  constructor(config: ExpertChoiceRouterConfigInput, rng: Rng) {
    super(parseOrThrow(expertChoiceRouterConfigSchema, config, 'router config'), rng);
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
    const logits = this.project(x);
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
