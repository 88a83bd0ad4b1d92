// @msmoe/tracking without Node's modules: what a browser bundle gets (the `browser` export
// condition). index.ts adds what reads or writes files.
export { crc32c, maskedCrc32c } from './crc32c.js';
export { isLocalHost } from './local-host.js';
export { groupByVariant, type ReportOptions, renderReport, type VariantRuns } from './report.js';
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
