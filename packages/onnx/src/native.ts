// The output layer's training arithmetic on onnxruntime-node's CPU kernels (Node only): one small
// ONNX graph per use (logits, log-softmax, loss, and the three gradient GEMMs), run synchronously
// inside the tfjs gradient tape. onnxruntime's MLAS GEMMs use the machine's native SIMD (AVX2,
// AVX-512), several times the speed of tfjs-wasm's 128-bit XNNPACK kernels on the largest op of
// an LM training step (`[tokens × d] · [d × vocabulary]` and its two gradients).
import { createRequire } from 'node:module';
import { ConfigError, type OutputLayerKernel, setOutputLayerKernel } from '@msmoe/core';
import { DT, GraphBuilder } from './graph.js';

/** The version of onnxruntime-node this module was written and tested against. */
export const ONNXRUNTIME_NODE_VERSION = '1.30.0';

/** Options of {@link loadNativeOutputLayer}. */
export interface NativeOutputLayerOptions {
  /** onnxruntime intra-op threads (default 1: the run pool gives each core its own process). */
  threads?: number;
}

/** onnxruntime-node is missing (`missing`) or another version than {@link ONNXRUNTIME_NODE_VERSION}. */
export class NativeOutputLayerError extends Error {
  constructor(
    message: string,
    readonly missing: boolean,
  ) {
    super(message);
    this.name = 'NativeOutputLayerError';
  }
}

interface OrtTensor {
  readonly data: ArrayLike<number> | BigInt64Array;
}
type OrtTensorClass = new (
  type: 'float32' | 'int64',
  data: Float32Array | BigInt64Array,
  dims: number[],
) => OrtTensor;
interface NativeSession {
  loadModel(
    buffer: ArrayBufferLike,
    byteOffset: number,
    byteLength: number,
    options: Record<string, unknown>,
  ): void;
  run(
    feeds: Record<string, OrtTensor>,
    fetches: Record<string, null>,
    options: Record<string, unknown>,
  ): Record<string, OrtTensor>;
}
interface OrtNode {
  Tensor: OrtTensorClass;
  binding: { InferenceSession: new () => NativeSession };
  version: string;
}

/**
 * Loads onnxruntime-node (an optional peer: `npm i onnxruntime-node@1.30.0`) and its native
 * binding. Its public `InferenceSession.run` is asynchronous (a promise around a synchronous
 * native call), and a gradient tape cannot wait, so the binding's synchronous `run` is used: the
 * version is pinned for that reason and checked here.
 */
function loadOrt(): OrtNode {
  const require = createRequire(import.meta.url);
  let ort: { Tensor: OrtTensorClass; env: { versions: { node?: string; common?: string } } };
  try {
    ort = require('onnxruntime-node');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
      throw new NativeOutputLayerError(
        `the native output layer needs the optional package onnxruntime-node: npm i onnxruntime-node@${ONNXRUNTIME_NODE_VERSION} (with npm 10: --onnxruntime-node-install=skip)`,
        true,
      );
    throw err;
  }
  const version = ort.env.versions.node ?? ort.env.versions.common ?? 'unknown';
  if (version !== ONNXRUNTIME_NODE_VERSION)
    throw new NativeOutputLayerError(
      `the native output layer needs onnxruntime-node ${ONNXRUNTIME_NODE_VERSION} (found ${version}): it uses that version's synchronous binding`,
      false,
    );
  const { binding, initOrt } = require('onnxruntime-node/dist/binding') as {
    binding: OrtNode['binding'];
    initOrt: () => void;
  };
  initOrt();
  return { Tensor: ort.Tensor, binding, version };
}

/**
 * The output layer as ONNX: inputs `h [n, d]`, `w [d, v]`, `b [v]`, `targets` int64 `[n]` and
 * `scale` (a scalar); outputs `loss`, the summed cross-entropy `−Σ log softmax(z)[target]` of the
 * logits `z = h·w + b`, and with `grads` `dh`, `dw`, `db`: the gradients of `scale · loss`, from
 * `softmax(z) − onehot`. Written for few passes over the `[n, v]` logits (the step's largest array,
 * streamed through memory by each elementwise op): the target entries are subtracted by a
 * scatter-add rather than a onehot array, and the scale multiplies the small gradients, not the
 * logits (1.7–1.8× faster than logsoftmax − onehot, times scale, measured at the tiny and mini
 * shapes).
 */
