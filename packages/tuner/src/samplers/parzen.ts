// Parzen estimators of TPE (spec tuner.md §4–7): per-dimension boxes, bandwidths (univariate
// neighbour rule with magic clip, or the 0.2 multivariate rule), truncated-normal kernels (per
// kernel, Optuna; or one normaliser for the whole mixture, hyperopt), categorical kernels, and
// candidate sampling (inverse CDF, or hyperopt's rejection sampling).
import { type Distribution, decimals } from '../distributions.js';
import { logGaussMass, logNormPdf, logSumExp, ndtr, truncnormPpf } from '../math.js';
import type { TunerRng } from '../random.js';

const math = Math;

/** How the estimator is built (set by the TPE presets). */
export interface ParzenOptions {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  /** The prior's μ counts as a neighbour for bandwidths (hyperopt, Optuna ≤ 4.8). */
  priorAsNeighbour: boolean;
  /** hyperopt's bandwidth rule (no padding, one observation → 0.5·σ₀). */
  hyperoptBandwidth: boolean;
  /** `kernel`: each kernel truncated to the box (Optuna); `mixture`: one normaliser (hyperopt). */
  truncation: 'kernel' | 'mixture';
  /** Optuna 3.1's quirk: continuous kernels without −ln σ. */
  omitLogSigma: boolean;
  /** Log-int as a discrete mass (Optuna ≥ 4.7) or continuous density then rounded (3.1). */
  logIntDiscrete: boolean;
  /** Multivariate bandwidth: `neighbour` per dimension (O5) or `scott` 0.2·N^(−1/(d+4))·R (O3.1–4.9). */
  multivariateBandwidth: 'neighbour' | 'scott';
  /** hyperopt's rejection sampling instead of the inverse CDF. */
  rejectionSampling: boolean;
}

/** Optuna ≥ 4.9's estimator settings (univariate neighbour bandwidths, per-kernel truncation). */
export const OPTUNA_PARZEN: ParzenOptions = {
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  priorAsNeighbour: false,
  hyperoptBandwidth: false,
  truncation: 'kernel',
  omitLogSigma: false,
  logIntDiscrete: true,
  multivariateBandwidth: 'neighbour',
  rejectionSampling: false,
};

/** Linear-forgetting weights of n observations, oldest first (§4). */
export function linearForgettingWeights(n: number, flat = 25): number[] {
  if (n === 0) return [];
  if (n < flat) return new Array(n).fill(1);
  const ramp = n - flat;
  const out: number[] = [];
  for (let i = 0; i < ramp; i++)
    out.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1));
  for (let i = 0; i < flat; i++) out.push(1);
  return out;
}

/** One numerical dimension in its transformed box. */
interface NumDim {
  kind: 'num';
  lo: number;
  hi: number;
  /** Grid step in the transformed space (stepped float / int), else null. */
  step: number | null;
  /** Log-int density mode: mass of [ln(x − ½), ln(x + ½)]. */
  logInt: boolean;
  log: boolean;
  dist: Distribution;
  mus: number[];
  sigmas: number[];
  /** ln(Φ(bᵢ) − Φ(aᵢ)) of each kernel over the box (its truncation normaliser), computed once. */
  logZ: number[];
}
interface CatDim {
  kind: 'cat';
  K: number;
  /** probs[i][c] of kernel i (the prior kernel last). */
  logProbs: number[][];
  probs: number[][];
}
type Dim = NumDim | CatDim;

/** The TPE box of a numerical distribution: [lo, hi] in the transformed space (§2). */
export function boxOf(
  d: Distribution,
  hyperopt = false,
): { lo: number; hi: number; step: number | null } {
  if (d.kind === 'categorical') throw new Error('boxOf: categorical');
  if (d.log) {
    if (d.kind === 'int' && !hyperopt)
      return { lo: math.log(d.low - 0.5), hi: math.log(d.high + 0.5), step: null };
    return { lo: math.log(d.low), hi: math.log(d.high), step: null };
  }
  const step = d.kind === 'int' ? d.step : d.step;
  if (step === null) return { lo: d.low, hi: d.high, step: null };
  if (hyperopt) return { lo: d.low, hi: d.high, step };
  return { lo: d.low - step / 2, hi: d.high + step / 2, step };
}

