// The report in Node: the same page as report.ts with ECharts' browser build inlined, so its
// charts are interactive and the file still opens offline.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type ReportOptions, renderReport as renderPortableReport } from './report.js';
import type { RunData } from './run.js';

let library: string | undefined;

/** ECharts' browser build (`echarts/dist/echarts.min.js`) as text, read once. */
export function chartLibrarySource(): string {
  library ??= readFileSync(
    createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'),
    'utf8',
  );
  return library;
}

/**
 * One self-contained HTML page for a set of runs (see the browser-safe `renderReport` of
 * `@msmoe/tracking/report`), with interactive charts: ECharts is inlined unless
 * `options.chartLibrary` says otherwise (`''`: static SVG only).
 */
export function renderReport(runs: RunData[], options: ReportOptions = {}): string {
  return renderPortableReport(runs, { chartLibrary: chartLibrarySource(), ...options });
}
