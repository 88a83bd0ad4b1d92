import { type ChartSpec, chartsHtml, type LinePoint, type LineSeries } from './charts.js';
import { esc, fmt, PALETTE } from './html.js';
import type { MetricRecord, RunData } from './run.js';
import { mean, std, summarize } from './stats.js';

/** The report's colour-blind-safe palette (Okabe–Ito), for pages that draw next to it. */
export { PALETTE };

/** Runs of one variant (same `config.variant`, different seeds). */
export interface VariantRuns {
  variant: string;
  runs: RunData[];
}

/** Config fields that differ between the seeds of one experiment (not what the experiment is). */
const PER_RUN = new Set([
  'seed',
  'name',
  'provenance',
  'backend',
  'createdAt',
  'dir',
  'out',
  'runDir',
  'dataParallel',
]);

/**
 * Flattens a nested config to dotted keys (leaves as JSON), leaving out the top-level fields in
 * `skip` (e.g. {@link PER_RUN}).
 */
function flatten(
  o: unknown,
  skip: ReadonlySet<string> = new Set(),
  prefix = '',
  out: Record<string, string> = {},
): Record<string, string> {
  if (o && typeof o === 'object' && !Array.isArray(o))
    for (const [k, v] of Object.entries(o)) {
      if (!prefix && skip.has(k)) continue;
      flatten(v, skip, prefix ? `${prefix}.${k}` : k, out);
    }
  else out[prefix] = JSON.stringify(o);
  return out;
}

/**
 * Groups runs into experiments: the same variant *and* the same resolved config up to the seed
 * (a 30-step lr 1e-3 run and an 80-step study run of one variant are two groups, never pooled).
 * Groups that share a variant name are labelled with the fields that set them apart
 * (`SMoE [train.steps=30, train.lr=0.001]`). First-seen order.
 */
export function groupByVariant(runs: RunData[]): VariantRuns[] {
  const groups = new Map<
    string,
    { variant: string; flat: Record<string, string>; runs: RunData[] }
  >();
  for (const r of runs) {
    const variant = String(r.config.variant ?? r.config.name ?? r.dir.split(/[\\/]/).pop());
    const flat = flatten(r.config, PER_RUN);
    const key = `${variant}\u0000${JSON.stringify(Object.entries(flat).sort())}`;
    const g = groups.get(key);
    if (g) g.runs.push(r);
    else groups.set(key, { variant, flat, runs: [r] });
  }
  const list = [...groups.values()];
  return list.map((g) => {
    const same = list.filter((o) => o.variant === g.variant);
    if (same.length === 1) return { variant: g.variant, runs: g.runs };
    const keys = [...new Set(same.flatMap((o) => Object.keys(o.flat)))].filter(
      (k) => new Set(same.map((o) => o.flat[k])).size > 1,
    );
    const what = keys
      .slice(0, 3)
      .map((k) => `${k}=${g.flat[k] === undefined ? '–' : JSON.parse(g.flat[k] as string)}`)
      .join(', ');
    return { variant: `${g.variant} [${what}${keys.length > 3 ? ', …' : ''}]`, runs: g.runs };
  });
}

type Rec<K extends MetricRecord['kind']> = Extract<MetricRecord, { kind: K }>;
const recordsOf = <K extends MetricRecord['kind']>(r: RunData, kind: K) =>
  r.metrics.filter((m) => m.kind === kind) as Rec<K>[];

/** Keeps at most `n` points, evenly spaced, always the last. */
function thin<T>(xs: T[], n = 300): T[] {
  const stride = Math.max(1, Math.ceil(xs.length / n));
  return xs.filter((_, i) => i % stride === 0 || i === xs.length - 1);
}

/** A run's short name in legends: its seed, or its folder. */
const runLabel = (r: RunData) =>
  r.config.seed !== undefined ? `seed ${r.config.seed}` : (r.dir.split(/[\\/]/).pop() ?? r.dir);

