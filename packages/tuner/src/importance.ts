// Parameter importance by PED-ANOVA (Watanabe et al. 2023; Optuna's `PedAnovaImportanceEvaluator`
// defaults: top quantile 0.1 against all trials): for each parameter, the Pearson divergence
// between its distribution among the top trials and among all trials, estimated with Parzen
// estimators on a grid, normalised to sum to 1.
import type { Distribution } from './distributions.js';
import { OPTUNA_PARZEN, ParzenEstimator } from './samplers/parzen.js';
import type { Direction, FrozenTrial } from './trial.js';

const math = Math;

const PARZEN = OPTUNA_PARZEN;

function grid(d: Distribution, n = 100): number[] {
  if (d.kind === 'categorical') return d.choices.map((_, i) => i);
  if (d.kind === 'int' && (d.high - d.low) / d.step + 1 <= n)
    return Array.from({ length: (d.high - d.low) / d.step + 1 }, (_, i) => d.low + i * d.step);
  if (d.log) {
    const [a, b] = [math.log(d.low), math.log(d.high)];
    return Array.from({ length: n }, (_, i) => math.exp(a + ((b - a) * i) / (n - 1)));
  }
  return Array.from({ length: n }, (_, i) => d.low + ((d.high - d.low) * i) / (n - 1));
}

/**
 * Importance of each parameter present in every COMPLETE trial, in [0, 1], summing to 1 (empty
 * with fewer than 2 usable trials). `topQuantile` defaults to 0.1 (at least 2 trials).
 */
export function pedAnovaImportance(
  trials: FrozenTrial[],
  direction: Direction,
  options: { topQuantile?: number } = {},
): Record<string, number> {
  const done = trials.filter(
    (t) => t.state === 'COMPLETE' && t.value !== null && Number.isFinite(t.value),
  );
  if (done.length < 2) return {};
  const names = Object.keys(done[0]?.distributions ?? {}).filter((k) =>
    done.every((t) => k in t.params),
  );
  const sign = direction === 'maximize' ? -1 : 1;
  const sorted = [...done].sort((a, b) => sign * ((a.value as number) - (b.value as number)));
  const nTop = math.max(2, math.ceil((options.topQuantile ?? 0.1) * done.length));
  const top = sorted.slice(0, nTop);
  const raw: Record<string, number> = {};
  for (const k of names) {
    const d = done[0]?.distributions[k] as Distribution;
    const pTop = new ParzenEstimator(
      top.map((t) => [t.params[k] as number]),
      [d],
      PARZEN,
    );
    const pAll = new ParzenEstimator(
      done.map((t) => [t.params[k] as number]),
      [d],
      PARZEN,
    );
    const xs = grid(d);
    const lt = xs.map((x) => math.exp(pTop.logPdf([x])));
    const la = xs.map((x) => math.exp(pAll.logPdf([x])));
    const [st, sa] = [lt.reduce((a, b) => a + b, 0), la.reduce((a, b) => a + b, 0)];
    // Pearson divergence ∫ (p_top/p_all − 1)² p_all on the grid (densities renormalised over it).
    let div = 0;
    for (let i = 0; i < xs.length; i++) {
      const pa = (la[i] as number) / sa;
      const pt = (lt[i] as number) / st;
      if (pa > 0) div += pa * (pt / pa - 1) ** 2;
    }
    raw[k] = div;
  }
  const total = Object.values(raw).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(raw)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, total > 0 ? v / total : 0]),
  );
}
