// Charts of the report and dashboard on Apache ECharts: one option object per chart, rendered to
// SVG in Node (static pages, README images, tests) and interactive in the page (hover readout,
// zoom, legend toggles per variant and per run, smoothing, log/linear, step or wall-time x-axis).
import * as echarts from 'echarts/dist/echarts.esm.min';
import { esc, fmt, PALETTE } from './html.js';

/** A point of a line: `[step, value]`, or `[step, value, seconds since the run started]`. */
export type LinePoint = [number, number] | [number, number, number];

/** One line of a line chart. */
export interface LineSeries {
  name: string;
  points: LinePoint[];
  color?: string;
  /** A single run's line, drawn thin under the means of its variant. */
  run?: boolean;
  /** Which run a line belongs to (the report's run toggles hide it by this key). */
  runKey?: string;
}

/** A line chart: values over training steps. */
export interface LineChartSpec {
  kind: 'line';
  title: string;
  yLabel: string;
  xLabel?: string;
  /** Logarithmic y-axis by default (perplexity, gradient norm). */
  logY?: boolean;
  series: LineSeries[];
}

/** One group of bars: a value per category, with an optional ± error (std over seeds). */
export interface BarSeries {
  name: string;
  values: number[];
  errors?: number[];
  color?: string;
}

/** A grouped bar chart. */
export interface BarChartSpec {
  kind: 'bar';
  title: string;
  yLabel: string;
  xLabel?: string;
  categories: string[];
  series: BarSeries[];
}

/** What a chart shows. */
export type ChartSpec = LineChartSpec | BarChartSpec;

/** Chart size in pixels. */
export const CHART_SIZE = { width: 600, height: 360 };

/** ECharts option (plain JSON: no functions, so the page can carry it as data). */
export type ChartOption = Record<string, unknown>;

/**
 * Where the plot starts below a legend that wraps onto as many lines as its entries need (every
 * entry stays visible; ~6 px a character of 11-px text, plus the symbol and the gap).
 */
function legendTop(names: string[]): number {
  const width = CHART_SIZE.width - 16;
  let lines = 1;
  let used = 0;
  for (const n of names) {
    const w = n.length * 6.2 + 38;
    if (used > 0 && used + w > width) {
      lines += 1;
      used = 0;
    }
    used += w;
  }
  return 44 + 20 * lines;
}

