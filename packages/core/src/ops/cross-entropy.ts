import * as tf from '@tensorflow/tfjs';
import { hostView, isHostBackend, readOnlyData } from './host.js';

const LOG2E = Math.LOG2E;
const LN2 = Math.LN2;
// e^y = Σ yⁿ/n! for |y| ≤ ½ ln 2, as a polynomial in r = y / ln 2 ∈ [−½, ½]: relative error < 2e-7.
const C1 = LN2;
const C2 = LN2 ** 2 / 2;
const C3 = LN2 ** 3 / 6;
const C4 = LN2 ** 4 / 24;
const C5 = LN2 ** 5 / 120;
const C6 = LN2 ** 6 / 720;

// Small single-purpose loops: V8 optimises each far better than one loop doing all (6 vs 15 ns
// per logit here). `Math.floor(t + 0.5)` is used for rounding: `Math.round` is 3× slower.

function rowMax(z: Float32Array, from: number, to: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let j = from; j < to; j++) {
    const v = z[j] as number;
    if (v > m) m = v;
  }
  return m;
}

/** `z ← e^(z − max)` as `2^k · p(r)`: the polynomial value with k added to its exponent bits. */
function expShifted(z: Float32Array, bits: Int32Array, from: number, to: number, max: number) {
  const shift = max * LOG2E;
  for (let j = from; j < to; j++) {
    let t = (z[j] as number) * LOG2E - shift;
    if (t < -125) t = -125; // e^(−86.6) ≈ 2e-38: nothing a float32 sum of the row can feel
    const k = Math.floor(t + 0.5);
    const r = t - k;
    z[j] = 1 + r * (C1 + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * C6)))));
    bits[j] = (bits[j] as number) + (k << 23);
  }
}

function rowSum(z: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let j = from; j < to; j++) s += z[j] as number;
  return s;
}

function rowScale(z: Float32Array, from: number, to: number, c: number): void {
  for (let j = from; j < to; j++) z[j] = (z[j] as number) * c;
}

/**
 * Turns `V`-wide rows of logits into the gradient of their summed cross-entropy, `softmax − onehot`,
 * (times `gradScale`) in place, and returns the summed loss `Σ (max + log Σ exp(z − max) − z_target)`. The
 * exponentials are `2^k · p(r)` (|r| ≤ ½), within float32 rounding of `Math.exp`, at a fifth of
 * its time.
 */
export function softmaxCrossEntropyRows(
  z: Float32Array,
  V: number,
  targets: ArrayLike<number>,
  /** Factor of the gradient written (e.g. `1/N` for a mean loss). */
  gradScale = 1,
): number {
  const bits = new Int32Array(z.buffer, z.byteOffset, z.length);
  const rows = z.length / V;
  let loss = 0;
  for (let row = 0; row < rows; row++) {
    const from = row * V;
    const to = from + V;
    const target = targets[row] as number;
    if (!(target >= 0 && target < V))
      throw new Error(`cross-entropy: target ${target} of row ${row} is outside [0, ${V})`);
    const m = rowMax(z, from, to);
    const zt = z[from + target] as number;
    expShifted(z, bits, from, to, m);
    const s = rowSum(z, from, to);
    loss += m + Math.log(s) - zt;
    rowScale(z, from, to, gradScale / s);
    z[from + target] = (z[from + target] as number) - gradScale;
  }
  return loss;
}

/** Logits per chunk of {@link linearCrossEntropy}. */
const CHUNK_LOGITS = 1 << 22;

/**
 * A native implementation of the output layer's arithmetic for {@link linearCrossEntropy} (e.g.
 * `@msmoe/onnx/native`: onnxruntime-node's CPU kernels, several times tfjs-wasm's GEMM speed).
 * Synchronous: it runs inside a gradient tape.
 */
