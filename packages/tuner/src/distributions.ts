// Parameter distributions (Optuna's FloatDistribution, IntDistribution, CategoricalDistribution):
// validation, internal ↔ external values, the TPE box, and Optuna's JSON form.
const math = Math;

/** A categorical choice value. */
export type Choice = null | boolean | number | string;

/** A float parameter: uniform, log-uniform or stepped. */
export interface FloatDistribution {
  kind: 'float';
  low: number;
  high: number;
  log: boolean;
  step: number | null;
}
/** An integer parameter: uniform or log-uniform, with a step. */
export interface IntDistribution {
  kind: 'int';
  low: number;
  high: number;
  log: boolean;
  step: number;
}
/** A categorical parameter; its internal value is the choice index. */
export interface CategoricalDistribution {
  kind: 'categorical';
  choices: Choice[];
}
/** Any distribution. */
export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;

/** An invalid search space or parameter; the message names the parameter and the rule. */
export class SearchSpaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchSpaceError';
  }
}

/** Decimal places of a number as written (`0.05` → 2, `1e-5` → 5). */
export function decimals(v: number): number {
  const s = String(v);
  const e = s.match(/e-(\d+)$/);
  if (e) return Number(e[1]) + (s.split('e')[0]?.split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

/** high lowered to low + ⌊(high − low)/step⌋·step, in decimal arithmetic (Optuna `_adjust_discrete_uniform_high`). */
function adjustHigh(low: number, high: number, step: number): number {
  const digits = decimals;
  const scale = 10 ** math.max(digits(low), digits(high), digits(step));
  const [l, h, st] = [math.round(low * scale), math.round(high * scale), math.round(step * scale)];
  const r = (h - l) % st;
  return r === 0 ? high : (h - r) / scale;
}

/** Validates a float distribution (names the parameter on error). */
export function floatDistribution(
  name: string,
  low: number,
  high: number,
  options: { log?: boolean; step?: number | null } = {},
): FloatDistribution {
  const log = options.log ?? false;
  const step = options.step ?? null;
  if (!Number.isFinite(low) || !Number.isFinite(high))
    throw new SearchSpaceError(
      `parameter "${name}": low and high must be finite, got ${low}, ${high}`,
    );
  if (low > high)
    throw new SearchSpaceError(`parameter "${name}": low (${low}) must be ≤ high (${high})`);
  if (log && step !== null)
    throw new SearchSpaceError(`parameter "${name}": step is not allowed with log`);
  if (log && low <= 0)
    throw new SearchSpaceError(`parameter "${name}": log needs low > 0, got ${low}`);
  if (step !== null && !(step > 0))
    throw new SearchSpaceError(`parameter "${name}": step must be > 0, got ${step}`);
  return {
    kind: 'float',
    low,
    high: step !== null ? adjustHigh(low, high, step) : high,
    log,
    step,
  };
}

/** Validates an int distribution. */
export function intDistribution(
  name: string,
  low: number,
  high: number,
  options: { log?: boolean; step?: number } = {},
): IntDistribution {
  const log = options.log ?? false;
  const step = options.step ?? 1;
  if (!Number.isInteger(low) || !Number.isInteger(high))
    throw new SearchSpaceError(
      `parameter "${name}": low and high must be integers, got ${low}, ${high}`,
    );
  if (low > high)
    throw new SearchSpaceError(`parameter "${name}": low (${low}) must be ≤ high (${high})`);
  if (!Number.isInteger(step) || step < 1)
    throw new SearchSpaceError(`parameter "${name}": step must be an integer ≥ 1, got ${step}`);
  if (log && step !== 1)
    throw new SearchSpaceError(`parameter "${name}": log needs step 1, got ${step}`);
  if (log && low < 1)
    throw new SearchSpaceError(`parameter "${name}": log needs low ≥ 1, got ${low}`);
  return { kind: 'int', low, high: low + math.floor((high - low) / step) * step, log, step };
}

/** Validates a categorical distribution. */
export function categoricalDistribution(name: string, choices: Choice[]): CategoricalDistribution {
  if (!Array.isArray(choices) || choices.length === 0)
    throw new SearchSpaceError(`parameter "${name}": choices must be a non-empty array`);
  for (const c of choices)
    if (!(c === null || ['boolean', 'number', 'string'].includes(typeof c)))
      throw new SearchSpaceError(
        `parameter "${name}": choice ${JSON.stringify(c)} is not null, a boolean, a number or a string`,
      );
  return { kind: 'categorical', choices: [...choices] };
}

/** Whether the distribution has a single possible value (never sampled). */
export function isSingle(d: Distribution): boolean {
  if (d.kind === 'categorical') return d.choices.length === 1;
  if (d.kind === 'int') return d.low === d.high;
  return d.low === d.high || (d.step !== null && d.high - d.low < d.step);
}

/** The internal (float) representation of an external value: categorical → index, else the number. */
export function toInternal(d: Distribution, value: unknown): number {
  if (d.kind === 'categorical') {
    const i = d.choices.findIndex((c) => c === value || (Number.isNaN(c) && Number.isNaN(value)));
    if (i < 0)
      throw new SearchSpaceError(`value ${JSON.stringify(value)} is not one of the choices`);
    return i;
  }
  return value as number;
}

/** The external value of an internal one. */
export function toExternal(d: Distribution, internal: number): Choice {
  if (d.kind === 'categorical') return d.choices[internal] as Choice;
  if (d.kind === 'int') return math.round(internal);
  return internal;
}

/** Whether an internal value lies in the distribution. */
export function contains(d: Distribution, internal: number): boolean {
  if (d.kind === 'categorical')
    return Number.isInteger(internal) && internal >= 0 && internal < d.choices.length;
  if (!(internal >= d.low && internal <= d.high)) return false;
  if (d.kind === 'int' || d.step !== null) {
    const step = d.kind === 'int' ? d.step : (d.step as number);
    const k = (internal - d.low) / step;
    return math.abs(k - math.round(k)) < 1e-8;
  }
  return true;
}

/** Two distributions are compatible when they have the same kind (and, categorical, the same choices). */
export function compatible(a: Distribution, b: Distribution): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'categorical')
    return JSON.stringify(a.choices) === JSON.stringify((b as CategoricalDistribution).choices);
  return a.log === (b as FloatDistribution).log;
}

