// Samplers: random, and TPE faithful to hyperopt / Optuna (spec tuner.md §1, §3, §6, §8).
import { type Distribution, isSingle } from '../distributions.js';
import { TunerRng } from '../random.js';
import { type Direction, type FrozenTrial, lastStep } from '../trial.js';
import { boxOf, fromTransformed, ParzenEstimator, type ParzenOptions } from './parzen.js';

const math = Math;

/** What a sampler sees when it suggests. */
export interface SampleContext {
  /** Every trial of the study (the asking one included, RUNNING). */
  trials: FrozenTrial[];
  /** The asking trial. */
  trial: FrozenTrial;
  direction: Direction;
  /** Study seed. */
  seed: number;
}

/** A sampler: joint ("relative") suggestions at trial start, and one parameter at a time. */
export interface Sampler {
  readonly name: string;
  /** The joint search space to sample at the start of a trial (empty: none). */
  relativeSpace(ctx: SampleContext): Record<string, Distribution>;
  sampleRelative(ctx: SampleContext, space: Record<string, Distribution>): Record<string, number>;
  sampleIndependent(ctx: SampleContext, name: string, distribution: Distribution): number;
}

/** The generator of one suggestion: fixed by (seed, trial number, key). */
export function rngFor(ctx: SampleContext, key: string): TunerRng {
  return new TunerRng(`${ctx.seed}/${ctx.trial.number}/${key}`);
}

/** A uniform draw from a distribution (internal value). */
export function sampleUniform(d: Distribution, rng: TunerRng): number {
  if (d.kind === 'categorical') return math.floor(rng.next() * d.choices.length);
  const { lo, hi } = boxOf(d);
  return fromTransformed(d, rng.uniform(lo, hi));
}

/** Random search. */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  relativeSpace(): Record<string, Distribution> {
    return {};
  }
  sampleRelative(): Record<string, number> {
    return {};
  }
  sampleIndependent(ctx: SampleContext, name: string, d: Distribution): number {
    return sampleUniform(d, rngFor(ctx, name));
  }
}

/** TPE presets (§1). */
export type TpePreset = 'hyperopt' | 'optuna-3.1' | 'optuna-4.9' | 'optuna-5';

/** TPE options; a preset fixes the defaults. */
export interface TpeOptions {
  preset?: TpePreset;
  nStartupTrials?: number;
  nEiCandidates?: number;
  /** Good-set size from the number of observations. */
  gamma?: (n: number) => number;
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  multivariate?: boolean;
  constantLiar?: boolean;
}

/** Optuna's `default_gamma`: min(⌈0.1·n⌉, 25). */
export const optunaGamma = (n: number) => math.min(math.ceil(0.1 * n), 25);
/** hyperopt's gamma: min(⌈0.25·√n⌉, 25). */
export const hyperoptGamma = (n: number) => math.min(math.ceil(0.25 * math.sqrt(n)), 25);

function presetOptions(preset: TpePreset): Required<Omit<TpeOptions, 'preset'>> & ParzenOptions {
  const common = {
    nEiCandidates: 24,
    priorWeight: 1,
    considerMagicClip: true,
    considerEndpoints: false,
    truncation: 'kernel' as const,
    omitLogSigma: false,
    logIntDiscrete: true,
    multivariateBandwidth: 'scott' as const,
    rejectionSampling: false,
    hyperoptBandwidth: false,
  };
  switch (preset) {
    case 'hyperopt':
      return {
        ...common,
        nStartupTrials: 20,
        gamma: hyperoptGamma,
        priorAsNeighbour: true,
        hyperoptBandwidth: true,
        truncation: 'mixture',
        rejectionSampling: true,
        multivariate: false,
        constantLiar: true,
      };
    case 'optuna-3.1':
      return {
        ...common,
        nStartupTrials: 10,
        gamma: optunaGamma,
        priorAsNeighbour: true,
        omitLogSigma: true,
        logIntDiscrete: false,
        multivariate: false,
        constantLiar: false,
      };
    case 'optuna-4.9':
      return {
        ...common,
        nStartupTrials: 10,
        gamma: optunaGamma,
        priorAsNeighbour: false,
        multivariate: false,
        constantLiar: false,
      };
    case 'optuna-5':
      return {
        ...common,
        nStartupTrials: 10,
        gamma: optunaGamma,
        priorAsNeighbour: false,
        multivariateBandwidth: 'neighbour',
        multivariate: true,
        constantLiar: true,
      };
  }
}

/** Loss to minimise of a finished trial (sign flipped when maximising). */
const lossOf = (t: FrozenTrial, direction: Direction) =>
  direction === 'maximize' ? -(t.value as number) : (t.value as number);

/**
 * Splits trials into good (l) and bad (g) sets (§3): COMPLETE by loss, then PRUNED by (−last step,
 * value there), stable on ties; the first gamma(N) are good. With the constant liar, RUNNING trials
 * of other workers join the bad set (hyperopt: as +∞ losses that count in N).
 */