export interface OutputLayerKernel {
  /** What it runs on, for logs (e.g. `onnxruntime-node 1.30.0 (1 thread)`). */
  readonly name: string;
  /**
   * Rows `h [rows, d]` (row-major), `W [d, V]`, `b [V]` and one target per row: returns the
   * summed cross-entropy `Σ_rows (logsumexp(z) − z_target)` of the logits `z = h·W + b`, and with
   * `grads` the gradients of `gradScale · Σ loss` with respect to h, W and b.
   */
  run(args: {
    h: Float32Array;
    W: Float32Array;
    b: Float32Array;
    targets: Int32Array;
    rows: number;
    d: number;
    V: number;
    gradScale: number;
    grads: boolean;
  }): { loss: number; dh?: Float32Array; dW?: Float32Array; db?: Float32Array };
}

let nativeKernel: OutputLayerKernel | null = null;

/**
 * Routes {@link linearCrossEntropy} on the wasm and cpu backends through `kernel` (null: back to
 * the tfjs ops). Returns the kernel it replaces. Per process; set it once at startup.
 */
export function setOutputLayerKernel(kernel: OutputLayerKernel | null): OutputLayerKernel | null {
  const previous = nativeKernel;
  nativeKernel = kernel;
  return previous;
}

/** The kernel {@link setOutputLayerKernel} installed, or null. */
export function outputLayerKernel(): OutputLayerKernel | null {
  return nativeKernel;
}

/** What the forward of an output layer whose gradients it forms returns. */
interface FormedLoss {
  /** The mean loss. */
  loss: number;
  /** ∂h, ∂W, ∂b of the mean loss (null outside a gradient tape). */
  grads: tf.Tensor[] | null;
}

/**
 * The op `(h, W, b) → mean loss` of a forward that forms the gradients itself: they are saved and
 * passed back as they are when the upstream factor is 1 (training: loss = NLL + aux; a read of one
 * number on the host), scaled otherwise.
 */