/** Univariate bandwidths of observation kernels (§5 steps 1–4); the prior's σ is set separately. */
export function univariateSigmas(
  mus: number[],
  lo: number,
  hi: number,
  o: ParzenOptions,
): number[] {
  const R = hi - lo;
  const n = mus.length;
  if (n === 0) return [];
  const prior = (lo + hi) / 2;
  let sigmas: number[];
  if (o.hyperoptBandwidth) {
    if (n === 1) sigmas = [0.5 * R];
    else {
      const pts = mus.map((m, i) => ({ m, i })).concat([{ m: prior, i: -1 }]);
      pts.sort((a, b) => a.m - b.m);
      sigmas = new Array(n).fill(0);
      pts.forEach((p, j) => {
        if (p.i < 0) return;
        const left = j > 0 ? p.m - (pts[j - 1] as { m: number }).m : Number.NaN;
        const right = j < pts.length - 1 ? (pts[j + 1] as { m: number }).m - p.m : Number.NaN;
        sigmas[p.i] = j === 0 ? right : j === pts.length - 1 ? left : math.max(left, right);
      });
    }
  } else {
    const pts = mus.map((m, i) => ({ m, i }));
    if (o.priorAsNeighbour) pts.push({ m: prior, i: -1 });
    pts.sort((a, b) => a.m - b.m);
    const P = pts.length;
    sigmas = new Array(n).fill(0);
    pts.forEach((p, j) => {
      if (p.i < 0) return;
      const left = p.m - (j > 0 ? (pts[j - 1] as { m: number }).m : lo);
      const right = (j < P - 1 ? (pts[j + 1] as { m: number }).m : hi) - p.m;
      let s: number;
      if (!o.considerEndpoints && P >= 2)
        s = j === 0 ? right : j === P - 1 ? left : math.max(left, right);
      else s = math.max(left, right);
      sigmas[p.i] = s;
    });
  }
  const minS = o.considerMagicClip ? R / math.min(100, n + 2) : 1e-12;
  return sigmas.map((s) => math.min(math.max(s, minS), R));
}

/**
 * A (product) Parzen estimator over one or more parameters: n observation kernels plus the prior
 * kernel, weights from linear forgetting and the prior weight. `logPdf` and `sample` work on
 * internal values (categorical: index).
 */
export class ParzenEstimator {
  private readonly dims: Dim[];
  private readonly logWeights: number[];
  private readonly weights: number[];
  private readonly n: number;

  constructor(
    observations: number[][],
    readonly distributions: Distribution[],
    readonly options: ParzenOptions,
  ) {
    const n = observations.length;
    this.n = n;
    // hyperopt's categorical estimator: p(k) ∝ Σ wᵢ·1[cᵢ = k] + K·pw·(1/K), i.e. one-hot kernels and a
    // uniform prior kernel of weight K·pw (hyperopt samples one parameter at a time).
    const hyperoptCat =
      options.hyperoptBandwidth &&
      distributions.length === 1 &&
      distributions[0]?.kind === 'categorical';
    const priorW = hyperoptCat
      ? options.priorWeight * (distributions[0] as { choices: unknown[] }).choices.length
      : options.priorWeight;
    const w = [...linearForgettingWeights(n), priorW];
    const total = w.reduce((a, b) => a + b, 0);
    this.weights = w.map((x) => x / total);
    this.logWeights = this.weights.map((x) => math.log(x));
    const d = distributions.length;
    this.dims = distributions.map((dist, j) => {
      const col = observations.map((row) => row[j] as number);
      if (dist.kind === 'categorical') {
        const K = dist.choices.length;
        const probs: number[][] = [];
        const pw = options.priorWeight;
        for (const c of col) {
          if (hyperoptCat) {
            probs.push(Array.from({ length: K }, (_, k) => (k === c ? 1 : 0)));
            continue;
          }
          const row = new Array(K).fill(pw / (n + 1));
          row[c] += 1;
          const s = 1 + (K * pw) / (n + 1);
          probs.push(row.map((v) => v / s));
        }
        probs.push(new Array(K).fill(1 / K));
        return { kind: 'cat', K, probs, logProbs: probs.map((r) => r.map((v) => math.log(v))) };
      }
      const hyperopt = options.rejectionSampling;
      const { lo, hi, step } = boxOf(dist, hyperopt);
      const logInt = dist.kind === 'int' && dist.log && options.logIntDiscrete && !hyperopt;
      const mus = col.map((v) => (dist.log ? math.log(v) : v));
      const R = hi - lo;
      let sigmas: number[];
      if (d > 1 && options.multivariateBandwidth === 'scott') {
        const s = 0.2 * math.max(n, 1) ** (-1 / (d + 4)) * R;
        const minS = options.considerMagicClip ? R / math.min(100, n + 2) : 1e-12;
        sigmas = mus.map(() => math.min(math.max(s, minS), R));
      } else sigmas = univariateSigmas(mus, lo, hi, options);
      const allMus = [...mus, (lo + hi) / 2];
      const allSigmas = [...sigmas, R];
      return {
        kind: 'num',
        lo,
        hi,
        step,
        logInt,
        log: dist.log,
        dist,
        mus: allMus,
        sigmas: allSigmas,
        logZ: allMus.map((m, i) =>
          logGaussMass((lo - m) / (allSigmas[i] as number), (hi - m) / (allSigmas[i] as number)),
        ),
      } satisfies NumDim;
    });
  }

