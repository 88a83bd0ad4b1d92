// Training-stability metrics of one run, from its logged training losses and gradient norms (the
// paper's first claim is that momentum trains more stably). All are "lower is steadier".

/** Stability numbers of one run (see {@link stabilityMetrics} for the formulas). */
export interface Stability {
  /** Mean |L[t+1] − 2L[t] + L[t−1]| over the second half of training (step-to-step zigzag). */
  lossOscillation: number;
  /** Std of L[t] − (centred moving average of L, window w) over the second half. */
  lossRoughness: number;
  /** Steps with L[t] > median(L[t−w..t−1]) + k·MAD (scaled MAD), over the whole run after w steps. */
  spikes: number;
  /** Variance of the gradient norm over the second half. */
  gradNormVariance: number;
  /** Mean routing change between consecutive evaluations (share of tokens whose experts changed), NaN without evaluations. */
  routingChange: number;
}

/** Window and threshold of {@link stabilityMetrics}. */
export interface StabilityOptions {
  /** Moving-average and running-median window, in steps (default 21). */
  window?: number;
  /** Spike threshold in scaled MADs above the running median (default 3). */
  k?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * Stability metrics of one run from its per-step training losses and gradient norms (in step
 * order; skipped steps' non-finite values are dropped first) and its evaluations' routing changes.
 * Second-half statistics leave out the first half, where the loss falls fastest.
 */
export function stabilityMetrics(
  losses: number[],
  gradNorms: number[],
  routingChanges: number[] = [],
  options: StabilityOptions = {},
): Stability {
  const w = options.window ?? 21;
  const k = options.k ?? 3;
  const L = losses.filter(Number.isFinite);
  const G = gradNorms.filter(Number.isFinite);
  const half = Math.floor(L.length / 2);

  let zigzag = 0;
  let count = 0;
  for (let t = Math.max(1, half); t < L.length - 1; t++) {
    zigzag += Math.abs((L[t + 1] as number) - 2 * (L[t] as number) + (L[t - 1] as number));
    count += 1;
  }

  const r = w >> 1;
  const residuals: number[] = [];
  for (let t = Math.max(r, half); t < L.length - r; t++) {
    let s = 0;
    for (let j = t - r; j <= t + r; j++) s += L[j] as number;
    residuals.push((L[t] as number) - s / (2 * r + 1));
  }

  let spikes = 0;
  for (let t = w; t < L.length; t++) {
    const past = L.slice(t - w, t);
    const m = median(past);
    const mad = 1.4826 * median(past.map((x) => Math.abs(x - m)));
    if ((L[t] as number) > m + k * Math.max(mad, 1e-12)) spikes += 1;
  }

  const g2 = G.slice(Math.floor(G.length / 2));
  const gm = g2.reduce((a, b) => a + b, 0) / Math.max(1, g2.length);
  const rm = residuals.reduce((a, b) => a + b, 0) / Math.max(1, residuals.length);
  const rc = routingChanges.filter(Number.isFinite);
  return {
    lossOscillation: count ? zigzag / count : Number.NaN,
    lossRoughness:
      residuals.length > 1
        ? Math.sqrt(residuals.reduce((a, b) => a + (b - rm) ** 2, 0) / (residuals.length - 1))
        : Number.NaN,
    spikes,
    gradNormVariance:
      g2.length > 1 ? g2.reduce((a, b) => a + (b - gm) ** 2, 0) / (g2.length - 1) : Number.NaN,
    routingChange: rc.length ? rc.reduce((a, b) => a + b, 0) / rc.length : Number.NaN,
  };
}
