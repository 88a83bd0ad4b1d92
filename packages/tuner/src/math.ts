// Normal distribution helpers in double precision: Φ, ln Φ (accurate in the far left tail), Φ⁻¹,
// log-masses of intervals, and logsumexp. Plain JS, no dependencies.
const math = Math;
const SQRT2 = math.SQRT2;
const LN_SQRT_2PI = 0.5 * math.log(2 * math.PI);

/** Standard normal CDF Φ(x), accurate to ~1e-15 absolute via the W. J. Cody algorithm (as in scipy's ndtr). */
export function ndtr(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const z = x / SQRT2;
  if (math.abs(z) < 0.5) return 0.5 + 0.5 * erfSmall(z);
  const c = erfcCody(math.abs(z));
  return z > 0 ? 1 - 0.5 * c : 0.5 * c;
}

// erf for |x| < 0.5 (Cody's rational approximation).
function erfSmall(x: number): number {
  const a = [
    3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694,
    0.18577770618460315,
  ];
  const b = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
  const z = x * x;
  let num = (a[4] as number) * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + (a[i] as number)) * z;
    den = (den + (b[i] as number)) * z;
  }
  return (x * (num + (a[3] as number))) / (den + (b[3] as number));
}

// erfc for x ≥ 0.5 (Cody), relative accuracy ~1e-16.
function erfcCody(x: number): number {
  if (x > 26.6) return 0;
  let r: number;
  if (x <= 4) {
    const c = [
      0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769,
      1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
    ];
    const d = [
      15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903,
      3290.7992357334597, 4362.619090143247, 3439.3676741437216, 1230.3393548037495,
    ];
    let num = (c[8] as number) * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + (c[i] as number)) * x;
      den = (den + (d[i] as number)) * x;
    }
    r = (num + (c[7] as number)) / (den + (d[7] as number));
  } else {
    const p = [
      0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275,
      0.0006587491615298378, 0.016315387137302097,
    ];
    const q = [
      2.568520192289822, 1.8729528499234673, 0.5279051029514285, 0.06051834131244132,
      0.0023352049762686918,
    ];
    const z = 1 / (x * x);
    let num = (p[5] as number) * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + (p[i] as number)) * z;
      den = (den + (q[i] as number)) * z;
    }
    r = (z * (num + (p[4] as number))) / (den + (q[4] as number));
    r = (1 / math.sqrt(math.PI) - r) / x;
  }
  // exp(-x²) split to keep precision.
  const xs = math.trunc(x * 16) / 16;
  const del = (x - xs) * (x + xs);
  return math.exp(-xs * xs) * math.exp(-del) * r;
}

/** ln Φ(x), accurate for very negative x (asymptotic series below −20). */
export function logNdtr(x: number): number {
  if (x > 6) return -ndtr(-x); // ln(1 − ε) ≈ −ε
  if (x > -20) return math.log(ndtr(x));
  // ln Φ(x) = −x²/2 − ln(−x) − ½ ln 2π + ln(1 − 1/x² + 3/x⁴ − 15/x⁶ …)
  const x2 = x * x;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 8; k++) {
    term *= -(2 * k - 1) / x2;
    sum += term;
  }
  return -0.5 * x2 - math.log(-x) - LN_SQRT_2PI + math.log(sum);
}

/** Φ⁻¹(p): Acklam's rational approximation plus one Halley step (relative error ~1e-15). */
export function ndtri(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const plow = 0.02425;
  let x: number;
  if (p < plow) {
    const q = math.sqrt(-2 * math.log(p));
    x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - plow) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = math.sqrt(-2 * math.log(1 - p));
    x =
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  // One Halley refinement step.
  const e = ndtr(x) - p;
  const u = e * math.sqrt(2 * math.PI) * math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** ln(exp(a) − exp(b)) for a ≥ b. */
function logDiffExp(a: number, b: number): number {
  if (b === Number.NEGATIVE_INFINITY) return a;
  if (a <= b) return Number.NEGATIVE_INFINITY;
  return a + math.log1p(-math.exp(b - a));
}

/** ln(Φ(b) − Φ(a)) for a ≤ b, stable in both tails (as Optuna's `_log_gauss_mass`). */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiffExp(logNdtr(b), logNdtr(a)); // left tail
  if (a > 0) return logDiffExp(logNdtr(-a), logNdtr(-b)); // right tail, by symmetry
  // central: 1 − Φ(a) − Φ(−b)
  return math.log1p(-ndtr(a) - ndtr(-b));
}

/** ln of the standard normal density. */
export function logNormPdf(z: number): number {
  return -0.5 * z * z - LN_SQRT_2PI;
}

/** logsumexp of values (−∞ when all are −∞). */
export function logSumExp(xs: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) if ((xs[i] as number) > m) m = xs[i] as number;
  if (m === Number.NEGATIVE_INFINITY) return m;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += math.exp((xs[i] as number) - m);
  return m + math.log(s);
}

/** Inverse CDF of N(0,1) truncated to [a, b] at u ∈ [0, 1], computed on the left tail in log space (mirrored when a ≥ 0). */
export function truncnormPpf(u: number, a: number, b: number): number {
  if (a === b) return a;
  if (a >= 0) return -truncnormPpf(1 - u, -b, -a);
  const la = logNdtr(a);
  const lb = logNdtr(b);
  const lp = la + math.log1p(u * math.expm1(lb - la));
  const x = ndtri(math.exp(lp));
  return math.min(math.max(x, a), b);
}
