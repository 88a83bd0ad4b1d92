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

/** UnsortedSegmentSum kernel for the wasm backend, which ships none (so `tf.gather`'s gradient fails there). */
export const unsortedSegmentSumWasmConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const wasm = backend as unknown as WasmLikeBackend;
    const idsRank = segmentIds.shape.length;
    const prefix = x.shape.slice(0, idsRank);
    if (prefix.join(',') !== segmentIds.shape.join(',')) {
      throw new Error(
        `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
      );
    }
    // Read inputs before allocating the output: allocation may grow (and detach) the wasm heap.
    const xVals = wasm.readSync(x.dataId) as tf.TypedArray;
    const idVals = wasm.readSync(segmentIds.dataId) as tf.TypedArray;
    const outShape = [numSegments, ...x.shape.slice(idsRank)];
    const out = wasm.makeOutput(outShape, x.dtype);
    unsortedSegmentSumValues(xVals, idVals, numSegments, wasm.typedArrayFromHeap(out));
    return out;
  },
};
