import type { Rng, Routing } from '@msmoe/core';
import type * as tf from '@tensorflow/tfjs';

export type {
  ExpertChoiceRouting,
  Routing,
  RoutingStats,
  SoftRouting,
  TokenChoiceRouting,
} from '@msmoe/core';

/** Options of one routing call. */
export interface RouteOptions {
  /** Training mode: noise, jitter and training capacity apply (default false). */
  training?: boolean;
  /** Random source for noise and jitter; required when training with noise or jitter. */
  rng?: Rng;
}

/** A router: a function from tokens `[N, d]` to a {@link Routing}, plus its trainable weights. */
export interface Router {
  /** Validated configuration. */
  readonly config: import('./config.js').RouterConfig;
  /** Experts, E. */
  readonly numExperts: number;
  /**
   * Routes tokens `[N, d]`. Creates tensors: call inside `tf.tidy` or a gradient function.
   */
  route(x: tf.Tensor2D, options?: RouteOptions): Routing;
  /** Trainable weights by stable name (for optimisers and safetensors files). */
  variables(): Record<string, tf.Variable>;
  /** Frees the weights. */
  dispose(): void;
}