/**
 * A variant's lines of a per-step value: the mean over its runs (thick) and, with several runs,
 * each run (thin, same colour, toggled on its own in the legend); points carry the seconds since
 * the run started, for the wall-time axis. At most 300 points a line.
 */
function variantLines(
  g: VariantRuns,
  color: string,
  pick: (r: RunData) => [number, number, number][],
): LineSeries[] {
  const perRun = g.runs.map((r) => {
    const t0 = r.metrics[0]?.time ?? 0;
    return pick(r)
      .filter(([, y]) => Number.isFinite(y))
      .map(([s, y, t]) => [s, y, Math.max(0, (t - t0) / 1000)] as [number, number, number]);
  });
  const bySteps = new Map<number, { ys: number[]; ts: number[] }>();
  for (const pts of perRun)
    for (const [s, y, t] of pts) {
      const e = bySteps.get(s) ?? { ys: [], ts: [] };
      e.ys.push(y);
      e.ts.push(t);
      bySteps.set(s, e);
    }
  const steps = thin([...bySteps.keys()].sort((a, b) => a - b));
  const meanLine: LineSeries = {
    name: g.variant,
    color,
    points: steps.map((s) => {
      const e = bySteps.get(s) as { ys: number[]; ts: number[] };
      return [s, mean(e.ys), mean(e.ts)] as LinePoint;
    }),
  };
  if (g.runs.length < 2) return [meanLine];
  return [
    meanLine,
    ...perRun.map((pts, i) => ({
      name: `${g.variant} · ${runLabel(g.runs[i] as RunData)}`,
      color,
      run: true,
      runKey: (g.runs[i] as RunData).dir,
      points: thin(pts),
    })),
  ];
}

/** Eval metric pairs present as `clean` and `attacked` in eval.json, per variant, over seeds. */
function cleanVsAttacked(groups: VariantRuns[]): ChartSpec[] {
  const names = new Set<string>();
  for (const g of groups)
    for (const r of g.runs) {
      const c = r.eval?.clean as Record<string, number> | undefined;
      const a = r.eval?.attacked as Record<string, number> | undefined;
      if (c && a) for (const k of Object.keys(c)) if (k in a) names.add(k);
    }
  return [...names].map((metric) => {
    const stat = (side: 'clean' | 'attacked') =>
      groups.map((g) =>
        g.runs
          .map((r) => (r.eval?.[side] as Record<string, number> | undefined)?.[metric])
          .filter((v): v is number => typeof v === 'number'),
      );
    const clean = stat('clean');
    const attacked = stat('attacked');
    return {
      kind: 'bar' as const,
      title: `${metric}: clean vs attacked (mean ± std over seeds)`,
      yLabel: metric,
      categories: groups.map((g) => g.variant),
      series: [
        { name: 'clean', values: clean.map(mean), errors: clean.map(std), color: PALETTE[0] },
        {
          name: 'attacked',
          values: attacked.map(mean),
          errors: attacked.map(std),
          color: PALETTE[1],
        },
      ],
    };
  });
}

/** Stability metrics (eval.json `stability`) per variant: one bar chart each, mean ± std over seeds. */
function stabilityCharts(groups: VariantRuns[]): ChartSpec[] {
  const names: [string, string][] = [
    ['lossOscillation', 'loss oscillation (mean |Δ²L|, 2nd half)'],
    ['lossRoughness', 'loss roughness (std around a 21-step mean, 2nd half)'],
    ['spikes', 'loss spikes (> median + 3·MAD)'],
    ['gradNormVariance', 'gradient-norm variance (2nd half)'],
  ];
  const has = groups.some((g) => g.runs.some((r) => r.eval?.stability));
  if (!has) return [];
  return names.map(([key, label]) => {
    const values = groups.map((g) =>
      g.runs
        .map((r) => (r.eval?.stability as Record<string, number> | undefined)?.[key])
        .filter((v): v is number => typeof v === 'number' && Number.isFinite(v)),
    );
    return {
      kind: 'bar' as const,
      title: `Stability: ${label}, lower is steadier (mean ± std over seeds)`,
      yLabel: key,
      categories: groups.map((g) => g.variant),
      series: [{ name: key, values: values.map(mean), errors: values.map(std), color: PALETTE[2] }],
    };
  });
}

