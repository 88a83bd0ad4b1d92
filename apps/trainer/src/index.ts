/**
 * `@msmoe/trainer`: the `msmoe` CLI as a library — {@link main} runs it, {@link trainRun} trains
 * one run folder, {@link compare} runs an A/B study.
 *
 * @packageDocumentation
 */

export {
  abRows,
  type Claim,
  type ClaimName,
  type CompareRow,
  claimMetrics,
  claimsOf,
  formatTable,
  formatVerdicts,
  runMetrics,
} from './analysis.js';
export { buildProgram, EXIT, main } from './cli.js';
export { type ComparePlan, type CompareResult, compare, planCells } from './compare.js';
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
