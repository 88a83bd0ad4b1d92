/**
 * `@msmoe/training` (in progress): Adam/AdamW with explicit, checkpointable state
 * ({@link AdamOptimizer}), learning-rate schedules and global-norm clipping. The training loop,
 * checkpoints and evaluation come next.
 *
 * @packageDocumentation
 */
export { clipByGlobalNorm } from './clip.js';
export {
  AdamOptimizer,
  type OptimizerConfig,
  type OptimizerConfigInput,
  type OptimizerType,
  optimizerConfigSchema,
} from './optimizer.js';
export { type Schedule, warmupConstant, warmupCosine } from './schedule.js';