  /** Number of observation kernels. */
  get observations(): number {
    return this.n;
  }

  /** ln of one kernel's density/mass at a transformed value of a numerical dimension. */
  private kernelLog(dim: NumDim, i: number, x: number): number {
    const mu = dim.mus[i] as number;
    const sigma = dim.sigmas[i] as number;
    const logZ = dim.logZ[i] as number;
    if (dim.logInt) {
      const v = math.exp(x);
      return (
        logGaussMass((math.log(v - 0.5) - mu) / sigma, (math.log(v + 0.5) - mu) / sigma) - logZ
      );
    }
    if (dim.step !== null) {
      const l = (math.max(x - dim.step / 2, dim.lo) - mu) / sigma;
      const h = (math.min(x + dim.step / 2, dim.hi) - mu) / sigma;
      return logGaussMass(l, h) - (this.options.truncation === 'kernel' ? logZ : 0);
    }
    if (x < dim.lo || x > dim.hi) return Number.NEGATIVE_INFINITY;
    const z = (x - mu) / sigma;
    return (
      logNormPdf(z) -
      (this.options.omitLogSigma ? 0 : math.log(sigma)) -
      (this.options.truncation === 'kernel' ? logZ : 0)
    );
  }

  /** ln of the mixture density at internal values (one row per parameter order). */
  logPdf(x: number[]): number {
    const K = this.weights.length;
    const terms = new Array(K);
    for (let i = 0; i < K; i++) {
      let s = this.logWeights[i] as number;
      for (let j = 0; j < this.dims.length; j++) {
        const dim = this.dims[j] as Dim;
        const v = x[j] as number;
        if (dim.kind === 'cat') s += (dim.logProbs[i] as number[])[v] as number;
        else s += this.kernelLog(dim, i, dim.log ? math.log(v) : v);
        if (s === Number.NEGATIVE_INFINITY) break;
      }
      terms[i] = s;
    }
    let lp = logSumExp(terms);
    if (this.options.truncation === 'mixture') {
      // hyperopt: one normaliser for the whole mixture, p_accept = Σ wᵢ (Φᵢ(hi) − Φᵢ(lo)), per numerical dimension
      // (its log-uniform density is not divided: a quirk kept).
      for (const dim of this.dims) {
        if (dim.kind === 'cat' || (dim.log && dim.step === null)) continue;
        let p = 0;
        for (let i = 0; i < K; i++) {
          const mu = dim.mus[i] as number;
          const s = dim.sigmas[i] as number;
          p += (this.weights[i] as number) * (ndtr((dim.hi - mu) / s) - ndtr((dim.lo - mu) / s));
        }
        lp -= math.log(p);
      }
    }
    return lp;
  }

  /** Draws `count` candidates (internal values, one row each). */
  sample(rng: TunerRng, count: number): number[][] {
    const out: number[][] = [];
    for (let c = 0; c < count; c++) {
      const i = rng.choice(this.weights);
      out.push(this.dims.map((dim) => this.sampleDim(dim, i, rng)));
    }
    return out;
  }

  private sampleDim(dim: Dim, i: number, rng: TunerRng): number {
    if (dim.kind === 'cat') return rng.choice(dim.probs[i] as number[]);
    const mu = dim.mus[i] as number;
    const sigma = dim.sigmas[i] as number;
    let t: number;
    if (this.options.rejectionSampling) {
      let tries = 0;
      do {
        t = mu + sigma * rng.normal();
        tries++;
      } while ((t < dim.lo || t >= dim.hi) && tries < 1000);
      t = math.min(math.max(t, dim.lo), dim.hi);
    } else {
      const a = (dim.lo - mu) / sigma;
      const b = (dim.hi - mu) / sigma;
      t = mu + sigma * truncnormPpf(rng.next(), a, b);
    }
    return fromTransformed(dim.dist, t);
  }
}

/** A transformed value back into the distribution: exp for log, snapped to the grid and clipped. */
export function fromTransformed(d: Distribution, t: number): number {
  if (d.kind === 'categorical') return t;
  let v = d.log ? math.exp(t) : t;
  const step = d.kind === 'int' ? d.step : d.step;
  if (step !== null) {
    // Snap to the grid and round to its decimals (0.15, not 0.15000000000000002).
    const places = math.min(15, math.max(decimals(d.low), decimals(step)));
    v = Number((d.low + math.round((v - d.low) / step) * step).toFixed(places));
  } else if (d.kind === 'int') v = math.round(v);
  v = math.min(math.max(v, d.low), d.high);
  if (d.kind === 'int') v = math.round(v);
  return v;
}
