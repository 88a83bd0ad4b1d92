// The analysis of a compare study: per-run numbers, paired comparisons of each variant with the
// baseline over the same seeds, the claims the study answers (stability, clean quality,
// robustness to attack, robustness to shift) and their verdict sentences, computed from the data.
import {
  esc,
  fmt,
  type PairedComparison,
  pairedComparison,
  summarize,
  welch,
} from '@msmoe/tracking';
import Table from 'cli-table3';

/** Numbers per metric of one run's eval.json (flattened: `clean perplexity`, `stability lossOscillation`, …). */
export function runMetrics(e: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  if (e.diverged) {
    out.diverged = 1;
    for (const [k, v] of Object.entries((e.stability ?? {}) as Record<string, number>))
      out[`stability ${k}`] = k === 'spikes' ? v : Number.NaN;
    return out;
  }
  const clean = (e.clean ?? {}) as Record<string, number>;
  const attacked = (e.attacked ?? {}) as Record<string, number>;
  for (const [k, v] of Object.entries(clean)) out[`clean ${k}`] = v;
  for (const [k, v] of Object.entries(attacked)) out[`attacked ${k}`] = v;
  for (const k of Object.keys(clean))
    if (k in attacked)
      out[`attacked − clean ${k}`] = (attacked[k] as number) - (clean[k] as number);
  for (const [k, v] of Object.entries((e.shift ?? {}) as Record<string, number>))
    out[`shift ${k}`] = v;
  for (const [k, v] of Object.entries((e.corruptions ?? {}) as Record<string, number>))
    out[`accuracy ${k}`] = v;
  for (const [k, v] of Object.entries((e.stability ?? {}) as Record<string, number>))
    out[`stability ${k}`] = v;
  out.diverged = 0;
  return out;
}

/** The runs of one variant in one arm, in seed order (index i: the i-th seed of the plan). */
export interface VariantMetrics {
  variant: string;
  metrics: Record<string, number>[];
}

/** mCE per run against the baseline variant's mean corruption errors (MNIST-C: one severity per corruption). */
export function addMce(perVariant: VariantMetrics[]): void {
  const base = perVariant[0];
  if (!base) return;
  const corruptions = Object.keys(base.metrics.find((m) => !m.diverged) ?? {}).filter((k) =>
    k.startsWith('accuracy '),
  );
  if (!corruptions.length) return;
  const live = base.metrics.filter((m) => !m.diverged);
  const baseErr = Object.fromEntries(
    corruptions.map((c) => [c, live.reduce((s, m) => s + (1 - (m[c] as number)), 0) / live.length]),
  );
  for (const v of perVariant)
    for (const m of v.metrics)
      m.mCE = m.diverged
        ? Number.NaN
        : corruptions.reduce(
            (s, c) => s + (1 - (m[c] as number)) / Math.max(1e-9, baseErr[c] as number),
            0,
          ) / corruptions.length;
}

/** One row of the A/B table: a metric of a variant over seeds and its comparison with the baseline. */
export interface CompareRow {
  /** `default`, or `stress` (the same comparison at a learning rate where training oscillates). */
  arm: string;
  variant: string;
  metric: string;
  /** Per seed, in seed order (NaN for a diverged run). */
  values: number[];
  mean: number;
  std: number;
  ci95: [number, number];
  /** Runs that diverged (their values are NaN and left out of the statistics). */
  diverged: number;
  /** p of the test against the baseline (paired t, or Welch when unpaired); null for the baseline. */
  p: number | null;
  significant: boolean;
  /** The paired comparison with the baseline (null for the baseline, or when unpaired). */
  paired: PairedComparison | null;
}

/**
 * The A/B rows of one arm: per metric and variant, mean ± std and 95% interval over seeds, and
 * against the first variant either a paired comparison (same seeds: Δ% with a bootstrap interval,
 * paired t, sign test, minimal detectable effect) or Welch's test (`paired: false`).
 */
export function abRows(perVariant: VariantMetrics[], arm = 'default', paired = true): CompareRow[] {
  const rows: CompareRow[] = [];
  const base = perVariant[0];
  if (!base) return rows;
  const names = [...new Set(perVariant.flatMap((v) => v.metrics.flatMap((m) => Object.keys(m))))];
  const column = (v: VariantMetrics, metric: string) =>
    v.metrics.map((m) => (typeof m[metric] === 'number' ? (m[metric] as number) : Number.NaN));
  for (const metric of names.filter((n) => n !== 'diverged'))
    for (const [i, v] of perVariant.entries()) {
      const all = column(v, metric);
      const values = all.filter(Number.isFinite);
      const s = summarize(values);
      const baseAll = column(base, metric);
      let p: number | null = null;
      let comparison: PairedComparison | null = null;
      if (i > 0 && paired) {
        comparison = pairedComparison(all, baseAll, { seed: 0 });
        p = comparison.p;
      } else if (i > 0) p = welch(values, baseAll.filter(Number.isFinite)).p;
      rows.push({
        arm,
        variant: v.variant,
        metric,
        values: all,
        mean: s.mean,
        std: s.std,
        ci95: s.ci95,
        diverged: v.metrics.filter((m) => m.diverged).length,
        p,
        significant: p !== null && Number.isFinite(p) && p < 0.05,
        paired: comparison,
      });
    }
  return rows;
}

