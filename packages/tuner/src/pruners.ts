// Pruners (spec tuner.md §9): median / percentile, successive halving (ASHA), Hyperband.
import { type Direction, type FrozenTrial, lastStep } from './trial.js';

const math = Math;

/** What a pruner sees. */
export interface PruneContext {
  /** All trials of the study. */
  trials: FrozenTrial[];
  /** The trial asking (with its intermediate values). */
  trial: FrozenTrial;
  direction: Direction;
  studyName: string;
  /** Writes a system attribute of the asking trial (ASHA rungs). */
  setSystemAttr(key: string, value: unknown): Promise<void>;
}

/** Decides whether a running trial should stop early. */
export interface Pruner {
  readonly name: string;
  prune(ctx: PruneContext): Promise<boolean>;
}

/** Never prunes. */
export class NopPruner implements Pruner {
  readonly name = 'nop';
  async prune(): Promise<boolean> {
    return false;
  }
}

/** NaN-ignoring, linearly interpolated percentile (numpy's default). */
export function nanPercentile(values: number[], p: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  const pos = (p / 100) * (v.length - 1);
  const lo = math.floor(pos);
  const hi = math.ceil(pos);
  return (v[lo] as number) + ((v[hi] as number) - (v[lo] as number)) * (pos - lo);
}

/** Options of {@link PercentilePruner}. */
export interface PercentileOptions {
  nStartupTrials?: number;
  nWarmupSteps?: number;
  intervalSteps?: number;
  nMinTrials?: number;
}

/**
 * Prunes when the trial's best value so far is worse than the p-th percentile (100 − p when
 * maximising) of COMPLETE trials' values at the same step (Optuna's `PercentilePruner`).
 */
export class PercentilePruner implements Pruner {
  readonly name: string;
  private readonly o: Required<PercentileOptions>;

  constructor(
    readonly percentile: number,
    options: PercentileOptions = {},
  ) {
    if (!(percentile >= 0 && percentile <= 100))
      throw new Error(`PercentilePruner: percentile must be in [0, 100], got ${percentile}`);
    this.name = `percentile(${percentile})`;
    this.o = { nStartupTrials: 5, nWarmupSteps: 0, intervalSteps: 1, nMinTrials: 1, ...options };
  }

  async prune(ctx: PruneContext): Promise<boolean> {
    const step = lastStep(ctx.trial);
    if (step === null) return false;
    const complete = ctx.trials.filter((t) => t.state === 'COMPLETE');
    if (complete.length < math.max(this.o.nStartupTrials, 1)) return false;
    if (step < this.o.nWarmupSteps) return false;
    // Only at the first reported step of each interval.
    const steps = Object.keys(ctx.trial.intermediate).map(Number);
    const interval = this.o.intervalSteps;
    if (interval > 1) {
      const bucket = math.floor((step - this.o.nWarmupSteps) / interval);
      if (
        steps.some(
          (s) =>
            s !== step &&
            s >= this.o.nWarmupSteps &&
            math.floor((s - this.o.nWarmupSteps) / interval) === bucket,
        )
      )
        return false;
    }
    const values = steps
      .map((s) => ctx.trial.intermediate[s] as number)
      .filter((v) => !Number.isNaN(v));
    if (!values.length) return true;
    const max = ctx.direction === 'maximize';
    const best = max ? math.max(...values) : math.min(...values);
    const others = complete
      .map((t) => t.intermediate[step])
      .filter((v): v is number => v !== undefined);
    if (others.length < this.o.nMinTrials) return false;
    const threshold = nanPercentile(others, max ? 100 - this.percentile : this.percentile);
    if (Number.isNaN(threshold)) return false;
    return max ? best < threshold : best > threshold;
  }
}

/** The median pruner (percentile 50). */
export class MedianPruner extends PercentilePruner {
  constructor(options: PercentileOptions = {}) {
    super(50, options);
    (this as { name: string }).name = 'median';
  }
}

/** Options of {@link SuccessiveHalvingPruner}. */
export interface SuccessiveHalvingOptions {
  /** Resource of the first rung; `auto` = max(last step of COMPLETE trials // 100, 1). */
  minResource?: number | 'auto';
  reductionFactor?: number;
  minEarlyStoppingRate?: number;
  bootstrapCount?: number;
}

