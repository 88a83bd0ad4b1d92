import type { Rng } from '@msmoe/core';
import type { Routing } from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';

/** Per-micro-batch numbers of a training step (plain numbers), as `stats` events carry them. */
export interface TaskStats {
  /** Mean negative log-likelihood of the batch. */
  nll: number;
  /** Weighted auxiliary router loss of the batch. */
  aux: number;
  /** Tokens (LM) or images (vision) in the batch. */
  items: number;
  /** Share of routed assignments each expert processed, one row per MoE layer. */
  expertLoad: number[][];
  /** Mean L2 norm per token of the hidden state after each MoE layer (empty unless `layerStats` was asked). */
  outputNorm: number[];
  /** Mean routing entropy per MoE layer (nats). */
  routingEntropy: number[];
  /** Assignments dropped by capacity, summed over MoE layers. */
  droppedTokens: number;
}

/**
 * What a task reports from inside its loss: {@link TaskStats} with the NLL and auxiliary loss still
 * as scalar tensors, kept for the {@link Trainer}, which reads them in the step's single host read
 * (with the loss and the gradient norm) and disposes them.
 */
export type TaskReport = Omit<TaskStats, 'nll' | 'aux'> & { nll: tf.Scalar; aux: tf.Scalar };

/**
 * What the {@link Trainer} trains: a model's variables, a deterministic batch at every data
 * position (so a resumed run sees exactly the data an uninterrupted one would) and a loss. A task
 * may carry state from batch to batch (the LM's attention caches); it is saved in checkpoints.
 */
export interface TrainTask {
  /** `lm` or `vision` (for logs). */
  readonly kind: string;
  /** The model's trainable variables by stable name. */
  variables(): Record<string, tf.Variable>;
  /**
   * Training loss (NLL + weighted auxiliary losses) on the batch at data position `position`,
   * built inside the gradient tape. Calls `report` once with the batch's numbers (see
   * {@link TaskReport}: its two scalars kept); `layerStats`
   * asks for the per-layer output norms too (they read tensors back, so only when logged).
   */
  loss(
    position: number,
    rng: Rng,
    report: (stats: TaskReport) => void,
    layerStats?: boolean,
  ): tf.Scalar;
  /** State carried between batches (copies), for checkpoints. */
  getState(): Record<string, tf.Tensor>;
  /** Restores {@link TrainTask.getState}'s tensors (copied; the caller keeps ownership). */
  setState(state: Record<string, tf.Tensor>): void;
  /** Frees the carried state. */
  dispose(): void;
  /** Current values of the model's update-rule coefficients (μ, γ, …), for logging. */
  coefficients?(): Record<string, number>;
  /** The current name of a weight saved under an older layout (old checkpoints restore). */
  currentWeightName?(name: string): string;
}

/**
 * The per-layer routing numbers of a forward pass (call inside the tape). The output norms read
 * tensors back from the backend: only with `withOutputNorm`.
 */
export function routingNumbers(
  routings: Routing[],
  moeOutputs: tf.Tensor3D[],
  withOutputNorm = true,
): Pick<TaskStats, 'expertLoad' | 'outputNorm' | 'routingEntropy' | 'droppedTokens'> {
  const expertLoad = routings.map((r) => {
    const total = r.stats.tokensPerExpert.reduce((a, b) => a + b, 0);
    return r.stats.tokensPerExpert.map((n) => (total > 0 ? n / total : 0));
  });
  const outputNorm = withOutputNorm
    ? moeOutputs.map((h) =>
        tf.tidy(() => tf.mean(tf.norm(h, 'euclidean', -1)).dataSync()[0] as number),
      )
    : [];
  return {
    expertLoad,
    outputNorm,
    routingEntropy: routings.map((r) => r.stats.entropy),
    droppedTokens: routings.reduce((n, r) => n + r.stats.droppedTokens, 0),
  };
}
