import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@msmoe/core';
import { esc, fmt, readRun, renderReport, summarize, welch } from '@msmoe/tracking';
import type { RuleConfig } from '@msmoe/update-rules';
import Table from 'cli-table3';
import { type RunConfig, variantName } from './config.js';
import { loadTaskData } from './data.js';
import type { Reporter } from './progress.js';
import { type RunResult, trainRun } from './run.js';

/** One row of the A/B table: a metric of a variant over seeds, and its difference from the baseline. */
export interface CompareRow {
  variant: string;
  metric: string;
  values: number[];
  mean: number;
  std: number;
  ci95: [number, number];
  /** Welch's p-value against the baseline (first variant); null for the baseline itself. */
  p: number | null;
  significant: boolean;
}

/** The result of {@link compare}. */
export interface CompareResult {
  out: string;
  stopped: boolean;
  rows: CompareRow[];
  report: string | null;
  runs: RunResult[];
}

/** Numbers per metric of one run's eval.json (flattened: `clean perplexity`, `attacked − clean perplexity`, …). */
export function runMetrics(e: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const clean = (e.clean ?? {}) as Record<string, number>;
  const attacked = (e.attacked ?? {}) as Record<string, number>;
  for (const [k, v] of Object.entries(clean)) out[`clean ${k}`] = v;
  for (const [k, v] of Object.entries(attacked)) out[`attacked ${k}`] = v;
  for (const k of Object.keys(clean))
    if (k in attacked)
      out[`attacked − clean ${k}`] = (attacked[k] as number) - (clean[k] as number);
  for (const [k, v] of Object.entries((e.corruptions ?? {}) as Record<string, number>))
    out[`accuracy ${k}`] = v;
  return out;
}

/** Builds the A/B rows: mean ± std, 95% interval, Welch's test against the first variant. */
export function abRows(
  perVariant: { variant: string; metrics: Record<string, number>[] }[],
): CompareRow[] {
  const rows: CompareRow[] = [];
  const base = perVariant[0];
  if (!base) return rows;
  const names = Object.keys(base.metrics[0] ?? {});
  for (const metric of names)
    for (const [i, v] of perVariant.entries()) {
      const values = v.metrics
        .map((m) => m[metric])
        .filter((x): x is number => typeof x === 'number');
      const s = summarize(values);
      const baseValues = base.metrics.map((m) => m[metric] as number);
      const p = i === 0 ? null : welch(values, baseValues).p;
      rows.push({
        variant: v.variant,
        metric,
        values,
        mean: s.mean,
        std: s.std,
        ci95: s.ci95,
        p,
        significant: p !== null && Number.isFinite(p) && p < 0.05,
      });
    }
  return rows;
}

/** mCE per run against the baseline variant's mean corruption errors (MNIST-C: one severity per corruption). */
function addMce(perVariant: { variant: string; metrics: Record<string, number>[] }[]): void {
  const base = perVariant[0];
  if (!base) return;
  const corruptions = Object.keys(base.metrics[0] ?? {}).filter((k) => k.startsWith('accuracy '));
  if (!corruptions.length) return;
  const baseErr = Object.fromEntries(
    corruptions.map((c) => [
      c,
      base.metrics.reduce((s, m) => s + (1 - (m[c] as number)), 0) / base.metrics.length,
    ]),
  );
  for (const v of perVariant)
    for (const m of v.metrics)
      m.mCE =
        corruptions.reduce(
          (s, c) => s + (1 - (m[c] as number)) / Math.max(1e-9, baseErr[c] as number),
          0,
        ) / corruptions.length;
}

/** The A/B table as text. */
export function formatTable(rows: CompareRow[]): string {
  const t = new Table({
    head: ['metric', 'variant', 'mean ± std', '95% interval', 'n', 'p vs baseline', 'significant'],
    style: { head: [], border: [] },
  });
  for (const r of rows)
    t.push([
      r.metric,
      r.variant,
      `${fmt(r.mean)} ± ${fmt(r.std)}`,
      `[${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]`,
      String(r.values.length),
      r.p === null ? 'baseline' : Number.isFinite(r.p) ? r.p.toFixed(4) : 'n/a',
      r.p === null ? '' : r.significant ? 'yes (p < 0.05)' : 'no',
    ]);
  return t.toString();
}

/** The A/B table as HTML (for report.html). */
export function tableHtml(rows: CompareRow[]): string {
  return `<h2>A/B comparison (Welch's t-test against the first variant)</h2><table><thead><tr><th>metric</th><th>variant</th><th>mean ± std</th><th>95% interval</th><th>n</th><th>p</th><th>significant</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr><td>${esc(r.metric)}</td><td>${esc(r.variant)}</td><td>${fmt(r.mean)} ± ${fmt(r.std)}</td><td>[${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]</td><td>${r.values.length}</td><td>${r.p === null ? 'baseline' : Number.isFinite(r.p) ? r.p.toFixed(4) : 'n/a'}</td><td>${r.p === null ? '' : r.significant ? '<b>yes</b>' : 'no'}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/**
 * An A/B(/C…) study: the same model, data and seeds with different update rules, each run a
 * folder under `out`; then the table (mean ± std, 95% interval, attacked − clean gap, Welch's
 * p against the first variant) printed and written with report.html and compare.json.
 */
export async function compare(options: {
  base: RunConfig;
  /** The rules compared, the first the baseline. */
  variants: RuleConfig[];
  seeds: number[];
  out: string;
  reporter: Reporter;
  signal?: AbortSignal;
  backend?: string;
}): Promise<CompareResult> {
  const { base, out, reporter } = options;
  const data = await loadTaskData(base, join(out, '..', '.cache'));
  const runs: RunResult[] = [];
  const perVariant: { variant: string; metrics: Record<string, number>[] }[] = [];
  const labels = options.variants.map((rule) =>
    variantName({ task: base.task, model: { ...base.model, rule } }),
  );
  for (const [i, rule] of options.variants.entries()) {
    const variant = labels[i] as string;
    const metrics: Record<string, number>[] = [];
    for (const seed of options.seeds) {
      const c: RunConfig = {
        ...base,
        name: undefined,
        variant,
        seed,
        model: { ...base.model, rule },
      };
      const r = await trainRun(c, {
        out,
        data,
        reporter,
        signal: options.signal,
        backend: options.backend,
      });
      runs.push(r);
      if (r.stopped) return { out, stopped: true, rows: [], report: null, runs };
      metrics.push(runMetrics(r.eval ?? {}));
    }
    perVariant.push({ variant, metrics });
  }
  addMce(perVariant);
  const rows = abRows(perVariant);
  reporter.info(`\n${formatTable(rows)}`);
  const report = join(out, 'report.html');
  await writeFileAtomic(
    report,
    renderReport(
      runs.map((r) => readRun(r.dir)),
      {
        title: `msmoe compare: ${labels.join(' vs ')}`,
        extraHtml: tableHtml(rows),
      },
    ),
  );
  writeFileSync(
    join(out, 'compare.json'),
    `${JSON.stringify({ variants: options.variants, seeds: options.seeds, rows }, null, 2)}\n`,
  );
  return { out, stopped: false, rows, report, runs };
}