/** Asynchronous successive halving (ASHA), as Optuna's `SuccessiveHalvingPruner`. */
export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'successive-halving';
  private readonly o: Required<SuccessiveHalvingOptions>;

  constructor(options: SuccessiveHalvingOptions = {}) {
    this.o = {
      minResource: 'auto',
      reductionFactor: 4,
      minEarlyStoppingRate: 0,
      bootstrapCount: 0,
      ...options,
    };
    if (this.o.reductionFactor < 2)
      throw new Error('SuccessiveHalvingPruner: reductionFactor must be ≥ 2');
  }

  /** Rung values of trials (system attrs `completed_rung_k`). */
  async prune(ctx: PruneContext, trialsForRungs = ctx.trials): Promise<boolean> {
    const step = lastStep(ctx.trial);
    if (step === null) return false;
    let value = ctx.trial.intermediate[step] as number;
    if (Number.isNaN(value)) return true;
    let minResource = this.o.minResource;
    if (minResource === 'auto') {
      const complete = ctx.trials.filter((t) => t.state === 'COMPLETE');
      if (!complete.length) return false;
      minResource = math.max(
        math.floor(math.max(...complete.map((t) => lastStep(t) ?? 0)) / 100),
        1,
      );
    }
    const eta = this.o.reductionFactor;
    const attrs = ctx.trial.systemAttrs;
    let rung = 0;
    while (`completed_rung_${rung}` in attrs) rung++;
    const max = ctx.direction === 'maximize';
    while (true) {
      const needed = minResource * eta ** (this.o.minEarlyStoppingRate + rung);
      if (step < needed) return false;
      const key = `completed_rung_${rung}`;
      await ctx.setSystemAttr(key, value);
      attrs[key] = value;
      const competitors = trialsForRungs
        .filter((t) => t.number !== ctx.trial.number)
        .map((t) => t.systemAttrs[key])
        .filter((v): v is number => typeof v === 'number');
      competitors.push(value);
      if (competitors.length <= this.o.bootstrapCount) return true;
      const sorted = competitors
        .filter((v) => !Number.isNaN(v))
        .sort((a, b) => (max ? b - a : a - b));
      const keep = math.max(math.floor(competitors.length / eta), 1);
      const cutoff = sorted[keep - 1] as number;
      if (max ? value < cutoff : value > cutoff) return true;
      rung++;
      value = ctx.trial.intermediate[step] as number;
    }
  }
}

/** CRC-32 (IEEE) of a string's UTF-8 bytes, as Python's `binascii.crc32` (Hyperband's bracket hash). */
export function crc32(text: string): number {
  const bytes = new TextEncoder().encode(text);
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Hyperband: brackets of successive halving with different early-stopping rates (Optuna's `HyperbandPruner`). */
export class HyperbandPruner implements Pruner {
  readonly name = 'hyperband';
  constructor(
    private readonly options: {
      minResource?: number;
      maxResource?: number | 'auto';
      reductionFactor?: number;
    } = {},
  ) {}

  async prune(ctx: PruneContext): Promise<boolean> {
    const eta = this.options.reductionFactor ?? 3;
    const minR = this.options.minResource ?? 1;
    let maxR = this.options.maxResource ?? 'auto';
    if (maxR === 'auto') {
      const complete = ctx.trials.filter((t) => t.state === 'COMPLETE');
      if (!complete.length) return false;
      maxR = math.max(...complete.map((t) => lastStep(t) ?? 0)) + 1;
    }
    const nBrackets = math.floor(math.log(maxR / minR) / math.log(eta) + 1e-9) + 1;
    const budgets = Array.from({ length: nBrackets }, (_, b) => {
      const s = nBrackets - 1 - b;
      return math.ceil((nBrackets * eta ** s) / (s + 1));
    });
    const bracketOf = (number: number) => {
      let h = crc32(`${ctx.studyName}_${number}`) % budgets.reduce((a, b) => a + b, 0);
      for (let b = 0; b < nBrackets; b++) {
        h -= budgets[b] as number;
        if (h < 0) return b;
      }
      return nBrackets - 1;
    };
    const bracket = bracketOf(ctx.trial.number);
    const sh = new SuccessiveHalvingPruner({
      minResource: minR,
      reductionFactor: eta,
      minEarlyStoppingRate: bracket,
    });
    // Competitors are the trials of the same bracket only.
    return sh.prune(
      ctx,
      ctx.trials.filter((t) => bracketOf(t.number) === bracket),
    );
  }
}
