// A standalone study.html: best trial, optimisation history, parallel coordinates and parameter
// importance as inline SVG (no script, no network).
import { type Distribution, toExternal } from './distributions.js';
import { pedAnovaImportance } from './importance.js';
import type { Direction, FrozenTrial } from './trial.js';

const math = Math;
const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number) =>
  math.abs(v) >= 1e4 || (v !== 0 && math.abs(v) < 1e-3)
    ? v.toExponential(3)
    : String(+v.toPrecision(5));

interface Plot {
  w: number;
  h: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function plot(x0: number, x1: number, y0: number, y1: number, w = 640, h = 320, pad = 48): Plot {
  const dx = x1 - x0 || 1;
  const dy = y1 - y0 || 1;
  return {
    w,
    h,
    x: (v) => pad + ((v - x0) / dx) * (w - 2 * pad),
    y: (v) => h - pad - ((v - y0) / dy) * (h - 2 * pad),
  };
}

/** Objective values (dots) and best so far (line) over trial numbers. */
function historySvg(trials: FrozenTrial[], direction: Direction): string {
  const done = trials.filter(
    (t) => t.state === 'COMPLETE' && t.value !== null && Number.isFinite(t.value),
  );
  if (!done.length) return '<p>No completed trial yet.</p>';
  const vals = done.map((t) => t.value as number);
  const p = plot(0, math.max(...done.map((t) => t.number)), math.min(...vals), math.max(...vals));
  let best = direction === 'minimize' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  const path: string[] = [];
  for (const t of done) {
    best =
      direction === 'minimize'
        ? math.min(best, t.value as number)
        : math.max(best, t.value as number);
    path.push(`${path.length ? 'L' : 'M'}${p.x(t.number).toFixed(1)},${p.y(best).toFixed(1)}`);
  }
  const dots = done.map(
    (t) =>
      `<circle class="trial" cx="${p.x(t.number).toFixed(1)}" cy="${p.y(t.value as number).toFixed(1)}" r="3" fill="${COLORS[0]}" fill-opacity="0.6"><title>trial ${t.number}: ${num(t.value as number)}</title></circle>`,
  );
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${p.w} ${p.h}" width="${p.w}" height="${p.h}" aria-label="optimisation history">
<text x="${p.w / 2}" y="18" text-anchor="middle" font-weight="600">Optimisation history</text>
<text x="48" y="${p.h - 12}" font-size="11">trial 0</text><text x="${p.w - 48}" y="${p.h - 12}" font-size="11" text-anchor="end">trial ${math.max(...done.map((t) => t.number))}</text>
<text x="4" y="${p.y(math.max(...vals)) + 4}" font-size="11">${num(math.max(...vals))}</text><text x="4" y="${p.y(math.min(...vals)) + 4}" font-size="11">${num(math.min(...vals))}</text>
${dots.join('')}<path class="line" d="${path.join('')}" fill="none" stroke="${COLORS[1]}" stroke-width="2"><title>best so far</title></path></svg>`;
}

/** One polyline per completed trial across normalised parameter axes, coloured by value. */
function parallelSvg(trials: FrozenTrial[], direction: Direction): string {
  const done = trials.filter(
    (t) => t.state === 'COMPLETE' && t.value !== null && Number.isFinite(t.value),
  );
  const names = [...new Set(done.flatMap((t) => Object.keys(t.params)))].sort();
  if (!done.length || !names.length) return '';
  const axes = [...names, 'objective'];
  const w = math.max(480, 120 * axes.length);
  const h = 320;
  const ax = (i: number) => 48 + (i * (w - 96)) / math.max(1, axes.length - 1);
  const norm = (k: string, t: FrozenTrial): number | null => {
    if (k === 'objective') return t.value as number;
    if (!(k in t.params)) return null;
    const d = t.distributions[k] as Distribution;
    const v = t.params[k] as number;
    return d.kind !== 'categorical' && d.log ? math.log(v) : v;
  };
  const ranges = axes.map((k) => {
    const vs = done.map((t) => norm(k, t)).filter((v): v is number => v !== null);
    return [math.min(...vs), math.max(...vs)] as const;
  });
  const vals = done.map((t) => t.value as number);
  const [lo, hi] = [math.min(...vals), math.max(...vals)];
  const lines = done.map((t) => {
    const good =
      hi > lo
        ? direction === 'minimize'
          ? (hi - (t.value as number)) / (hi - lo)
          : ((t.value as number) - lo) / (hi - lo)
        : 1;
    const pts = axes
      .map((k, i) => {
        const v = norm(k, t);
        if (v === null) return null;
        const [a, b] = ranges[i] as readonly [number, number];
        return `${ax(i).toFixed(1)},${(h - 40 - (b > a ? (v - a) / (b - a) : 0.5) * (h - 80)).toFixed(1)}`;
      })
      .filter((s) => s !== null);
    return `<polyline class="line" points="${pts.join(' ')}" fill="none" stroke="hsl(${math.round(220 * (1 - good))},70%,45%)" stroke-opacity="${0.25 + 0.6 * good}"><title>trial ${t.number}: ${num(t.value as number)}</title></polyline>`;
  });
  const labels = axes.map((k, i) => {
    const [a, b] = ranges[i] as readonly [number, number];
    const d = done.find((t) => k in t.distributions)?.distributions[k];
    const fmt = (v: number) =>
      d && d.kind === 'categorical'
        ? esc(toExternal(d, math.round(v)))
        : num(d?.log ? math.exp(v) : v);
    return `<line x1="${ax(i)}" x2="${ax(i)}" y1="40" y2="${h - 40}" stroke="#888"/><text x="${ax(i)}" y="28" text-anchor="middle" font-size="12">${esc(k)}</text><text x="${ax(i) + 3}" y="${h - 44}" font-size="10">${fmt(a)}</text><text x="${ax(i) + 3}" y="50" font-size="10">${fmt(b)}</text>`;
  });
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" aria-label="parallel coordinates">${lines.join('')}${labels.join('')}</svg>`;
}

function importanceSvg(importance: Record<string, number>): string {
  const entries = Object.entries(importance);
  if (!entries.length) return '';
  const w = 640;
  const h = 40 + 28 * entries.length;
  const bars = entries.map(
    ([k, v], i) =>
      `<text x="150" y="${38 + i * 28}" text-anchor="end" font-size="12">${esc(k)}</text><rect class="bar" x="158" y="${26 + i * 28}" width="${(v * (w - 220)).toFixed(1)}" height="18" fill="${COLORS[2]}"><title>${esc(k)}: ${v.toFixed(3)}</title></rect><text x="${164 + v * (w - 220)}" y="${39 + i * 28}" font-size="11">${v.toFixed(3)}</text>`,
  );
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" aria-label="parameter importance"><text x="${w / 2}" y="16" text-anchor="middle" font-weight="600">Parameter importance (PED-ANOVA)</text>${bars.join('')}</svg>`;
}

/** The study page: best trial, state counts, history, parallel coordinates, importance, trial table. */
export function renderStudyHtml(name: string, direction: Direction, trials: FrozenTrial[]): string {
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
      .map(([k, v]) => `${esc(k)}=${esc(toExternal(t.distributions[k] as Distribution, v))}`)
      .join(', ');
  const rows = trials
    .map(
      (t) =>
        `<tr><td>${t.number}</td><td>${t.state}</td><td>${t.value === null ? '' : num(t.value)}</td><td>${ext(t)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>study ${esc(name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px}.chart{border:1px solid #eee;margin:8px 0;max-width:100%;height:auto}</style></head><body>
<h1>Study ${esc(name)} (${direction})</h1>
<p>${trials.length} trials: ${counts.join(', ')}.</p>
<p>Best: ${best ? `trial ${best.number}, value <b>${num(best.value as number)}</b>, ${ext(best)}` : 'none yet'}</p>
${historySvg(trials, direction)}
${parallelSvg(trials, direction)}
${importanceSvg(pedAnovaImportance(trials, direction))}
<h2>Trials</h2><table><thead><tr><th>#</th><th>state</th><th>value</th><th>params</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}
