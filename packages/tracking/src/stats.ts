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
