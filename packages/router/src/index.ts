/**
 * `@msmoe/router`: gates for sparse Mixture-of-Experts layers.
 *
 * Token choice ({@link TopKRouter}: top-k with either normalisation, noisy top-k, Switch top-1,
 * capacity with dropping or dropless), {@link ExpertChoiceRouter} and {@link SoftMoERouter};
 * auxiliary losses (load balance, importance, load, z-loss); routing statistics and
 * {@link routingChange} for stability tracking.
 *
 * @packageDocumentation
 */
export { cvSquared, importanceLoss, loadBalanceLoss, loadLoss, zLoss } from './aux-losses.js';
export { assignCapacity, type CapacityAssignment, expertCapacity } from './capacity.js';
export {
  authorsLmRouterConfig,
  auxWeightsSchema,
  type CapacityPriority,
  type ExpertChoiceRouterConfig,
  type ExpertChoiceRouterConfigInput,
  expertChoiceRouterConfigSchema,
  parseRouterConfig,
  type RouterConfig,
  type RouterConfigInput,
  routerConfigSchema,
  type SoftRouterConfig,
  type SoftRouterConfigInput,
  softRouterConfigSchema,
  switchRouterConfig,
  type TopKRouterConfig,
  type TopKRouterConfigInput,
  type TopKScoring,
  topKRouterConfigSchema,
  vmoeRouterConfig,
} from './config.js';
export { buildRouter, createRouter } from './create.js';
export { ExpertChoiceRouter } from './expert-choice.js';
export { SoftMoERouter } from './soft.js';
export { meanEntropy, routingChange, scalarValues, topExpert } from './stats.js';
export { TopKRouter } from './top-k.js';
export type {
  ExpertChoiceRouting,
  RouteOptions,
  Router,
  Routing,
  RoutingStats,
  SoftRouting,
  TokenChoiceRouting,
} from './types.js';
export { ProjectionRouter } from './weights.js';
