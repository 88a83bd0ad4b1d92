import { ALEXNET_ERRORS, BENCHMARK_CORRUPTIONS, type CorruptionName } from './constants.js';
import { CorruptionError } from './image.js';

/** Top-1 errors (fractions) of one model: per corruption, one value per severity 1..5. */
export type CorruptionErrors = Partial<Record<CorruptionName, readonly number[]>>;

/** A named baseline: its per-corruption errors (per severity, or the published mean as one value) and clean error. */
export interface Baseline {
  /** Name printed with every mCE (e.g. "AlexNet", "ResNet-18 trained here, seed 0"). */
  name: string;
  /** Per corruption: errors per severity, or a single published average. */
  errors: CorruptionErrors;
  /** Clean error (needed for relative mCE). */
  clean?: number;
}

/**
 * AlexNet's published averages over the five severities (ImageNet-C, [AX]); clean error 0.4345
 * as hard-coded by third-party evaluation code (not found in a primary source: check it against
 * Table 1 of arXiv 1903.12261 before reporting relative mCE).
 */
export const ALEXNET: Baseline = {
  name: 'AlexNet (ImageNet-C published averages)',
  errors: Object.fromEntries(
    Object.entries(ALEXNET_ERRORS).map(([k, v]) => [k, [v]]),
  ) as CorruptionErrors,
  clean: 0.4345,
};

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** mCE and relative mCE of a model against a named baseline, over the 15 benchmark corruptions. */
export interface MceResult {
  /** Baseline name. */
  baseline: string;
  /** CE_c = mean_s E(f, c, s) / mean_s E(base, c, s). */
  ce: Partial<Record<CorruptionName, number>>;
  /** Mean of CE_c over the corruptions present (the 15 benchmark ones unless `corruptions` says otherwise). */
  mce: number;
  /** Relative CE_c = (mean_s E − E_clean) / (mean_s E_base − E_base,clean), when both clean errors are known. */
  relativeCe?: Partial<Record<CorruptionName, number>>;
  /** Mean relative CE. */
  relativeMce?: number;
  /** Unnormalised mean error over the corruptions (for data sets without a baseline). */
  meanError: number;
}

/**
 * Corruption error (Hendrycks & Dietterich): CE_c = Σ_s E(f, c, s) / Σ_s E(base, c, s) (equivalently
 * with per-severity means when the baseline gives a published average), mCE = mean over the 15
 * benchmark corruptions; relative mCE subtracts the clean errors.
 *
 * @throws CorruptionError when a corruption lacks errors for the model or the baseline.
 */
export function mce(
  errors: CorruptionErrors,
  options: { baseline?: Baseline; clean?: number; corruptions?: readonly CorruptionName[] } = {},
): MceResult {
  const baseline = options.baseline ?? ALEXNET;
  const names = options.corruptions ?? BENCHMARK_CORRUPTIONS;
  const ce: Partial<Record<CorruptionName, number>> = {};
  const rel: Partial<Record<CorruptionName, number>> = {};
  const withRelative = options.clean !== undefined && baseline.clean !== undefined;
  for (const c of names) {
    const e = errors[c];
    const b = baseline.errors[c];
    if (!e?.length)
      throw new CorruptionError(`mce: no errors for "${c}" (give one value per severity)`);
    if (!b?.length)
      throw new CorruptionError(`mce: baseline "${baseline.name}" has no errors for "${c}"`);
    ce[c] = mean(e) / mean(b);
    if (withRelative)
      rel[c] = (mean(e) - (options.clean as number)) / (mean(b) - (baseline.clean as number));
  }
  const result: MceResult = {
    baseline: baseline.name,
    ce,
    mce: mean(names.map((c) => ce[c] as number)),
    meanError: mean(names.map((c) => mean(errors[c] as number[]))),
  };
  if (withRelative) {
    result.relativeCe = rel;
    result.relativeMce = mean(names.map((c) => rel[c] as number));
  }
  return result;
}