/** The per-variant expert-load charts: share of tokens per expert (sorted) per MoE layer, last stats. */
function expertLoadCharts(groups: VariantRuns[]): ChartSpec[] {
  return groups.flatMap((g) => {
    const last = g.runs.map((r) => recordsOf(r, 'stats').at(-1)).filter((s) => s !== undefined);
    const loads = last
      .map((s) => s.expertLoad as number[][] | undefined)
      .filter((l) => l?.length) as number[][][];
    if (!loads.length) return [];
    const layers = (loads[0] as number[][]).length;
    const E = ((loads[0] as number[][])[0] as number[]).length;
    const series = Array.from({ length: layers }, (_, l) => {
      // Sort each seed's shares descending (expert ids are arbitrary), then average over seeds.
      const sorted = loads.map((ld) => [...((ld[l] as number[]) ?? [])].sort((a, b) => b - a));
      return {
        name: `layer ${l + 1}`,
        values: Array.from({ length: E }, (_, e) => mean(sorted.map((s) => s[e] as number))),
      };
    });
    return [
      {
        kind: 'bar' as const,
        title: `${g.variant}: share of tokens per expert (sorted), per MoE layer`,
        yLabel: 'share of routed tokens',
        xLabel: 'experts, most loaded first',
        categories: Array.from({ length: E }, (_, e) => `#${e + 1}`),
        series,
      },
    ];
  });
}

/** Options of {@link renderReport}. */
export interface ReportOptions {
  title?: string;
  /** Re-fetch the page every `refreshSeconds` (the dashboard's live view). */
  refreshSeconds?: number;
  /** Extra HTML (e.g. the A/B table) placed after the charts. */
  extraHtml?: string;
  /** HTML placed first, under the title (e.g. a study's verdicts). */
  topHtml?: string;
  /**
   * ECharts' browser build (`echarts/dist/echarts.min.js`, as text), inlined to make the charts
   * interactive; without it they are static SVG. The Node entry of `@msmoe/tracking` fills it in.
   */
  chartLibrary?: string;
}

/**
 * One self-contained HTML page (inline CSS and SVG; opens offline) for a set of runs: a summary
 * table per variant, training loss and validation curves with seed bands, clean vs attacked bars,
 * expert load per layer, routing change, gradient-norm trace, learnable coefficients over training
 * and the hyperparameters that differ between variants.
 */