function formedGradientOp(
  forward: (x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D) => FormedLoss,
): (x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D) => tf.Scalar {
  return tf.customGrad(((
    x: tf.Tensor2D,
    w: tf.Tensor2D,
    bias: tf.Tensor1D,
    save: tf.GradSaveFunc,
  ) => {
    const { loss, grads } = forward(x, w, bias);
    if (grads) save(grads);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        dy.dataSync()[0] === 1 ? saved.map((g) => tf.clone(g)) : saved.map((g) => tf.mul(g, dy)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (
    x: tf.Tensor2D,
    w: tf.Tensor2D,
    bias: tf.Tensor1D,
  ) => tf.Scalar;
}

/** {@link linearCrossEntropy} through the installed native kernel, in the same chunks of rows. */
function nativeLinearCrossEntropy(
  kernel: OutputLayerKernel,
  h: tf.Tensor2D,
  W: tf.Tensor2D,
  b: tf.Tensor1D,
  targets: Int32Array,
  rowsPerChunk: number,
  withGrad: boolean,
): tf.Scalar {
  const [N, d] = h.shape;
  const V = W.shape[1];
  const op = formedGradientOp((x, w, bias) => {
    // Views of the tensors' memory: valid while no tensor is allocated, i.e. through the loop.
    const hv = readOnlyData(x);
    const wv = readOnlyData(w);
    const bv = readOnlyData(bias);
    let loss = 0;
    const dh = withGrad ? new Float32Array(N * d) : null;
    let dW: Float32Array | null = null;
    let db: Float32Array | null = null;
    for (let start = 0; start < N; start += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, N - start);
      const r = kernel.run({
        h: hv.subarray(start * d, (start + rows) * d),
        W: wv,
        b: bv,
        targets: targets.subarray(start, start + rows),
        rows,
        d,
        V,
        gradScale: 1 / N,
        grads: withGrad,
      });
      loss += r.loss;
      if (!dh) continue;
      dh.set(r.dh as Float32Array, start * d);
      if (!dW || !db) {
        dW = r.dW as Float32Array;
        db = r.db as Float32Array;
      } else {
        const gW = r.dW as Float32Array;
        const gb = r.db as Float32Array;
        for (let i = 0; i < dW.length; i++) dW[i] = (dW[i] as number) + (gW[i] as number);
        for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) + (gb[i] as number);
      }
    }
    return {
      loss: loss / N,
      grads: dh
        ? [
            tf.tensor2d(dh, [N, d]),
            tf.tensor2d(dW as Float32Array, [d, V]),
            tf.tensor1d(db as Float32Array),
          ]
        : null,
    };
  });
  return op(h, W, b);
}

/**
 * Mean cross-entropy of `targets` under the logits `h · W + b` of an output layer, for training:
 * `h [N, d]`, `W [d, V]`, `b [V]`. On wasm and cpu the logits of a chunk of rows (at most 4 M
 * logits, 16 MB) are turned into their softmax gradient in place, in one pass with a fast
 * exponential, and folded into `∂W`, `∂b`, `∂h` at once, so the backward pass only scales them:
 * no log-softmax tensor, no second exponential, no copy of the logits. Elsewhere (GPU, native) it is `logSoftmax` and a gather. Values and gradients equal the
 * plain ops' to float32 rounding (tested). With a native kernel installed
 * ({@link setOutputLayerKernel}) the same chunks run through it instead.
 */
export function linearCrossEntropy(
  h: tf.Tensor2D,
  W: tf.Tensor2D,
  b: tf.Tensor1D,
  targets: Int32Array,
  options: { chunkLogits?: number } = {},
): tf.Scalar {
  const [N, d] = h.shape;
  const V = W.shape[1];
  if (W.shape[0] !== d || b.shape[0] !== V || targets.length !== N)
    throw new Error(
      `linearCrossEntropy: h [${h.shape}], W [${W.shape}], b [${b.shape}] and ${targets.length} targets do not match`,
    );
  // Outside a gradient tape (evaluation) only the loss is wanted: no ∂W, ∂b, ∂h.
  const withGrad = tf.engine().isTapeOn();
  if (!isHostBackend()) {
    return tf.tidy(() => {
      const logp = tf.logSoftmax(tf.add(tf.matMul(h, W), b));
      const flat = Int32Array.from(targets, (t, i) => i * V + t);
      return tf.neg(tf.mean(tf.gather(tf.reshape(logp, [N * V]), tf.tensor1d(flat, 'int32'))));
    }) as tf.Scalar;
  }
  // Rows in chunks of at most 4 M logits (16 MB): whole for the CPU presets, bounded for large ones.
  const rowsPerChunk = Math.max(
    1,
    Math.min(N, Math.floor((options.chunkLogits ?? CHUNK_LOGITS) / V)),
  );
  if (nativeKernel)
    return nativeLinearCrossEntropy(nativeKernel, h, W, b, targets, rowsPerChunk, withGrad);
  const op = formedGradientOp((x, w, bias) => {
    const wT = withGrad ? tf.transpose(w) : w; // [V, d], once for every chunk's ∂h
    let loss = 0;
    let dW: tf.Tensor | null = null;
    let db: tf.Tensor | null = null;
    const dh: tf.Tensor[] = [];
    for (let start = 0; start < N; start += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, N - start);
      const hc = tf.slice(x, [start, 0], [rows, d]);
      // The chunk's logits become its softmax gradient in place: no copy of a 2 MB buffer.
      const dl = tf.fused.matMul({ a: hc, b: w, bias });
      const z = hostView(dl) as Float32Array;
      loss += softmaxCrossEntropyRows(z, V, targets.subarray(start, start + rows), 1 / N);
      if (!withGrad) continue;
      const gW = tf.matMul(tf.transpose(hc), dl);
      const gb = tf.matMul(tf.ones([1, rows]), dl);
      dW = dW ? tf.add(dW, gW) : gW;
      db = db ? tf.add(db, gb) : gb;
      dh.push(tf.matMul(dl, wT));
    }
    return {
      loss: loss / N,
      grads: withGrad
        ? [
            dh.length === 1 ? (dh[0] as tf.Tensor) : tf.concat(dh, 0),
            dW as tf.Tensor,
            tf.reshape(db as tf.Tensor, [V]),
          ]
        : null,
    };
  });
  return op(h, W, b);
}
