import { constantVariable, linear, parseOrThrow, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { importanceLoss, loadBalanceLoss, loadLoss, zLoss } from './aux-losses.js';
import { assignCapacity, expertCapacity } from './capacity.js';
import {
  type TopKRouterConfig,
  type TopKRouterConfigInput,
  topKRouterConfigSchema,
} from './config.js';
import { meanEntropy, scalarValues } from './stats.js';
import type { RouteOptions, Router, TokenChoiceRouting } from './types.js';
import { checkTokens, ProjectionRouter } from './weights.js';

/**
 * Token-choice router: logits `x·W (+ b)`, optional jitter and logit noise in training, top-k
 * selection with either normalisation, optional capacity (token dropping or dropless) and
 * auxiliary losses. Covers the authors' LM gate, V-MoE's noisy top-k and Switch's top-1.
 *
 * @example
 * ```ts
 * const router = new TopKRouter({ type: 'top-k', dModel: 64, numExperts: 8, k: 2 }, new Rng(0));
 * const routing = router.route(x, { training: true, rng });
 * ```
 */
export class TopKRouter extends ProjectionRouter<TopKRouterConfig> implements Router {
  private readonly noiseW?: tf.Variable;

  /** @param rng - draws the initial weights. */
  constructor(config: TopKRouterConfigInput, rng: Rng) {
    super(parseOrThrow(topKRouterConfigSchema, config, 'router config'), rng);
    if (this.config.noise.type === 'learned')
      this.noiseW = constantVariable([this.config.dModel, this.numExperts], 0);
  }

  override variables(): Record<string, tf.Variable> {
    const v = super.variables();
    if (this.noiseW) v['noise.weight'] = this.noiseW;
    return v;
  }

  route(x: tf.Tensor2D, options: RouteOptions = {}): TokenChoiceRouting {
    const c = this.config;
    checkTokens(x, c.dModel, 'TopKRouter.route');
    const training = options.training ?? false;
    const [N] = x.shape as [number, number];
    const E = this.numExperts;
    const k = c.k;
    const needsRng = training && (c.jitter > 0 || c.noise.type !== 'none');
    if (needsRng && !options.rng)
      throw new Error('TopKRouter.route: training with noise or jitter needs options.rng');
    const rng = options.rng ?? new Rng(0);

    const xIn =
      training && c.jitter > 0
        ? tf.mul(x, tf.tensor(rng.uniformArray(x.size, 1 - c.jitter, 1 + c.jitter), x.shape))
        : x;
    const clean = this.project(xIn as tf.Tensor2D);
    let logits = clean;
    let noiseStd: number | tf.Tensor2D | null = null;
    if (training && c.noise.type === 'gaussian') {
      noiseStd = c.noise.std ?? 1 / E;
      logits = tf.add(clean, tf.tensor(rng.normalArray(N * E, 0, noiseStd), [N, E])) as tf.Tensor2D;
    } else if (training && c.noise.type === 'learned' && this.noiseW) {
      noiseStd = tf.add(
        tf.softplus(linear(x, this.noiseW as unknown as tf.Tensor2D)),
        1e-6,
      ) as tf.Tensor2D;
      logits = tf.add(
        clean,
        tf.mul(tf.tensor(rng.normalArray(N * E), [N, E]), noiseStd),
      ) as tf.Tensor2D;
    }
    const probs = tf.softmax(logits) as tf.Tensor2D;
    const top = tf.topk(c.scoring === 'topk-then-softmax' ? logits : probs, k);
    let rawGate: tf.Tensor2D;
    if (c.scoring === 'topk-then-softmax') rawGate = tf.softmax(top.values) as tf.Tensor2D;
    else if (c.renormalize)
      rawGate = tf.div(top.values, tf.sum(top.values, -1, true)) as tf.Tensor2D;
    else rawGate = top.values as tf.Tensor2D;
    const expertIndexValues = (top.indices.dataSync() as Int32Array).slice();
    top.indices.dispose();

    // Capacity.
    let capacity: number | null = null;
    if (c.capacityFactor) {
      capacity = expertCapacity(
        N,
        E,
        k,
        training ? c.capacityFactor.train : c.capacityFactor.eval,
        c.minCapacity,
      );
    }
    let tokenOrder: Int32Array | undefined;
    if (capacity !== null && c.priority === 'batch-priority') {
      const first = tf.tidy(() => tf.slice(rawGate, [0, 0], [-1, 1]).dataSync());
      tokenOrder = Int32Array.from(
        [...Array(N).keys()].sort((a, b) => (first[b] as number) - (first[a] as number) || a - b),
      );
    }
    if (capacity !== null && c.dropless) {
      const counts = new Array<number>(E).fill(0);
      for (const e of expertIndexValues) counts[e] = (counts[e] as number) + 1;
      capacity = Math.max(1, ...counts);
    }
    const assignment = assignCapacity(expertIndexValues, N, k, E, capacity, tokenOrder);
    const gate =
      assignment.dropped > 0
        ? (tf.mul(rawGate, tf.tensor(Float32Array.from(assignment.kept), [N, k])) as tf.Tensor2D)
        : rawGate;

    // Auxiliary losses (unweighted values kept for logging).
    const auxLosses: Record<string, tf.Scalar> = {};
    if (c.aux.loadBalance > 0) auxLosses.loadBalance = loadBalanceLoss(probs, expertIndexValues);
    if (c.aux.importance > 0) auxLosses.importance = importanceLoss(probs);
    if (c.aux.load > 0 && noiseStd !== null) auxLosses.load = loadLoss(clean, logits, noiseStd, k);
    if (c.aux.zLoss > 0) auxLosses.zLoss = zLoss(logits);
    const weights: Record<string, number> = c.aux;
    const terms = Object.entries(auxLosses).map(([name, l]) => tf.mul(l, weights[name] as number));
    const auxLoss = (terms.length > 0 ? tf.addN(terms) : tf.scalar(0)) as tf.Scalar;

    return {
      kind: 'token-choice',
      numTokens: N,
      numExperts: E,
      k,
      probs,
      expertIndex: tf.tensor2d(expertIndexValues, [N, k], 'int32'),
      expertIndexValues,
      gate,
      kept: assignment.kept,
      position: assignment.position,
      capacity,
      dropless: c.dropless && capacity !== null,
      auxLoss,
      auxLosses,
      stats: {
        tokensPerExpert: assignment.load,
        droppedTokens: assignment.dropped,
        entropy: meanEntropy(probs),
        capacity,
        auxLosses: scalarValues(auxLosses),
      },
    };
  }
}
