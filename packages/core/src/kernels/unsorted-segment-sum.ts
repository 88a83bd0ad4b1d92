import * as tf from '@tensorflow/tfjs';
import type { WasmLikeBackend } from './wasm-backend.js';

/**
 * Linear-time UnsortedSegmentSum: `out[s, ...] = Σ_{i : ids[i] = s} x[i, ...]`, where `ids` has
 * the shape of a prefix of `x`. Negative ids are dropped (TensorFlow's rule); ids ≥ numSegments
 * are an error. Pure function on typed arrays so it can be tested without tfjs.
 */
export function unsortedSegmentSumValues(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  out: { [i: number]: number; length: number },
): void {
  const rows = ids.length;
  const inner = rows === 0 ? 0 : x.length / rows;
  if (!Number.isInteger(inner)) {
    throw new Error(
      `UnsortedSegmentSum: ${x.length} values do not split into ${rows} segments ids`,
    );
  }
  for (let i = 0; i < out.length; i++) out[i] = 0;
  for (let r = 0; r < rows; r++) {
    const s = ids[r] as number;
    if (s < 0) continue;
    if (s >= numSegments) {
      throw new Error(
        `UnsortedSegmentSum: segment id ${s} at position ${r} is ≥ numSegments ${numSegments}`,
      );
    }
    const src = r * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++)
      out[dst + j] = (out[dst + j] as number) + (x[src + j] as number);
  }
}

/** Allocates an output on the wasm heap (wasm) or as a JS array (cpu) and fills it. */
function makeFilledOutput(
  backend: unknown,
  shape: number[],
  dtype: tf.DataType,
  fill: (out: tf.TypedArray) => void,
): tf.TensorInfo {
  const wasm = backend as Partial<WasmLikeBackend>;
  if (typeof wasm.makeOutput === 'function' && typeof wasm.typedArrayFromHeap === 'function') {
    const out = wasm.makeOutput(shape, dtype);
    fill(wasm.typedArrayFromHeap(out));
    return out;
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const values = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  fill(values);
  const cpu = backend as {
    makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
  };
  return cpu.makeTensorInfo(shape, dtype, values);
}

function unsortedSegmentSumKernel({
  inputs,
  backend,
  attrs,
}: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const reader = backend as unknown as Pick<WasmLikeBackend, 'readSync'>;
  const idsRank = segmentIds.shape.length;
  const prefix = x.shape.slice(0, idsRank);
  if (prefix.join(',') !== segmentIds.shape.join(',')) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
    );
  }
  // Read inputs before allocating the output: allocation may grow (and detach) the wasm heap.
  const xVals = reader.readSync(x.dataId) as tf.TypedArray;
  const idVals = reader.readSync(segmentIds.dataId) as tf.TypedArray;
  const outShape = [numSegments, ...x.shape.slice(idsRank)];
  return makeFilledOutput(backend, outShape, x.dtype, (out) =>
    unsortedSegmentSumValues(xVals, idVals, numSegments, out),
  );
}

/** UnsortedSegmentSum kernel for the wasm backend, which ships none (so `tf.gather`'s gradient fails there). */
export const unsortedSegmentSumWasmConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumKernel,
};

/**
 * Linear-time UnsortedSegmentSum for the cpu backend, replacing the shipped kernel, which loops
 * over every segment (O(segments × size): minutes for an embedding gradient over a large vocabulary).
 */
export const unsortedSegmentSumCpuConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'cpu',
  kernelFunc: unsortedSegmentSumKernel,
};