/** The ECharts option of a chart: the same object drawn in Node and in the page. */
export function chartOption(spec: ChartSpec): ChartOption {
  const base = {
    animation: false,
    color: PALETTE,
    aria: { enabled: true, label: { description: spec.title } },
    title: {
      text: spec.title,
      left: 8,
      top: 4,
      textStyle: { fontSize: 13, fontWeight: 600 },
    },
    legend: { top: 26, left: 8, right: 8, itemGap: 8, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis', confine: true },
  };
  if (spec.kind === 'bar') {
    const long = spec.categories.some((c) => c.length > 14);
    return {
      ...base,
      grid: {
        left: 70,
        right: 16,
        top: legendTop(spec.series.map((x) => x.name)),
        bottom: long ? 86 : 52,
      },
      xAxis: {
        type: 'category',
        data: spec.categories,
        name: spec.xLabel ?? '',
        nameLocation: 'middle',
        nameGap: long ? 70 : 30,
        axisLabel: { interval: 0, rotate: long ? 20 : 0, fontSize: 11 },
      },
      yAxis: { type: 'value', name: spec.yLabel, nameLocation: 'middle', nameGap: 52 },
      series: spec.series.map((s) => ({
        type: 'bar',
        name: s.name,
        ...(s.color ? { itemStyle: { color: s.color } } : {}),
        data: s.values.map((v, i) => {
          const e = s.errors?.[i];
          const text =
            e !== undefined && Number.isFinite(e) && e > 0
              ? `${fmt(v)} ± ${+e.toPrecision(2)}`
              : '';
          return {
            value: Number.isFinite(v) ? v : null,
            ...(text
              ? { label: { show: true, position: 'top', formatter: text, fontSize: 10 } }
              : {}),
          };
        }),
      })),
    };
  }
  const single = spec.series.every((s) => s.points.length <= 1);
  const means = spec.series.filter((s) => !s.run).map((s) => s.name);
  return {
    ...base,
    // The legend lists the variants (their means); single runs are toggled from the runs table.
    legend: { ...base.legend, data: means },
    grid: { left: 70, right: 20, top: legendTop(means), bottom: 78 },
    xAxis: {
      type: 'value',
      name: spec.xLabel ?? 'step',
      nameLocation: 'middle',
      nameGap: 26,
      minInterval: 1,
      axisPointer: { label: { precision: 0 } },
      ...(single ? {} : { min: 'dataMin', max: 'dataMax' }),
    },
    yAxis: {
      type: spec.logY ? 'log' : 'value',
      name: spec.yLabel,
      nameLocation: 'middle',
      nameGap: 52,
      scale: true,
    },
    dataZoom: [
      { type: 'inside', filterMode: 'none' },
      { type: 'slider', height: 14, bottom: 6, filterMode: 'none' },
    ],
    series: spec.series.map((s) => ({
      type: 'line',
      name: s.name,
      data: s.points,
      encode: { x: 0, y: 1 },
      showSymbol: s.points.length === 1,
      symbolSize: 7,
      lineStyle: { width: s.run ? 1 : 2.2, opacity: s.run ? 0.45 : 1 },
      ...(s.color ? { itemStyle: { color: s.color } } : {}),
      emphasis: { focus: 'series' },
      z: s.run ? 1 : 3,
      ...(s.runKey ? { runKey: s.runKey } : {}),
    })),
  };
}

/** A chart as a static SVG string, rendered in Node or a page by ECharts' server-side renderer. */
export function chartSvg(option: ChartOption, size = CHART_SIZE): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...size });
  try {
    chart.setOption({ ...option, dataZoom: [] });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

// The page's part: reads the options, draws each chart with ECharts, and applies the controls.
// Plain browser JavaScript, kept as text (it runs in the report page, not here).
const RUNTIME = `(function(){
var el=document.getElementById('msmoe-chart-data');if(!el||!window.echarts)return;
var state=window.__msmoeChartState||(window.__msmoeChartState={smooth:0,x:'step',y:'auto',zoom:{},hidden:{},legend:{}});
function num(x){if(typeof x!=='number'||!isFinite(x))return x==null?'–':String(x);var a=Math.abs(x);return a!==0&&(a>=1e5||a<1e-3)?x.toExponential(3):String(+x.toPrecision(5));}
function ema(d,a){if(!a)return d;var m=null;return d.map(function(p){m=m===null?p[1]:a*m+(1-a)*p[1];return [p[0],m,p[2]];});}
function view(o,i){var v=JSON.parse(JSON.stringify(o));if(v.tooltip)v.tooltip.valueFormatter=num;if(state.legend[i]&&v.legend)v.legend.selected=state.legend[i];if(!v.xAxis||v.xAxis.type!=='value')return v;
v.series=v.series.filter(function(s){return !s.runKey||!state.hidden[s.runKey];});
var z=state.zoom[i];if(z&&v.dataZoom)v.dataZoom.forEach(function(d){d.start=z.start;d.end=z.end;});
v.series.forEach(function(s){s.data=ema(s.data,state.smooth);if(state.x==='time'){s.encode={x:2,y:1};}});
if(state.x==='time'){v.xAxis.name='wall time (s)';v.xAxis.minInterval=0;v.xAxis.axisPointer={label:{precision:1}};v.series=v.series.filter(function(s){return s.data.every(function(p){return p[2]!=null;});});}
if(state.y!=='auto')v.yAxis.type=state.y;return v;}
function draw(){var data=JSON.parse(document.getElementById('msmoe-chart-data').textContent);
document.querySelectorAll('[data-chart]').forEach(function(box){var i=+box.getAttribute('data-chart');var c=echarts.getInstanceByDom(box);
if(!c){box.innerHTML='';c=echarts.init(box,null,{renderer:'svg'});c.on('legendselectchanged',function(e){state.legend[i]=e.selected;});c.on('datazoom',function(){var d=c.getOption().dataZoom;if(d&&d[0])state.zoom[i]={start:d[0].start,end:d[0].end};});}
c.setOption(view(data[i],i),true);});
var s=document.getElementById('msmoe-smooth');if(s){s.value=String(state.smooth);document.getElementById('msmoe-smooth-value').textContent=Number(state.smooth).toFixed(2);}
document.querySelectorAll('[name=msmoe-x]').forEach(function(r){r.checked=r.value===state.x;});
document.querySelectorAll('[name=msmoe-y]').forEach(function(r){r.checked=r.value===state.y;});
document.querySelectorAll('input[data-run]').forEach(function(c){c.checked=!state.hidden[c.getAttribute('data-run')];});}
if(!window.__msmoeChartsBound){window.__msmoeChartsBound=true;
document.addEventListener('input',function(e){var t=e.target;if(t.id==='msmoe-smooth'){state.smooth=+t.value;draw();}
else if(t.name==='msmoe-x'){state.x=t.value;draw();}else if(t.name==='msmoe-y'){state.y=t.value;draw();}
else if(t.hasAttribute&&t.hasAttribute('data-run')){state.hidden[t.getAttribute('data-run')]=!t.checked;draw();}});}
window.msmoeCharts=draw;window.msmoeChartsDispose=function(){document.querySelectorAll('[data-chart]').forEach(function(b){var c=echarts.getInstanceByDom(b);if(c)c.dispose();});};draw();})();`;

/**
 * The charts of a page: controls, one box per chart (pre-drawn as static SVG, so the page reads
 * without scripts), the options as JSON, and, when `library` (ECharts' browser build, inlined so
 * the page stays one offline file) is given, the script that makes them interactive.
 */
export function chartsHtml(specs: ChartSpec[], library?: string): string {
  const options = specs.map(chartOption);
  const hasLines = specs.some((s) => s.kind === 'line');
  const controls =
    library && hasLines
      ? `<div class="chart-controls">
<label>smoothing <input id="msmoe-smooth" type="range" min="0" max="0.99" step="0.01" value="0"> <span id="msmoe-smooth-value">0.00</span></label>
<span>x-axis <label><input type="radio" name="msmoe-x" value="step" checked> step</label> <label><input type="radio" name="msmoe-x" value="time"> wall time</label></span>
<span>y-axis <label><input type="radio" name="msmoe-y" value="auto" checked> as drawn</label> <label><input type="radio" name="msmoe-y" value="value"> linear</label> <label><input type="radio" name="msmoe-y" value="log"> log</label></span>
<span class="meta">drag or scroll in a chart to zoom; click a legend entry to hide a variant, untick a run in the runs table to hide it</span></div>`
      : '';
  const boxes = options
    .map(
      (o, i) =>
        `<div class="chart" data-chart="${i}" role="img" aria-label="${esc(specs[i]?.title)}" style="width:${CHART_SIZE.width}px;height:${CHART_SIZE.height}px">${chartSvg(o)}</div>`,
    )
    .join('\n');
  // `<` is escaped so no string in the data can close the script element.
  const data = JSON.stringify(options).replace(/</g, '\\u003c');
  const script = library
    ? `<script>${library.replace(/<\/script/gi, '<\\/script')}</script><script>${RUNTIME}</script>`
    : '';
  return `${controls}<div class="charts">${boxes}</div><script type="application/json" id="msmoe-chart-data">${data}</script>${script}`;
}
