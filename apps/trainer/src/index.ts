/**
 * `@msmoe/trainer`: the `msmoe` CLI as a library — {@link main} runs it, {@link trainRun} trains
 * one run folder, {@link compare} runs an A/B study.
 *
 * @packageDocumentation
 */
export { buildProgram, EXIT, main } from './cli.js';
export {
  abRows,
  type CompareResult,
  type CompareRow,
  compare,
  formatTable,
  runMetrics,
} from './compare.js';
export {
  familyOf,
  isImageTask,
  mergeRunConfigs,
  migrateRunConfig,
  modelConfigInput,
  parseRuleFlag,
  parseRunConfig,
  type RunConfig,
  type RunConfigInput,
  runConfigOf,
  runConfigSchema,
  type TaskName,
  variantName,
} from './config.js';
export { type ImageData, loadTaskData, type TextData } from './data.js';
export { BarReporter, createReporter, LineReporter, type Reporter } from './progress.js';
export { buildModel, finalEvaluation, RunError, type RunResult, trainRun } from './run.js';
