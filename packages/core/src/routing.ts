// What a router hands to the experts: the routing of N tokens (the types `@msmoe/router` produces
// and `@msmoe/experts` consumes; neither package imports the other).
import type * as tf from '@tensorflow/tfjs';

/** Per-call routing statistics, as plain numbers for logging and dashboards. */
export interface RoutingStats {
  /** Assignments each expert actually processes (after capacity). Soft MoE: summed combine weight. */
  tokensPerExpert: number[];
  /** Token-choice: assignments dropped by capacity. Expert choice: tokens no expert picked. */
  droppedTokens: number;
  /** Mean over tokens of the entropy (nats) of the full routing distribution. */
  entropy: number;
  /** Capacity per expert, or null when unbounded. */
  capacity: number | null;
  /** Unweighted value of each auxiliary loss computed. */
  auxLosses: Record<string, number>;
}

/** What every routing result carries. */
interface RoutingBase {
  /** Tokens routed, N. */
  numTokens: number;
  /** Experts, E. */
  numExperts: number;
  /** Full routing distribution `[N, E]` (softmax over experts), for losses and statistics. */
  probs: tf.Tensor2D;
  /** Weighted sum of the auxiliary losses (0 when none is configured); differentiable. */
  auxLoss: tf.Scalar;
  /** Each configured auxiliary loss, unweighted, differentiable. */
  auxLosses: Record<string, tf.Scalar>;
  /** Statistics of this call. */
  stats: RoutingStats;
}

/** Token choice: each token goes to k experts (top-k, noisy top-k, Switch). */
export interface TokenChoiceRouting extends RoutingBase {
  kind: 'token-choice';
  /** Chosen experts `[N, k]`, int32, detached from the tape. */
  expertIndex: tf.Tensor2D;
  /** Gate weights `[N, k]`, 0 where the assignment was dropped; differentiable. */
  gate: tf.Tensor2D;
  /** `expertIndex` as a JS array (row-major `[N, k]`). */
  expertIndexValues: Int32Array;
  /** 1 where assignment (t, j) is kept, 0 where capacity dropped it (row-major `[N, k]`). */
  kept: Uint8Array;
  /** Slot of each kept assignment inside its expert's buffer (−1 when dropped). */
  position: Int32Array;
  /** Capacity per expert (null: unbounded, every token served). */
  capacity: number | null;
  /** Whether capacity was raised to the largest load so nothing was dropped. */
  dropless: boolean;
  /** Experts per token. */
  k: number;
}

/** Expert choice: each expert takes its top-C tokens. */
export interface ExpertChoiceRouting extends RoutingBase {
  kind: 'expert-choice';
  /** Tokens chosen by each expert `[E, C]`, int32, detached. */
  tokenIndex: tf.Tensor2D;
  /** Gate weight of each (expert, slot) `[E, C]`; differentiable. */
  gate: tf.Tensor2D;
  /** `tokenIndex` as a JS array (row-major `[E, C]`). */
  tokenIndexValues: Int32Array;
  /** Tokens per expert C. */
  capacity: number;
}

/** Soft MoE: dense dispatch and combine weights over slots. */
export interface SoftRouting extends RoutingBase {
  kind: 'soft';
  /** `[G, m, E·S]`: softmax over the m tokens of each group (columns sum to 1). */
  dispatch: tf.Tensor3D;
  /** `[G, m, E·S]`: softmax over the slots of each token (rows sum to 1). */
  combine: tf.Tensor3D;
  /** Slots per expert S. */
  slotsPerExpert: number;
  /** Tokens per group m. */
  groupSize: number;
}

/** The result of routing N tokens. */
export type Routing = TokenChoiceRouting | ExpertChoiceRouting | SoftRouting;