/** What a study answers. */
export type ClaimName = 'stability' | 'clean' | 'attack' | 'shift';

/** The metric that answers each claim, for a task, and which direction is better. */
export function claimMetrics(
  task: string,
): { claim: ClaimName; metric: string; label: string; lowerIsBetter: boolean }[] {
  const image = /mnist|cifar/.test(task);
  const out: { claim: ClaimName; metric: string; label: string; lowerIsBetter: boolean }[] = [
    {
      claim: 'stability',
      metric: 'stability lossOscillation',
      label: 'training-loss oscillation',
      lowerIsBetter: true,
    },
  ];
  if (image) {
    out.push({
      claim: 'clean',
      metric: 'clean accuracy',
      label: 'clean accuracy',
      lowerIsBetter: false,
    });
    if (/-c$/.test(task))
      out.push({
        claim: 'shift',
        metric: 'mCE',
        label: 'mean corruption error (mCE)',
        lowerIsBetter: true,
      });
  } else {
    out.push(
      {
        claim: 'clean',
        metric: 'clean perplexity',
        label: 'clean test perplexity',
        lowerIsBetter: true,
      },
      {
        claim: 'attack',
        metric: 'attacked perplexity',
        label: 'attacked test perplexity',
        lowerIsBetter: true,
      },
    );
    if (task === 'sotu-shift')
      out.push({
        claim: 'shift',
        metric: 'shift perplexity',
        label: 'perplexity on the later (shifted) addresses',
        lowerIsBetter: true,
      });
  }
  return out;
}

/** One claim × variant × arm: the measured effect (summary.json's `claims` entries). */
export interface Claim {
  claim: ClaimName;
  arm: string;
  metric: string;
  variant: string;
  baseline: string;
  /** Mean paired relative difference, variant vs baseline, in %. */
  effectPct: number;
  /** Bootstrap 95% interval of effectPct. */
  ci: [number, number];
  /** Seeds paired (both runs finished). */
  n: number;
  /** Paired t-test p. */
  p: number;
  /** Minimal detectable effect at power 0.8, in %. */
  mdePct: number;
  /** Runs that diverged: baseline, variant. */
  diverged: [number, number];
  /** Whether a difference was detected (p < 0.05 and the interval excludes 0), and if better. */
  detected: boolean;
  better: boolean | null;
  /** The verdict in one sentence. */
  verdict: string;
}

const pct = (x: number) => `${x >= 0 ? '' : '−'}${Math.abs(x).toFixed(1)}`;

/** The claims of a study from its rows (paired rows only). */
export function claimsOf(rows: CompareRow[], task: string): Claim[] {
  const out: Claim[] = [];
  const arms = [...new Set(rows.map((r) => r.arm))];
  for (const arm of arms)
    for (const c of claimMetrics(task)) {
      const armRows = rows.filter((r) => r.arm === arm && r.metric === c.metric);
      const base = armRows[0];
      if (!base) continue;
      for (const r of armRows.slice(1)) {
        const pc = r.paired;
        if (!pc) continue;
        // Two seeds give a bootstrap interval of two points and a t-test on one degree of
        // freedom: a detection needs at least three pairs.
        const detected =
          pc.n >= 3 && Number.isFinite(pc.p) && pc.p < 0.05 && (pc.ci[0] > 0 || pc.ci[1] < 0);
        const better = detected ? pc.effectPct < 0 === c.lowerIsBetter : null;
        const where = arm === 'default' ? '' : ` at the stress learning rate`;
        const div =
          r.diverged || base.diverged
            ? `; diverged: ${base.variant} ${base.diverged}/${base.values.length}, ${r.variant} ${r.diverged}/${r.values.length}`
            : '';
        const verdict =
          pc.n < 3
            ? `${r.variant} vs ${base.variant}${where}: ${pc.n} paired seed(s) of ${c.label}, too few to tell (measured ${pct(pc.effectPct)}%; 3 or more needed)${div}.`
            : detected
              ? `${r.variant} ${pc.effectPct < 0 ? 'lowered' : 'raised'} ${c.label}${where} by ${Math.abs(pc.effectPct).toFixed(1)}% [${pct(pc.ci[0])}, ${pct(pc.ci[1])}] against ${base.variant} (${pc.n} paired seeds, p ${pc.p < 0.001 ? '< 0.001' : pc.p.toFixed(3)}): ${better ? 'better' : 'worse'}${div}.`
              : `${r.variant} vs ${base.variant}${where}: no difference in ${c.label} detectable above ${Number.isFinite(pc.mdePct) ? `${pc.mdePct.toFixed(1)}%` : '–'} (${pc.n} paired seeds; measured ${pct(pc.effectPct)}% [${pct(pc.ci[0])}, ${pct(pc.ci[1])}], p ${Number.isFinite(pc.p) ? pc.p.toFixed(2) : '–'})${div}.`;
        out.push({
          claim: c.claim,
          arm,
          metric: c.metric,
          variant: r.variant,
          baseline: base.variant,
          effectPct: pc.effectPct,
          ci: pc.ci,
          n: pc.n,
          p: pc.p,
          mdePct: pc.mdePct,
          diverged: [base.diverged, r.diverged],
          detected,
          better,
          verdict,
        });
      }
    }
  return out;
}

