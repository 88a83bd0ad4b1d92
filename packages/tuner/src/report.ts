// A standalone study.html: best trial, optimisation history, parallel coordinates, parameter
// importance, slice plots and the intermediate values of pruned trials, as Apache ECharts charts:
// static SVG from ECharts' server-side renderer, interactive when ECharts' browser build is inlined
// (the Node entry of @msmoe/tuner does it), one offline file either way.
import * as echarts from 'echarts/dist/echarts.esm.min';
import { type Distribution, toExternal } from './distributions.js';
import { pedAnovaImportance } from './importance.js';
import type { Direction, FrozenTrial } from './trial.js';

const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number) =>
  Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
    ? v.toExponential(3)
    : String(+v.toPrecision(5));

type Option = Record<string, unknown>;
const SIZE = { width: 600, height: 340 };
/** A chart's width: its own (`width` in the option, e.g. parallel coordinates with many axes) or the default. */
const widthOf = (o: Option) => (typeof o.width === 'number' ? o.width : SIZE.width);

const frame = (title: string): Option => ({
  animation: false,
  color: COLORS,
  aria: { enabled: true, label: { description: title } },
  title: { text: title, left: 8, top: 4, textStyle: { fontSize: 13, fontWeight: 600 } },
  tooltip: { trigger: 'item', confine: true },
});

const completed = (trials: FrozenTrial[]) =>
  trials.filter((t) => t.state === 'COMPLETE' && t.value !== null && Number.isFinite(t.value));

/** Objective values (dots) and best so far (line) over trial numbers. */
function historyOption(trials: FrozenTrial[], direction: Direction): Option | null {
  const done = completed(trials);
  if (!done.length) return null;
  let best = direction === 'minimize' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  const bestLine = done.map((t) => {
    const v = t.value as number;
    best = direction === 'minimize' ? Math.min(best, v) : Math.max(best, v);
    return [t.number, best];
  });
  return {
    ...frame('Optimisation history'),
    legend: { top: 4, right: 8 },
    grid: { left: 16, right: 20, top: 56, bottom: 40, containLabel: true },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: { type: 'value', name: 'objective', scale: true },
    series: [
      { type: 'scatter', name: 'trial', data: done.map((t) => [t.number, t.value]), symbolSize: 7 },
      { type: 'line', name: 'best so far', step: 'end', data: bestLine, showSymbol: false },
    ],
  };
}

/** A parameter's value on an axis: categorical choices by name, log parameters on a log axis. */
function paramAxis(name: string, trials: FrozenTrial[]): Option {
  const d = trials.find((t) => name in t.distributions)?.distributions[name] as Distribution;
  if (d.kind === 'categorical')
    return { type: 'category', name, data: d.choices.map((c) => String(c)) };
  return { type: d.log ? 'log' : 'value', name, scale: true };
}
const external = (t: FrozenTrial, k: string) => {
  const d = t.distributions[k] as Distribution;
  const v = toExternal(d, t.params[k] as number);
  return d.kind === 'categorical' ? String(v) : (v as number);
};

/** One line per completed trial across the parameter axes and the objective, coloured by value. */
function parallelOption(trials: FrozenTrial[]): Option | null {
  const done = completed(trials);
  const names = [...new Set(done.flatMap((t) => Object.keys(t.params)))].sort();
  if (!done.length || !names.length) return null;
  const vals = done.map((t) => t.value as number);
  const axes = [
    ...names.map((k, i) => ({ dim: i, ...paramAxis(k, done) })),
    { dim: names.length, name: 'objective', type: 'value', scale: true },
  ];
  return {
    ...frame('Parallel coordinates (one line per completed trial)'),
    // A whole row (two chart widths): room for every axis name, the colour scale on the right.
    width: 2 * SIZE.width + 14,
    parallel: { left: 70, right: 170, top: 70, bottom: 30 },
    parallelAxis: axes.map((a) => ({ ...a, nameTextStyle: { fontSize: 11 } })),
    visualMap: {
      type: 'continuous',
      dimension: names.length,
      min: Math.min(...vals),
      max: Math.max(...vals),
      right: 24,
      top: 'middle',
      itemHeight: 140,
      precision: 3,
      calculable: true,
      inRange: { color: ['#0072B2', '#E69F00', '#D55E00'] },
      text: ['objective', ''],
    },
    series: [
      {
        type: 'parallel',
        lineStyle: { width: 1.5, opacity: 0.6 },
        data: done.map((t) => [
          ...names.map((k) => (k in t.params ? external(t, k) : null)),
          t.value,
        ]),
      },
    ],
  };
}

