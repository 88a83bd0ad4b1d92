/**
 * `@msmoe/tracking` (no tfjs): run folders ({@link RunWriter}, {@link readRun}, {@link findRuns})
 * with `config.json`, `metrics.jsonl`, TensorBoard event files ({@link TfEventsWriter},
 * {@link readTfEvents}, masked CRC-32C framing) and `eval.json`; a self-contained HTML report
 * with SVG charts ({@link renderReport}); A/B statistics ({@link summarize}, {@link welch}).
 *
 * @packageDocumentation
 */
export { crc32c, maskedCrc32c } from './crc32c.js';
export { groupByVariant, type ReportOptions, renderReport, type VariantRuns } from './report.js';
export { findRuns, type MetricRecord, type RunData, RunWriter, readRun, readRuns } from './run.js';
export { type Stability, type StabilityOptions, stabilityMetrics } from './stability.js';
export {
  bootstrapMeanCi,
  mean,
  minimalDetectableEffect,
  type PairedComparison,
  pairedComparison,
  pairedT,
  signTest,
  std,
  summarize,
  tQuantile,
  tTwoSidedP,
  welch,
} from './stats.js';
export { barChart, esc, fmt, type LineSeries, lineChart, PALETTE } from './svg.js';
export {
  frameRecord,
  readRecords,
  readRunScalars,
  readTfEvents,
  type ScalarRecord,
  TfEventsWriter,
} from './tfevents.js';
