// study.html in Node: the page of report.ts with ECharts' browser build inlined, so its charts are
// interactive and the file still opens offline.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { renderStudyHtml as renderPortable, type StudyHtmlOptions } from './report.js';
import type { Direction, FrozenTrial } from './trial.js';

let library: string | undefined;

/**
 * The study page (best trial, history, parallel coordinates, importance, intermediate values,
 * slice plots, trial table) with interactive charts; `chartLibrary: ''` keeps them static SVG.
 */
export function renderStudyHtml(
  name: string,
  direction: Direction,
  trials: FrozenTrial[],
  options: StudyHtmlOptions = {},
): string {
  library ??= readFileSync(
    createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'),
    'utf8',
  );
  return renderPortable(name, direction, trials, { chartLibrary: library, ...options });
}
