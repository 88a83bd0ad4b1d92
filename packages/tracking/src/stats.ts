// Small statistics for A/B tables: mean, sample std, Student-t 95% interval, Welch's t-test.
const math = Math;

/** Mean of the values (NaN when empty). */
export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

/** Sample standard deviation (n − 1); 0 for one value. */
export function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Regularised incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes §6.4). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbeta = lgamma(a + b) - lgamma(a) - lgamma(b);
  const front = math.exp(math.log(x) * a + math.log(1 - x) * b + lbeta);
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 300; i++) {
    const m = math.floor(i / 2);
    let num: number;
    if (i === 0) num = 1;
    else if (i % 2 === 0) num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (math.abs(d) < 1e-30) d = 1e-30;
    d = 1 / d;
    c = 1 + num / c;
    if (math.abs(c) < 1e-30) c = 1e-30;
    const cd = c * d;
    f *= cd;
    if (math.abs(1 - cd) < 1e-12) break;
  }
  return (front * (f - 1)) / a;
}

/** log Γ(x) (Lanczos, g = 7). */
function lgamma(x: number): number {
  const g = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531,
    -176.6150291621406, 12.507343278686905, -0.13857109526572012, 9.984369578019572e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return math.log(math.PI / math.abs(math.sin(math.PI * x))) - lgamma(1 - x);
  const xx = x - 1;
  let a = g[0] as number;
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += (g[i] as number) / (xx + i);
  return 0.5 * math.log(2 * math.PI) + (xx + 0.5) * math.log(t) - t + math.log(a);
}

/** Two-sided p-value of Student's t with `df` degrees of freedom. */
export function tTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? Number.NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t quantile q with P(|T| ≤ q) = level (bisection on {@link tTwoSidedP}). */
export function tQuantile(level: number, df: number): number {
  let lo = 0;
  let hi = 1000;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (tTwoSidedP(mid, df) > 1 - level) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean, std and the 95% confidence interval of the mean (Student t; zero width for one value). */
export function summarize(xs: number[]): {
  mean: number;
  std: number;
  ci95: [number, number];
  n: number;
} {
  const m = mean(xs);
  const s = std(xs);
  const half = xs.length > 1 ? (tQuantile(0.95, xs.length - 1) * s) / math.sqrt(xs.length) : 0;
  return { mean: m, std: s, ci95: [m - half, m + half], n: xs.length };
}

/** Welch's unequal-variance t-test of mean(a) − mean(b): the statistic, its df and two-sided p. */
export function welch(a: number[], b: number[]): { t: number; df: number; p: number } {
  const [ma, mb, va, vb] = [mean(a), mean(b), std(a) ** 2, std(b) ** 2];
  const [na, nb] = [a.length, b.length];
  const se2 = va / na + vb / nb;
  if (na < 2 || nb < 2 || se2 === 0) return { t: Number.NaN, df: Number.NaN, p: Number.NaN };
  const t = (ma - mb) / math.sqrt(se2);
  const df = se2 ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1));
  return { t, df, p: tTwoSidedP(t, df) };
}

/** The one-sided quantile q with P(T ≤ q) = p of Student's t (p ≥ 0.5). */
function tUpper(p: number, df: number): number {
  return tQuantile(2 * p - 1, df);
}

/** A paired t-test of `a − b` (same seeds): the mean difference, its 95% interval, t, df and p. */
export function pairedT(
  a: number[],
  b: number[],
): { meanDiff: number; ci95: [number, number]; t: number; df: number; p: number; n: number } {
  if (a.length !== b.length)
    throw new Error(`pairedT: ${a.length} and ${b.length} values are not pairs`);
  const d = a.map((x, i) => x - (b[i] as number));
  const n = d.length;
  const m = mean(d);
  const s = std(d);
  if (n < 2) return { meanDiff: m, ci95: [m, m], t: Number.NaN, df: Number.NaN, p: Number.NaN, n };
  const se = s / math.sqrt(n);
  const half = tQuantile(0.95, n - 1) * se;
  const t = se === 0 ? (m === 0 ? Number.NaN : math.sign(m) * Number.POSITIVE_INFINITY) : m / se;
  return { meanDiff: m, ci95: [m - half, m + half], t, df: n - 1, p: tTwoSidedP(t, n - 1), n };
}