export function outputLayerGraph(grads: boolean): Uint8Array {
  const g = new GraphBuilder();
  const h = g.input('h', DT.FLOAT, ['n', 'd']);
  const w = g.input('w', DT.FLOAT, ['d', 'v']);
  const b = g.input('b', DT.FLOAT, ['v']);
  const targets = g.input('targets', DT.INT64, ['n']);
  const scale = g.input('scale', DT.FLOAT, []);
  const logp = g.op1('LogSoftmax', [g.op1('Gemm', [h, w, b])], { axis: { int: -1 } }); // [n, v]
  const column = g.op1('Unsqueeze', [targets, g.int64([1])]); // [n, 1]
  const picked = g.op1('GatherElements', [logp, column], { axis: { int: 1 } });
  g.output(
    g.op1('Neg', [g.op1('ReduceSum', [picked], { keepdims: { int: 0 } })]),
    'loss',
    DT.FLOAT,
    [],
  );
  if (grads) {
    const minusOne = g.op1('Expand', [
      g.float('minus_one', Float32Array.of(-1), [1, 1]),
      g.op1('Shape', [column]),
    ]);
    const dz = g.op1('ScatterElements', [g.op1('Exp', [logp]), column, minusOne], {
      axis: { int: 1 },
      reduction: 'add',
    }); // softmax − onehot, [n, v]
    const scaled = (x: string) => g.op1('Mul', [x, scale]);
    g.output(scaled(g.op1('Gemm', [dz, w], { transB: { int: 1 } })), 'dh', DT.FLOAT, ['n', 'd']);
    g.output(scaled(g.op1('Gemm', [h, dz], { transA: { int: 1 } })), 'dw', DT.FLOAT, ['d', 'v']);
    g.output(
      scaled(g.op1('ReduceSum', [dz, g.int64([0])], { keepdims: { int: 0 } })),
      'db',
      DT.FLOAT,
      ['v'],
    );
  }
  return g.build('msmoe_output_layer');
}

/**
 * The output layer's loss and gradients on onnxruntime-node's CPU kernels, as a
 * {@link OutputLayerKernel} for `setOutputLayerKernel` of `@msmoe/core`. Throws with what to
 * install when onnxruntime-node is missing or another version.
 */
export function loadNativeOutputLayer(options: NativeOutputLayerOptions = {}): OutputLayerKernel {
  const ort = loadOrt();
  const threads = options.threads ?? 1;
  const session = (grads: boolean) => {
    const s = new ort.binding.InferenceSession();
    const bytes = outputLayerGraph(grads);
    s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return s;
  };
  const train = session(true);
  const evaluate = session(false);
  const float = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  return {
    name: `onnxruntime-node ${ort.version} (${threads} thread${threads === 1 ? '' : 's'})`,
    run({ h, W, b, targets, rows, d, V, gradScale, grads }) {
      const feeds = {
        h: float(h, [rows, d]),
        w: float(W, [d, V]),
        b: float(b, [V]),
        targets: new ort.Tensor('int64', BigInt64Array.from(targets, BigInt), [rows]),
        scale: float(Float32Array.of(gradScale), []),
      };
      const out = grads
        ? train.run(feeds, { loss: null, dh: null, dw: null, db: null }, {})
        : evaluate.run(feeds, { loss: null }, {});
      const data = (name: string) => out[name]?.data as Float32Array;
      return grads
        ? { loss: data('loss')[0] as number, dh: data('dh'), dW: data('dw'), db: data('db') }
        : { loss: data('loss')[0] as number };
    },
  };
}

/**
 * Installs the native output layer for this process when onnxruntime-node is present (unless
 * `MSMOE_NATIVE_OUTPUT=off`; `on` or unset: use it where installed). Returns what happened, in one
 * line, for the run's log. Throws a {@link ConfigError} only for another value of
 * `MSMOE_NATIVE_OUTPUT`; a missing or other-version onnxruntime-node is reported, not thrown.
 */
export function enableNativeOutputLayer(options: NativeOutputLayerOptions = {}): {
  enabled: boolean;
  detail: string;
} {
  const mode = process.env.MSMOE_NATIVE_OUTPUT?.trim() ?? '';
  if (!['', 'on', 'off'].includes(mode))
    throw new ConfigError(
      `MSMOE_NATIVE_OUTPUT: "${mode}" is not allowed; allowed: on, off`,
      'MSMOE_NATIVE_OUTPUT',
    );
  if (mode === 'off')
    return { enabled: false, detail: 'native output layer off (MSMOE_NATIVE_OUTPUT=off)' };
  try {
    const kernel = loadNativeOutputLayer(options);
    setOutputLayerKernel(kernel);
    return { enabled: true, detail: `output layer on ${kernel.name}` };
  } catch (err) {
    const why =
      err instanceof NativeOutputLayerError && err.missing
        ? `onnxruntime-node is not installed; npm i onnxruntime-node@${ONNXRUNTIME_NODE_VERSION} for a faster one`
        : (err as Error).message;
    return { enabled: false, detail: `output layer on tfjs (${why})` };
  }
}