const CLAIM_TITLES: Record<ClaimName, string> = {
  stability: 'Training stability',
  clean: 'Clean quality',
  attack: 'Robustness to attack',
  shift: 'Robustness to shift',
};

/** The verdicts as text, grouped by claim (the CLI prints them first). */
export function formatVerdicts(claims: Claim[]): string {
  const lines: string[] = ['Verdicts (paired by seed; 95% bootstrap intervals):'];
  for (const name of Object.keys(CLAIM_TITLES) as ClaimName[]) {
    const cs = claims.filter((c) => c.claim === name);
    if (!cs.length) continue;
    lines.push(`  ${CLAIM_TITLES[name]}:`);
    for (const c of cs) lines.push(`    - ${c.verdict}`);
  }
  return lines.join('\n');
}

/** The verdicts as HTML (the top of report.html). */
export function verdictsHtml(claims: Claim[]): string {
  if (!claims.length) return '';
  const mark = (c: Claim) =>
    c.detected ? (c.better ? '▲ better' : '▼ worse') : '– no detectable difference';
  return `<h2>Verdicts</h2><p class="meta">Each variant against the baseline on the same seeds: mean paired difference in %, 95% bootstrap interval, paired t-test; "detected" needs p &lt; 0.05 and an interval that excludes 0. Computed from this study's runs.</p>${(
    Object.keys(CLAIM_TITLES) as ClaimName[]
  )
    .map((name) => {
      const cs = claims.filter((c) => c.claim === name);
      return cs.length
        ? `<h3>${CLAIM_TITLES[name]}</h3><ul>${cs.map((c) => `<li><b>${esc(mark(c))}</b> ${esc(c.verdict)}</li>`).join('')}</ul>`
        : '';
    })
    .join('')}`;
}

const PAIRED_HEAD = [
  'arm',
  'metric',
  'variant',
  'mean ± std',
  'n',
  'diverged',
  'Δ% vs baseline [95% CI]',
  'p (paired t)',
  'sign +/−',
  'MDE %',
];
const WELCH_HEAD = [
  'arm',
  'metric',
  'variant',
  'mean ± std',
  '95% interval',
  'n',
  'p (Welch)',
  'significant',
];

/** The cells of one row, paired or Welch (the text table and the HTML table share them). */
function rowCells(r: CompareRow, paired: boolean): string[] {
  const n = String(r.values.filter(Number.isFinite).length);
  const pc = r.paired;
  return paired
    ? [
        r.arm,
        r.metric,
        r.variant,
        `${fmt(r.mean)} ± ${fmt(r.std)}`,
        n,
        String(r.diverged),
        pc ? `${pct(pc.effectPct)} [${pct(pc.ci[0])}, ${pct(pc.ci[1])}]` : 'baseline',
        pc ? (Number.isFinite(pc.p) ? pc.p.toFixed(4) : 'n/a') : '',
        pc ? `${pc.sign.positive}/${pc.sign.negative}` : '',
        pc && Number.isFinite(pc.mdePct) ? pc.mdePct.toFixed(1) : '',
      ]
    : [
        r.arm,
        r.metric,
        r.variant,
        `${fmt(r.mean)} ± ${fmt(r.std)}`,
        `[${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]`,
        n,
        r.p === null ? 'baseline' : Number.isFinite(r.p) ? r.p.toFixed(4) : 'n/a',
        r.p === null ? '' : r.significant ? 'yes (p < 0.05)' : 'no',
      ];
}

/** The table as text: paired columns (Δ% vs baseline [95% CI], p, sign, MDE) or Welch's p. */
export function formatTable(rows: CompareRow[]): string {
  const paired = rows.some((r) => r.paired);
  const t = new Table({
    head: paired ? PAIRED_HEAD : WELCH_HEAD,
    style: { head: [], border: [] },
  });
  for (const r of rows) t.push(rowCells(r, paired));
  return t.toString();
}

/** The table as HTML (report.html). */
export function tableHtml(rows: CompareRow[]): string {
  const paired = rows.some((r) => r.paired);
  const head = paired ? PAIRED_HEAD : WELCH_HEAD;
  const body = rows
    .map((r) => {
      const pc = r.paired;
      const cells = rowCells(r, paired);
      const bold = pc && pc.p < 0.05 && (pc.ci[0] > 0 || pc.ci[1] < 0);
      return `<tr>${cells.map((c) => `<td>${bold ? `<b>${esc(c)}</b>` : esc(c)}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<h2>A/B comparison (${paired ? 'paired by seed, against the first variant' : "Welch's t-test against the first variant"})</h2><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}
