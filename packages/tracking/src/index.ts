/**
 * `@msmoe/tracking` (no tfjs): run folders ({@link RunWriter}, {@link readRun}, {@link findRuns})
 * with `config.json`, `metrics.jsonl`, TensorBoard event files ({@link TfEventsWriter},
 * {@link readTfEvents}, masked CRC-32C framing) and `eval.json`; a self-contained HTML report
 * with interactive ECharts charts ({@link renderReport}); A/B statistics ({@link summarize}, {@link welch}).
 *
 * @packageDocumentation
 */
export * from './browser.js';
export { chartLibrarySource, renderReport } from './report-node.js';
export {
  findRuns,
  type MetricRecord,
  type RunData,
  RunFolderError,
  RunWriter,
  readRun,
  readRuns,
} from './run.js';
export {
  frameRecord,
  readRecords,
  readRunScalars,
  readTfEvents,
  type ScalarRecord,
  TfEventsWriter,
} from './tfevents.js';