/** Exact two-sided sign test of paired differences (zeros dropped): positives, negatives and p. */
export function signTest(diffs: number[]): { positive: number; negative: number; p: number } {
  const positive = diffs.filter((d) => d > 0).length;
  const negative = diffs.filter((d) => d < 0).length;
  const n = positive + negative;
  if (n === 0) return { positive, negative, p: 1 };
  const k = math.min(positive, negative);
  // P(X ≤ k) for X ~ Binomial(n, ½), doubled.
  let term = 0.5 ** n;
  let tail = term;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    tail += term;
  }
  return { positive, negative, p: math.min(1, 2 * tail) };
}

/** A small seeded generator (mulberry32) for resampling: the same seed, the same interval. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Percentile bootstrap interval of the mean of `xs` (`resamples` resamples with replacement,
 * seeded): `[lo, hi]` at `level` (default 95%).
 */
export function bootstrapMeanCi(
  xs: number[],
  options: { resamples?: number; level?: number; seed?: number } = {},
): [number, number] {
  const { resamples = 10000, level = 0.95, seed = 0 } = options;
  const n = xs.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  if (n === 1) return [xs[0] as number, xs[0] as number];
  const random = mulberry32(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[math.floor(random() * n)] as number;
    means[r] = s / n;
  }
  means.sort();
  const q = (p: number) => {
    // Linear interpolation between order statistics (numpy's default percentile).
    const pos = p * (resamples - 1);
    const lo = math.floor(pos);
    const hi = math.min(resamples - 1, lo + 1);
    return (means[lo] as number) + (pos - lo) * ((means[hi] as number) - (means[lo] as number));
  };
  return [q((1 - level) / 2), q(1 - (1 - level) / 2)];
}

/**
 * The smallest true mean paired difference a two-sided paired t-test at `alpha` detects with
 * probability `power`, for `n` pairs whose differences have standard deviation `sd`:
 * `(t_{1−α/2, n−1} + t_{power, n−1}) · sd / √n`.
 */
export function minimalDetectableEffect(
  sd: number,
  n: number,
  options: { alpha?: number; power?: number } = {},
): number {
  const { alpha = 0.05, power = 0.8 } = options;
  if (n < 2) return Number.NaN;
  return ((tUpper(1 - alpha / 2, n - 1) + tUpper(power, n - 1)) * sd) / math.sqrt(n);
}

/** A paired comparison of a variant against a baseline over the same seeds, in % of the baseline. */
export interface PairedComparison {
  /** Pairs (seeds where both runs have the metric). */
  n: number;
  /** Mean paired difference `variant − baseline`, in the metric's units. */
  meanDiff: number;
  /** Mean of the per-seed relative differences `(variant − baseline) / |baseline|`, in %. */
  effectPct: number;
  /** Bootstrap 95% interval of `effectPct`. */
  ci: [number, number];
  /** Paired t-test p (on the relative differences). */
  p: number;
  /** Sign test p and the counts of seeds where the variant was above / below. */
  sign: { positive: number; negative: number; p: number };
  /** Minimal detectable effect at power 0.8, α 0.05, in % (from the relative differences' sd). */
  mdePct: number;
}

/**
 * Compares paired values (index i: the same seed) of a variant against a baseline: the mean
 * relative difference in %, its bootstrap 95% interval (seeded), paired t and sign tests, and the
 * minimal detectable effect. Pairs with a non-finite value are left out.
 */
export function pairedComparison(
  variant: number[],
  baseline: number[],
  options: { seed?: number; resamples?: number } = {},
): PairedComparison {
  const pairs = variant
    .map((v, i) => [v, baseline[i] as number] as const)
    .filter(([v, b]) => Number.isFinite(v) && Number.isFinite(b) && b !== 0);
  const rel = pairs.map(([v, b]) => (100 * (v - b)) / math.abs(b));
  const t = pairedT(
    rel,
    rel.map(() => 0),
  );
  return {
    n: rel.length,
    meanDiff: mean(pairs.map(([v, b]) => v - b)),
    effectPct: t.meanDiff,
    ci: bootstrapMeanCi(rel, options),
    p: t.p,
    sign: signTest(rel),
    mdePct: minimalDetectableEffect(std(rel), rel.length),
  };
}
