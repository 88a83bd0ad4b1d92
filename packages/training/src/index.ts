/**
 * `@msmoe/training`: the training loop ({@link Trainer}) over a {@link TrainTask} ({@link LmTask}
 * for the language model, {@link VisionTask} for ViTs) with Adam/AdamW ({@link AdamOptimizer}),
 * warm-up schedules, clipping, gradient accumulation, a non-finite guard with roll-back, atomic
 * checkpoints with exact resume ({@link CheckpointStore}), typed events, and evaluation over whole
 * splits (perplexity, accuracy, corrupted accuracy, routing probes).
 *
 * @packageDocumentation
 */
export {
  type CheckpointContent,
  CheckpointError,
  CheckpointStore,
  disposeCheckpoint,
} from './checkpoint.js';
export { clipByGlobalNorm, clipToNorm, squaredGlobalNorm } from './clip.js';
export {
  type ClassifierEvaluation,
  evaluateClassifier,
  evaluateCorrupted,
  evaluateLm,
  evaluateLmRobustness,
  type LmEvaluation,
  probeRouting,
} from './evaluate.js';
export {
  type AnomalyEvent,
  type CheckpointEvent,
  Emitter,
  type EvalEvent,
  type StatsEvent,
  type StepEvent,
  type TrainerEvents,
} from './events.js';
export {
  AdamOptimizer,
  type OptimizerConfig,
  type OptimizerConfigInput,
  type OptimizerType,
  optimizerConfigSchema,
} from './optimizer.js';
export { type DataParallel, packGradients, unpackGradients, weightsDigest } from './replica.js';
export { type Schedule, warmupConstant, warmupCosine } from './schedule.js';
export { routingNumbers, type TaskReport, type TaskStats, type TrainTask } from './task.js';
export { LmTask, type Shard, VisionTask } from './tasks.js';
export {
  type ScheduleKind,
  type TrainConfig,
  type TrainConfigInput,
  Trainer,
  type TrainerOptions,
  TrainingDivergedError,
  type TrainResult,
  trainConfigSchema,
} from './trainer.js';