export function splitTrials(
  trials: FrozenTrial[],
  direction: Direction,
  gamma: (n: number) => number,
  options: { constantLiar: boolean; hyperoptLiar?: boolean; exclude?: number },
): { good: FrozenTrial[]; bad: FrozenTrial[]; n: number } {
  type Keyed = { t: FrozenTrial; key: [number, number, number] };
  const keyed: Keyed[] = [];
  const running: FrozenTrial[] = [];
  for (const t of trials) {
    if (t.number === options.exclude) continue;
    if (t.state === 'COMPLETE' && t.value !== null)
      keyed.push({ t, key: [0, lossOf(t, direction), 0] });
    else if (t.state === 'PRUNED') {
      const s = lastStep(t);
      if (s === null) keyed.push({ t, key: [1, 1, 0] });
      else {
        let v = t.intermediate[s] as number;
        if (direction === 'maximize') v = -v;
        keyed.push({ t, key: [1, -s, Number.isNaN(v) ? Number.POSITIVE_INFINITY : v] });
      }
    } else if (t.state === 'RUNNING' && options.constantLiar) running.push(t);
  }
  if (options.hyperoptLiar)
    for (const t of running) keyed.push({ t, key: [0, Number.POSITIVE_INFINITY, 0] });
  const n = keyed.length;
  const order = keyed
    .map((k, i) => ({ ...k, i }))
    .sort(
      (a, b) =>
        a.key[0] - b.key[0] || cmp(a.key[1], b.key[1]) || cmp(a.key[2], b.key[2]) || a.i - b.i,
    );
  const nBelow = gamma(n);
  const good = order.slice(0, nBelow).map((k) => k.t);
  const bad = order.slice(nBelow).map((k) => k.t);
  if (!options.hyperoptLiar) bad.push(...running);
  const byNumber = (a: FrozenTrial, b: FrozenTrial) => a.number - b.number;
  return { good: good.sort(byNumber), bad: bad.sort(byNumber), n };
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Tree-structured Parzen Estimator: random for the first `nStartupTrials`, then for each parameter
 * (or the joint space in multivariate mode) 24 candidates drawn from l(x), the good trials'
 * estimator, and the one maximising ln l(x) − ln g(x) is suggested.
 */
export class TpeSampler implements Sampler {
  readonly name: string;
  private readonly o: Required<Omit<TpeOptions, 'preset'>> & ParzenOptions;

  constructor(options: TpeOptions = {}) {
    const preset = options.preset ?? 'optuna-5';
    this.name = `tpe:${preset}`;
    const base = presetOptions(preset);
    const defined = Object.fromEntries(
      Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'preset'),
    );
    this.o = { ...base, ...defined } as typeof this.o;
  }

  private split(ctx: SampleContext) {
    return splitTrials(ctx.trials, ctx.direction, this.o.gamma, {
      constantLiar: this.o.constantLiar,
      hyperoptLiar: this.o.rejectionSampling,
      exclude: ctx.trial.number,
    });
  }

  relativeSpace(ctx: SampleContext): Record<string, Distribution> {
    if (!this.o.multivariate) return {};
    // Intersection of the distributions of COMPLETE and PRUNED trials, minus single values.
    let space: Record<string, Distribution> | null = null;
    for (const t of ctx.trials) {
      if (t.state !== 'COMPLETE' && t.state !== 'PRUNED') continue;
      if (space === null) space = { ...t.distributions };
      else
        for (const k of Object.keys(space))
          if (
            !t.distributions[k] ||
            JSON.stringify(t.distributions[k]) !== JSON.stringify(space[k])
          )
            delete space[k];
    }
    const out: Record<string, Distribution> = {};
    for (const [k, d] of Object.entries(space ?? {})) if (!isSingle(d)) out[k] = d;
    return out;
  }

  sampleRelative(ctx: SampleContext, space: Record<string, Distribution>): Record<string, number> {
    const names = Object.keys(space).sort();
    if (!names.length) return {};
    const { good, bad, n } = this.split(ctx);
    if (n < this.o.nStartupTrials) return {};
    const has = (t: FrozenTrial) => names.every((k) => k in t.params);
    const obs = (ts: FrozenTrial[]) =>
      ts.filter(has).map((t) => names.map((k) => t.params[k] as number));
    const dists = names.map((k) => space[k] as Distribution);
    const best = this.choose(
      obs(good),
      obs(bad),
      dists,
      rngFor(ctx, `relative:${names.join(',')}`),
    );
    return Object.fromEntries(names.map((k, j) => [k, best[j] as number]));
  }

  sampleIndependent(ctx: SampleContext, name: string, d: Distribution): number {
    const { good, bad, n } = this.split(ctx);
    const rng = rngFor(ctx, name);
    if (n < this.o.nStartupTrials) return sampleUniform(d, rng);
    const obs = (ts: FrozenTrial[]) =>
      ts.filter((t) => name in t.params).map((t) => [t.params[name] as number]);
    return this.choose(obs(good), obs(bad), [d], rng)[0] as number;
  }

  private choose(
    good: number[][],
    bad: number[][],
    dists: Distribution[],
    rng: TunerRng,
  ): number[] {
    const l = new ParzenEstimator(good, dists, this.o);
    const g = new ParzenEstimator(bad, dists, this.o);
    const candidates = l.sample(rng, this.o.nEiCandidates);
    let best = candidates[0] as number[];
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const c of candidates) {
      const s = l.logPdf(c) - g.logPdf(c);
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    return best;
  }
}