/** PED-ANOVA importance, one bar per parameter (labels inside the chart, never clipped). */
function importanceOption(importance: Record<string, number>): Option | null {
  const entries = Object.entries(importance).reverse();
  if (!entries.length) return null;
  return {
    ...frame('Parameter importance (PED-ANOVA)'),
    grid: { left: 16, right: 48, top: 40, bottom: 20, containLabel: true },
    xAxis: { type: 'value', max: 1 },
    yAxis: { type: 'category', data: entries.map(([k]) => k) },
    series: [
      {
        type: 'bar',
        data: entries.map(([, v]) => +v.toFixed(3)),
        itemStyle: { color: COLORS[2] },
        label: { show: true, position: 'right' },
      },
    ],
  };
}

/** The objective against each parameter (slice plots), coloured by trial number. */
function sliceOptions(trials: FrozenTrial[]): Option[] {
  const done = completed(trials);
  const names = [...new Set(done.flatMap((t) => Object.keys(t.params)))].sort();
  return names.map((k) => {
    const with_ = done.filter((t) => k in t.params);
    return {
      ...frame(`Slice: objective against ${k}`),
      grid: { left: 16, right: 20, top: 40, bottom: 40, containLabel: true },
      xAxis: { ...paramAxis(k, with_), nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', name: 'objective', scale: true },
      series: [
        {
          type: 'scatter',
          name: k,
          symbolSize: 7,
          data: with_.map((t) => [external(t, k), t.value, t.number]),
        },
      ],
    };
  });
}

/** Intermediate values (the pruner's evidence) of every trial that reported any, pruned ones marked. */
function intermediateOption(trials: FrozenTrial[]): Option | null {
  const reported = trials.filter((t) => Object.keys(t.intermediate).length > 0);
  if (!reported.length) return null;
  return {
    ...frame('Intermediate values (dashed: pruned trials)'),
    tooltip: { trigger: 'item', confine: true },
    grid: { left: 16, right: 20, top: 40, bottom: 40, containLabel: true },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: { type: 'value', name: 'value', scale: true },
    series: reported.map((t) => ({
      type: 'line',
      name: `trial ${t.number} (${t.state.toLowerCase()})`,
      showSymbol: false,
      lineStyle: { width: 1.2, type: t.state === 'PRUNED' ? 'dashed' : 'solid', opacity: 0.8 },
      data: Object.entries(t.intermediate)
        .map(([s, v]) => [Number(s), v])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
    })),
  };
}

/** A chart as static SVG (ECharts' server-side renderer). */
function svgOf(option: Option): string {
  const { width: _w, ...rest } = option;
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: widthOf(option),
    height: SIZE.height,
  });
  try {
    chart.setOption(rest);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Options of {@link renderStudyHtml}. */
export interface StudyHtmlOptions {
  /** ECharts' browser build as text, inlined to make the charts interactive (static SVG without it). */
  chartLibrary?: string;
  /** Re-fetch the page every `refreshSeconds` (the live dashboard). */
  refreshSeconds?: number;
  /** HTML placed first (e.g. the dashboard's navigation). */
  topHtml?: string;
}

// Draws every chart box with ECharts; the live dashboard calls the two functions around each refresh.
const STUDY_RUNTIME = `(function(){
function draw(){var o=JSON.parse(document.getElementById('study-chart-data').textContent);
document.querySelectorAll('[data-chart]').forEach(function(b){if(echarts.getInstanceByDom(b))return;b.innerHTML='';echarts.init(b,null,{renderer:'svg'}).setOption(o[+b.getAttribute('data-chart')]);});}
window.msmoeCharts=draw;window.msmoeChartsDispose=function(){document.querySelectorAll('[data-chart]').forEach(function(b){var c=echarts.getInstanceByDom(b);if(c)c.dispose();});};draw();})();`;

/** Re-fetches the page every `seconds`, swapping the body and redrawing the charts. */
function refreshScript(seconds: number): string {
  return `<script>setInterval(async()=>{try{const r=await fetch(location.href,{cache:'no-store'});const t=await r.text();const d=new DOMParser().parseFromString(t,'text/html');const y=scrollY;if(window.msmoeChartsDispose)window.msmoeChartsDispose();document.body.innerHTML=d.body.innerHTML;if(window.msmoeCharts)window.msmoeCharts();scrollTo(0,y);}catch(e){}},${seconds * 1000});</script>`;
}

/** The charts of a study page: each drawn as SVG, with the data to make it interactive. */
function studyCharts(options: Option[], library?: string): string {
  const boxes = options
    .map(
      (o, i) =>
        `<div class="chart" data-chart="${i}" role="img" style="width:${widthOf(o)}px;height:${SIZE.height}px">${svgOf(o)}</div>`,
    )
    .join('\n');
  const data = JSON.stringify(options.map(({ width: _w, ...o }) => o)).replace(/</g, '\\u003c');
  const script = library
    ? `<script>${library.replace(/<\/script/gi, '<\\/script')}</script><script>${STUDY_RUNTIME}</script>`
    : '';
  return `<div class="charts">${boxes}</div><script type="application/json" id="study-chart-data">${data}</script>${script}`;
}

/** The study page: best trial, state counts, history, parallel coordinates, importance, trial table. */
export function renderStudyHtml(
  name: string,
  direction: Direction,
  trials: FrozenTrial[],
  options: StudyHtmlOptions = {},
): string {
  const done = trials.filter((t) => t.state === 'COMPLETE' && t.value !== null);
  const sign = direction === 'maximize' ? -1 : 1;
  const best = done.length
    ? done.reduce((a, b) => (sign * (b.value as number) < sign * (a.value as number) ? b : a))
    : null;
  const counts = ['COMPLETE', 'PRUNED', 'FAIL', 'RUNNING', 'WAITING'].map(
    (s) => `${s.toLowerCase()} ${trials.filter((t) => t.state === s).length}`,
  );
  const ext = (t: FrozenTrial) =>
    Object.entries(t.params)
      .map(([k, v]) => {
        const x = toExternal(t.distributions[k] as Distribution, v);
        return `${esc(k)}=${esc(typeof x === 'number' ? num(x) : x)}`;
      })
      .join(', ');
  const rows = trials
    .map(
      (t) =>
        `<tr><td>${t.number}</td><td>${t.state}</td><td>${t.value === null ? '' : num(t.value)}</td><td>${ext(t)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>study ${esc(name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px}.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #eee;margin:8px 0;max-width:100%}</style></head><body>
${options.topHtml ?? ''}<h1>Study ${esc(name)} (${direction})</h1>
<p>${trials.length} trials: ${counts.join(', ')}.</p>
<p>Best: ${best ? `trial ${best.number}, value <b>${num(best.value as number)}</b>, ${ext(best)}` : 'none yet'}</p>
${studyCharts(
  [
    historyOption(trials, direction),
    importanceOption(pedAnovaImportance(trials, direction)),
    parallelOption(trials),
    intermediateOption(trials),
    ...sliceOptions(trials),
  ].filter((o): o is Option => o !== null),
  options.chartLibrary,
)}
<h2>Trials</h2><table><thead><tr><th>#</th><th>state</th><th>value</th><th>params</th></tr></thead><tbody>${rows}</tbody></table>
${options.refreshSeconds ? refreshScript(options.refreshSeconds) : ''}
</body></html>
`;
}
