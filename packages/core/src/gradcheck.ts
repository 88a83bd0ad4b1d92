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
 * The shared finite-difference loop: for randomly chosen coordinates of each input, compares the
 * analytic gradient with `(f(x + εe_i) − f(x − εe_i)) / 2ε`, where `lossAt(which, i, value)`
 * evaluates the loss with coordinate i of input `which` set to `value`.
 */
function compareWithFiniteDifferences(
  analytic: Float32Array[],
  base: Float32Array[],
  lossAt: (which: number, index: number, value: number) => number,
  options: GradCheckOptions,
): GradCheckResult {
  const eps = options.eps ?? 1e-2;
  const atol = options.atol ?? 1e-3;
  const rtol = options.rtol ?? 1e-2;
  const samples = options.samplesPerInput ?? 24;
  const rng = new Rng(options.seed ?? 0);
  let maxAbsError = 0;
  let worst: GradCheckResult['worst'] = null;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let ok = true;
  let checked = 0;
  base.forEach((values, which) => {
    const n = values.length;
    const idx =
      n <= samples ? [...Array(n).keys()] : rng.shuffle([...Array(n).keys()]).slice(0, samples);
    for (const i of idx) {
      const v = values[i] as number;
      const numeric = (lossAt(which, i, v + eps) - lossAt(which, i, v - eps)) / (2 * eps);
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
  const analytic = tf.tidy(() =>
    tf
      .grads((...xs: tf.Tensor[]) => f(...xs))(inputs)
      .map((g) => g.dataSync().slice() as Float32Array),
  );
  const values = inputs.map((x) => x.dataSync().slice() as Float32Array);
  const lossAt = (which: number, index: number, value: number): number =>
    tf.tidy(() => {
      const probe = (values[which] as Float32Array).slice();
      probe[index] = value;
      const xs = inputs.map((x, j) => (j === which ? tf.tensor(probe, x.shape, 'float32') : x));
      return f(...xs).dataSync()[0] as number;
    });
  return compareWithFiniteDifferences(analytic, values, lossAt, options);
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
  const { value, grads } = tf.variableGrads(loss, variables);
  const analytic = variables.map(
    (v) => (grads[v.name] as tf.Tensor).dataSync().slice() as Float32Array,
  );
  tf.dispose([value, ...Object.values(grads)]);
  const values = variables.map((v) => v.dataSync().slice() as Float32Array);
  const setTo = (v: tf.Variable, data: Float32Array) =>
    tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
  const lossAt = (which: number, index: number, x: number): number => {
    const v = variables[which] as tf.Variable;
    const probe = (values[which] as Float32Array).slice();
    probe[index] = x;
    setTo(v, probe);
    try {
      return tf.tidy(() => loss().dataSync()[0] as number);
    } finally {
      setTo(v, values[which] as Float32Array);
    }
  };
  return compareWithFiniteDifferences(analytic, values, lossAt, options);
}