/** Optuna's `distribution_to_json` string. */
export function distributionToJson(d: Distribution): string {
  if (d.kind === 'categorical')
    return JSON.stringify({ name: 'CategoricalDistribution', attributes: { choices: d.choices } });
  if (d.kind === 'int')
    return JSON.stringify({
      name: 'IntDistribution',
      attributes: { log: d.log, step: d.step, low: d.low, high: d.high },
    });
  return `{"name": "FloatDistribution", "attributes": {"step": ${d.step === null ? 'null' : pyFloat(d.step)}, "low": ${pyFloat(d.low)}, "high": ${pyFloat(d.high)}, "log": ${d.log}}}`;
}

/** Parses Optuna's distribution JSON (also the legacy Uniform/LogUniform/DiscreteUniform/Int names). */
export function distributionFromJson(json: string): Distribution {
  const o = JSON.parse(json) as { name: string; attributes: Record<string, unknown> };
  const a = o.attributes;
  switch (o.name) {
    case 'FloatDistribution':
      return {
        kind: 'float',
        low: a.low as number,
        high: a.high as number,
        log: Boolean(a.log),
        step: (a.step as number | null) ?? null,
      };
    case 'UniformDistribution':
      return {
        kind: 'float',
        low: a.low as number,
        high: a.high as number,
        log: false,
        step: null,
      };
    case 'LogUniformDistribution':
      return { kind: 'float', low: a.low as number, high: a.high as number, log: true, step: null };
    case 'DiscreteUniformDistribution':
      return {
        kind: 'float',
        low: a.low as number,
        high: a.high as number,
        log: false,
        step: a.q as number,
      };
    case 'IntDistribution':
      return {
        kind: 'int',
        low: a.low as number,
        high: a.high as number,
        log: Boolean(a.log),
        step: (a.step as number) ?? 1,
      };
    case 'IntUniformDistribution':
      return {
        kind: 'int',
        low: a.low as number,
        high: a.high as number,
        log: false,
        step: (a.step as number) ?? 1,
      };
    case 'IntLogUniformDistribution':
      return { kind: 'int', low: a.low as number, high: a.high as number, log: true, step: 1 };
    case 'CategoricalDistribution':
      return { kind: 'categorical', choices: a.choices as Choice[] };
    default:
      throw new SearchSpaceError(`unknown distribution "${o.name}"`);
  }
}

/** A float as Python's json writes it: always with a decimal point or exponent; NaN/Infinity as bare tokens. */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  // Python's repr: shortest round-trip digits, scientific when the exponent is < −4 or ≥ 16.
  const [mantissa, e] = v.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 16)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(math.abs(exp)).padStart(2, '0')}`;
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
