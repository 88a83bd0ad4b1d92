// @msmoe/tracking without Node's modules: what a browser bundle gets (the `browser` export
// condition). index.ts adds what reads or writes files.

export {
  type BarChartSpec,
  type BarSeries,
  CHART_SIZE,
  type ChartOption,
  type ChartSpec,
  chartOption,
  chartSvg,
  chartsHtml,
  type LineChartSpec,
  type LinePoint,
  type LineSeries,
} from './charts.js';
export { crc32c, maskedCrc32c } from './crc32c.js';
export { esc, fmt, PALETTE } from './html.js';
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