export function renderReport(runs: RunData[], options: ReportOptions = {}): string {
  const groups = groupByVariant(runs);
  const title = options.title ?? 'msmoe report';
  const line = (
    t: string,
    y: string,
    pick: (r: RunData) => [number, number, number][],
    logY = false,
  ): ChartSpec => ({
    kind: 'line',
    title: t,
    xLabel: 'step',
    yLabel: y,
    logY,
    series: groups.flatMap((g, i) => variantLines(g, PALETTE[i % PALETTE.length] as string, pick)),
  });
  const charts: ChartSpec[] = [];
  charts.push(
    line('Training loss (thick: mean over seeds, thin: each run)', 'loss', (r) =>
      recordsOf(r, 'step').map((m) => [m.step, m.loss as number, m.time]),
    ),
  );
  const evalNames = new Set<string>();
  for (const r of runs)
    for (const e of recordsOf(r, 'eval')) for (const k of Object.keys(e.metrics)) evalNames.add(k);
  for (const k of [...evalNames].sort())
    charts.push(
      line(
        `Evaluation: ${k}`,
        k,
        (r) => recordsOf(r, 'eval').map((e) => [e.step, e.metrics[k] as number, e.time]),
        /perplexity/i.test(k),
      ),
    );
  charts.push(...cleanVsAttacked(groups));
  charts.push(...stabilityCharts(groups));
  charts.push(...expertLoadCharts(groups));
  charts.push(
    line(
      'Gradient norm (before clipping)',
      '‖g‖',
      (r) => recordsOf(r, 'step').map((m) => [m.step, m.gradNorm as number, m.time]),
      true,
    ),
  );
  // Update-rule coefficients: a chart for each one that moves (learnable μ, γ…); fixed ones are listed.
  const coefValues = new Map<string, number[]>();
  for (const r of runs)
    for (const st of recordsOf(r, 'stats'))
      for (const [k, v] of Object.entries((st.coefficients as Record<string, number>) ?? {}))
        if (typeof v === 'number') coefValues.set(k, [...(coefValues.get(k) ?? []), v]);
  const moving = [...coefValues]
    .filter(([, vs]) => Math.max(...vs) - Math.min(...vs) > 1e-9)
    .map(([k]) => k);
  const fixedCoefs = groups
    .map((g) => {
      const last = recordsOf(g.runs[0] as RunData, 'stats').at(-1)?.coefficients as
        | Record<string, number>
        | undefined;
      const fixed = Object.entries(last ?? {}).filter(([k]) => !moving.includes(k));
      return fixed.length
        ? `${esc(g.variant)}: ${fixed.map(([k, v]) => `${esc(k)} = ${fmt(v)}`).join(', ')}`
        : '';
    })
    .filter(Boolean);
  for (const k of moving.sort())
    charts.push(
      line(`Update-rule coefficient ${k} over training`, k, (r) =>
        recordsOf(r, 'stats')
          .filter((s) => typeof (s.coefficients as Record<string, number>)?.[k] === 'number')
          .map((s) => [s.step, (s.coefficients as Record<string, number>)[k] as number, s.time]),
      ),
    );

  // Summary table.
  const evalKeys = new Set<string>();
  for (const r of runs)
    for (const side of ['clean', 'attacked'])
      for (const k of Object.keys((r.eval?.[side] as object) ?? {})) evalKeys.add(`${side}.${k}`);
  const cell = (xs: number[]) => {
    if (!xs.length) return '–';
    const s = summarize(xs);
    return xs.length > 1 ? `${fmt(s.mean)} ± ${fmt(s.std)}` : fmt(s.mean);
  };
  const headers = ['variant', 'runs', 'steps', 'final loss', ...evalKeys];
  const rows = groups.map((g) => {
    const finals = g.runs
      .map((r) => recordsOf(r, 'step').at(-1)?.loss as number)
      .filter(Number.isFinite);
    const steps = g.runs.map((r) => recordsOf(r, 'step').at(-1)?.step ?? 0);
    return [
      esc(g.variant),
      String(g.runs.length),
      String(Math.max(0, ...steps)),
      cell(finals),
      ...[...evalKeys].map((k) => {
        const [side, name] = [k.slice(0, k.indexOf('.')), k.slice(k.indexOf('.') + 1)];
        return cell(
          g.runs
            .map((r) => (r.eval?.[side] as Record<string, number> | undefined)?.[name])
            .filter((v): v is number => typeof v === 'number'),
        );
      }),
    ];
  });
  const table = `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

  // Hyperparameters that differ between variants.
  const flat = groups.map((g) => flatten(g.runs[0]?.config ?? {}));
  const skip = /^(seed|name|variant|dir|out|createdAt|runDir)$|\.seed$|^provenance\./;
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].filter(
    (k) => !skip.test(k) && new Set(flat.map((f) => f[k])).size > 1,
  );
  const diff = keys.length
    ? `<table><thead><tr><th>hyperparameter</th>${groups.map((g) => `<th>${esc(g.variant)}</th>`).join('')}</tr></thead><tbody>${keys
        .map(
          (k) =>
            `<tr><td>${esc(k)}</td>${flat.map((f) => `<td>${esc(f[k] ?? '–')}</td>`).join('')}</tr>`,
        )
        .join('')}</tbody></table>`
    : '<p>No hyperparameter differs between the variants.</p>';

  // Every run on its own: status, progress, wall time and where it came from (config.json's
  // provenance: msmoe version, git commit, backend, Node.js, command line).
  const runRows = runs
    .map((r) => {
      const steps = r.metrics.filter((m) => m.kind === 'step') as { step: number; time: number }[];
      const status = r.eval?.diverged ? 'diverged' : r.eval ? 'finished' : 'running or stopped';
      const first = steps[0]?.time;
      const last = steps.at(-1)?.time;
      const wall =
        first !== undefined && last !== undefined && last > first
          ? `${((last - first) / 1000).toFixed(0)} s`
          : '–';
      const p = (r.config.provenance ?? {}) as Record<string, string | null>;
      const cells = [
        r.dir.split(/[\\/]/).at(-1) ?? r.dir,
        String(r.config.variant ?? '–'),
        String(r.config.seed ?? '–'),
        status,
        String(steps.at(-1)?.step ?? 0),
        wall,
        p.msmoe ?? '–',
        p.commit ? p.commit.slice(0, 12) + (p.commit.endsWith('+dirty') ? '+dirty' : '') : '–',
        p.backend ?? String(r.config.backend ?? '–'),
        p.node ?? '–',
      ];
      const toggle = options.chartLibrary
        ? `<td><input type="checkbox" data-run="${esc(r.dir)}" checked aria-label="show ${esc(cells[0])} in the charts"></td>`
        : '';
      return `<tr${status === 'finished' ? '' : ' class="unfinished"'} title="${esc(p.command ?? '')}">${cells.map((c) => `<td>${esc(c)}</td>`).join('')}${toggle}</tr>`;
    })
    .join('');
  const runsTable = `<table><thead><tr>${['run', 'variant', 'seed', 'status', 'steps', 'wall time', 'msmoe', 'commit', 'backend', 'node', ...(options.chartLibrary ? ['in charts'] : [])].map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${runRows}</tbody></table>`;

  const refresh = options.refreshSeconds
    ? `<script>setInterval(async()=>{try{const r=await fetch(location.href,{cache:'no-store'});const t=await r.text();const d=new DOMParser().parseFromString(t,'text/html');const y=scrollY;if(window.msmoeChartsDispose)window.msmoeChartsDispose();document.body.innerHTML=d.body.innerHTML;if(window.msmoeCharts)window.msmoeCharts();scrollTo(0,y);}catch(e){}},${options.refreshSeconds * 1000});</script>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}thead{background:#f4f4f4}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #eee;background:#fff;max-width:100%}
.chart-controls{display:flex;flex-wrap:wrap;gap:16px;align-items:center;margin:8px 0}.chart-controls input[type=range]{vertical-align:middle}
.meta{color:#666;font-size:12px}tr.unfinished td{color:#a60}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="meta">${runs.length} run(s), ${groups.length} variant(s); generated ${esc(new Date().toISOString())}${options.refreshSeconds ? ` · live, refreshing every ${options.refreshSeconds} s` : ''}</p>
${options.topHtml ?? ''}
<h2>Summary</h2>${table}
<h2>Charts</h2>${chartsHtml(charts, options.chartLibrary)}
${options.extraHtml ?? ''}
<h2>Hyperparameters that differ</h2>${diff}
<h2>Runs</h2><p class="meta">Hover a row for its command line.</p>${runsTable}
${fixedCoefs.length ? `<h2>Fixed update-rule coefficients</h2><ul>${fixedCoefs.map((l) => `<li>${l}</li>`).join('')}</ul>` : ''}
${refresh}
</body></html>
`;
}
