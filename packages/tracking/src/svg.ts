// Self-contained SVG charts (no scripts, no network): line charts with bands, grouped bars.
const math = Math;

/** A colour-blind-safe palette (Okabe–Ito). */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#F0E442',
  '#000000',
];

/** Escapes text for HTML/SVG. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Compact number formatting for axes and tables. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  // A range too small for the magnitude of its ends (or not finite) gets its ends only.
  if (
    !(hi > lo) ||
    !Number.isFinite(hi - lo) ||
    hi - lo <= 1e-12 * math.max(math.abs(lo), math.abs(hi))
  )
    return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** math.floor(math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const start = math.ceil(lo / step) * step;
  const count = math.min(50, math.floor((hi - start) / step + 1e-9) + 1);
  return Array.from({ length: math.max(0, count) }, (_, i) => start + i * step);
}

/** One line of a line chart, with an optional band (e.g. min–max over seeds). */
export interface LineSeries {
  name: string;
  points: [number, number][];
  band?: [number, number, number][];
  color?: string;
}

const W = 560;
const H = 300;
const M = { l: 60, r: 16, t: 34, b: 42 };

function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  body: string,
  legend: string,
): string {
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<text x="${W / 2}" y="18" text-anchor="middle" font-size="${title.length > 56 ? 11 : 14}" font-weight="600">${esc(title)}</text>
${body}
<text x="${(W + M.l - M.r) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>
<text transform="translate(14 ${(H + M.t - M.b) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>
${legend}
</svg>`;
}

function legendOf(names: string[], colors: string[]): string {
  // Entries laid out left to right by their text width (≈ 6 px a character), wrapping at the plot's edge.
  let x = 0;
  let row = 0;
  return names
    .map((n, i) => {
      const w = 22 + 6 * n.length;
      if (x > 0 && M.l + 8 + x + w > W - M.r) {
        x = 0;
        row++;
      }
      const out = `<g transform="translate(${M.l + 8 + x} ${M.t + 4 + row * 14})"><rect width="10" height="10" fill="${colors[i]}"/><text x="14" y="9" font-size="10">${esc(n)}</text></g>`;
      x += w;
      return out;
    })
    .join('');
}

/** A line chart; `logY` plots log10 of y. Empty series give a chart that says "no data". */
export function lineChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  logY?: boolean;
}): string {
  const tf = (y: number) => (opts.logY ? math.log10(math.max(y, 1e-12)) : y);
  const all = opts.series.flatMap((s) => [
    ...s.points,
    ...(s.band ?? []).flatMap(([x, lo, hi]) => [
      [x, lo],
      [x, hi],
    ]),
  ]) as [number, number][];
  const finite = all.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(tf(y)));
  if (!finite.length)
    return frame(
      opts.title,
      opts.xLabel,
      opts.yLabel,
      `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12" fill="#777">no data yet</text>`,
      '',
    );
  let [x0, x1] = [math.min(...finite.map((p) => p[0])), math.max(...finite.map((p) => p[0]))];
  let [y0, y1] = [
    math.min(...finite.map((p) => tf(p[1]))),
    math.max(...finite.map((p) => tf(p[1]))),
  ];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => M.l + ((x - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (y: number) => H - M.b - ((tf(y) - y0) / (y1 - y0)) * (H - M.t - M.b);
  const colors = opts.series.map((s, i) => s.color ?? (PALETTE[i % PALETTE.length] as string));
  let body = `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#ccc"/>`;
  for (const t of ticks(x0, x1))
    body += `<line x1="${sx(t)}" x2="${sx(t)}" y1="${H - M.b}" y2="${H - M.b + 4}" stroke="#333"/><text x="${sx(t)}" y="${H - M.b + 15}" text-anchor="middle" font-size="10">${fmt(t)}</text>`;
  for (const t of ticks(y0, y1)) {
    const y = H - M.b - ((t - y0) / (y1 - y0)) * (H - M.t - M.b);
    body += `<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${M.l - 4}" y="${y + 3}" text-anchor="end" font-size="10">${fmt(opts.logY ? 10 ** t : t)}</text>`;
  }
  opts.series.forEach((s, i) => {
    const c = colors[i];
    const ok = (p: number[]) => p.every((v) => Number.isFinite(v));
    const band = (s.band ?? []).filter(ok);
    if (band.length > 1) {
      const top = band.map(([x, , hi]) => `${sx(x).toFixed(1)},${sy(hi).toFixed(1)}`);
      const bottom = band.map(([x, lo]) => `${sx(x).toFixed(1)},${sy(lo).toFixed(1)}`).reverse();
      body += `<polygon class="band" points="${[...top, ...bottom].join(' ')}" fill="${c}" fill-opacity="0.18" stroke="none"/>`;
    }
    const pts = s.points.filter(ok);
    if (pts.length === 1) {
      const [x, y] = pts[0] as [number, number];
      body += `<circle cx="${sx(x)}" cy="${sy(y)}" r="3" fill="${c}"/>`;
    } else if (pts.length > 1) {
      body += `<path class="line" d="${pts.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('')}" fill="none" stroke="${c}" stroke-width="1.8"><title>${esc(s.name)}</title></path>`;
    }
  });
  return frame(
    opts.title,
    opts.xLabel,
    opts.yLabel,
    body,
    legendOf(
      opts.series.map((s) => s.name),
      colors,
    ),
  );
}

/** Grouped bars: one group per category, one bar per series, optional ± error whiskers. */
export function barChart(opts: {
  title: string;
  yLabel: string;
  categories: string[];
  series: { name: string; values: number[]; errors?: number[]; color?: string }[];
  xLabel?: string;
}): string {
  const vals = opts.series.flatMap((s) => s.values.map((v, i) => v + (s.errors?.[i] ?? 0)));
  const finite = vals.filter(Number.isFinite);
  if (!finite.length || !opts.categories.length)
    return frame(
      opts.title,
      opts.xLabel ?? '',
      opts.yLabel,
      `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12" fill="#777">no data yet</text>`,
      '',
    );
  const y1 = math.max(...finite, 0) * 1.08 || 1;
  const y0 = math.min(0, ...finite);
  const sy = (y: number) => H - M.b - ((y - y0) / (y1 - y0)) * (H - M.t - M.b);
  const groupW = (W - M.l - M.r) / opts.categories.length;
  const barW = (groupW * 0.8) / opts.series.length;
  const colors = opts.series.map((s, i) => s.color ?? (PALETTE[i % PALETTE.length] as string));
  let body = `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#ccc"/>`;
  for (const t of ticks(y0, y1))
    body += `<line x1="${M.l}" x2="${W - M.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${M.l - 4}" y="${sy(t) + 3}" text-anchor="end" font-size="10">${fmt(t)}</text>`;
  opts.categories.forEach((cat, g) => {
    const gx = M.l + g * groupW + groupW * 0.1;
    body += `<text x="${gx + groupW * 0.4}" y="${H - M.b + 14}" text-anchor="middle" font-size="10">${esc(cat)}</text>`;
    opts.series.forEach((s, i) => {
      const v = s.values[g] as number;
      if (!Number.isFinite(v)) return;
      const x = gx + i * barW;
      body += `<rect class="bar" x="${x.toFixed(1)}" y="${math.min(sy(v), sy(0)).toFixed(1)}" width="${(barW * 0.92).toFixed(1)}" height="${math.abs(sy(0) - sy(v)).toFixed(1)}" fill="${colors[i]}"><title>${esc(`${s.name} ${cat}: ${fmt(v)}`)}</title></rect>`;
      const e = s.errors?.[g];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        const cx = x + barW * 0.46;
        body += `<line x1="${cx}" x2="${cx}" y1="${sy(v - e)}" y2="${sy(v + e)}" stroke="#222"/>`;
      }
    });
  });
  return frame(
    opts.title,
    opts.xLabel ?? '',
    opts.yLabel,
    body,
    legendOf(
      opts.series.map((s) => s.name),
      colors,
    ),
  );
}
