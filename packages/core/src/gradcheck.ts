import * as tf from '@tensorflow/tfjs';
import { Rng } from './rng.js';

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  /** Finite-difference step (default 1e-2: float32 needs a large step). */
  eps?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Coordinates checked per input, chosen at random (default 24; all when the input is smaller). */
  samplesPerInput?: number;
  /** Seed for choosing coordinates. */
  seed?: number;
}

/** Worst disagreement found by {@link checkGradients}. */
export interface GradCheckResult {
  /** Whether every checked coordinate was within tolerance. */
  ok: boolean;
  /** Largest |analytic − numeric| over checked coordinates. */
  maxAbsError: number;
  /** Input index, flat coordinate, analytic and numeric value of the worst coordinate. */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
  /** Coordinates checked. */
  checked: number;
}

/**
 * Compares the gradients tfjs computes for a scalar function against central finite differences
 * `(f(x+εe_i) − f(x−εe_i)) / 2ε` on randomly chosen coordinates of each input. A coordinate passes
 * when `|analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|)`.
 *
 * @param f - scalar-valued function of the inputs (evaluated inside `tf.tidy`).
 * @param inputs - float32 tensors; not modified or disposed.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: GradCheckOptions = {},
): GradCheckResult {
  const eps = options.eps ?? 1e-2;
  const atol = options.atol ?? 1e-3;
  const rtol = options.rtol ?? 1e-2;
  const samples = options.samplesPerInput ?? 24;
  const rng = new Rng(options.seed ?? 0);
  const analytic = tf.tidy(() =>
    tf
      .grads((...xs: tf.Tensor[]) => f(...xs))(inputs)
      .map((g) => g.dataSync().slice()),
  );
  const values = inputs.map((x) => x.dataSync().slice() as Float32Array);
  const evalAt = (which: number, flat: Float32Array): number =>
    tf.tidy(() => {
      const xs = inputs.map((x, j) => (j === which ? tf.tensor(flat, x.shape, 'float32') : x));
      return f(...xs).dataSync()[0] as number;
    });
  let maxAbsError = 0;
  let worst: GradCheckResult['worst'] = null;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let ok = true;
  let checked = 0;
  inputs.forEach((_, which) => {
    const base = values[which] as Float32Array;
    const n = base.length;
    const idx =
      n <= samples ? [...Array(n).keys()] : rng.shuffle([...Array(n).keys()]).slice(0, samples);
    for (const i of idx) {
      const v = base[i] as number;
      const plus = base.slice();
      plus[i] = v + eps;
      const minus = base.slice();
      minus[i] = v - eps;
      const numeric = (evalAt(which, plus) - evalAt(which, minus)) / (2 * eps);
      const a = (analytic[which] as Float32Array)[i] as number;
      const err = Math.abs(a - numeric);
      const excess = err - (atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)));
      if (excess > 0) ok = false;
      maxAbsError = Math.max(maxAbsError, err);
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = { input: which, index: i, analytic: a, numeric };
      }
      checked++;
    }
  });
  return { ok, maxAbsError, worst, checked };
}

/**
 * Like {@link checkGradients} for a loss that reads `tf.Variable`s (a model, a router, an
 * expert bank): analytic gradients from `tf.variableGrads`, numeric ones by perturbing each
 * chosen coordinate of the variables in place (restored afterwards).
 */
export function checkVariableGradients(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  options: GradCheckOptions = {},
): GradCheckResult {
  const eps = options.eps ?? 1e-2;
  const atol = options.atol ?? 1e-3;
  const rtol = options.rtol ?? 1e-2;
  const samples = options.samplesPerInput ?? 24;
  const rng = new Rng(options.seed ?? 0);
  const { value, grads } = tf.variableGrads(loss, variables);
  const analytic = variables.map(
    (v) => (grads[v.name] as tf.Tensor).dataSync().slice() as Float32Array,
  );
  tf.dispose([value, ...Object.values(grads)]);
  const evalLoss = (): number => tf.tidy(() => loss().dataSync()[0] as number);
  let maxAbsError = 0;
  let worst: GradCheckResult['worst'] = null;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let ok = true;
  let checked = 0;
  variables.forEach((v, which) => {
    const base = v.dataSync().slice() as Float32Array;
    const n = base.length;
    const idx =
      n <= samples ? [...Array(n).keys()] : rng.shuffle([...Array(n).keys()]).slice(0, samples);
    const setTo = (values: Float32Array) =>
      tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
    try {
      for (const i of idx) {
        const probe = base.slice();
        probe[i] = (base[i] as number) + eps;
        setTo(probe);
        const plus = evalLoss();
        probe[i] = (base[i] as number) - eps;
        setTo(probe);
        const minus = evalLoss();
        const numeric = (plus - minus) / (2 * eps);
        const a = (analytic[which] as Float32Array)[i] as number;
        const err = Math.abs(a - numeric);
        const excess = err - (atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)));
        if (excess > 0) ok = false;
        maxAbsError = Math.max(maxAbsError, err);
        if (excess > worstExcess) {
          worstExcess = excess;
          worst = { input: which, index: i, analytic: a, numeric };
        }
        checked++;
      }
    } finally {
      setTo(base);
    }
  });
  return { ok, maxAbsError, worst, checked };
}
