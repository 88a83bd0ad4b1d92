import * as tf from '@tensorflow/tfjs';
import type { WasmLikeBackend } from './wasm-backend.js';

/**
 * Copies the block `x[begin : begin + size]` of a row-major array of shape `shape` into `out`,
 * one contiguous run at a time (the trailing axes taken whole are merged into each run).
 */
export function copySlice(
  x: tf.TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: tf.TypedArray,
): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[0] as number;
    return;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--)
    strides[i] = (strides[i + 1] as number) * (shape[i + 1] as number);
  // k: last axis that is not taken whole; axes after it merge into one contiguous run.
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === shape[k]) k--;
  const run = (size[k] as number) * (strides[k] as number);
  if (run === 0 || size.some((s) => s === 0)) return;
  const idx = new Array<number>(k).fill(0);
  let outOffset = 0;
  for (;;) {
    let src = (begin[k] as number) * (strides[k] as number);
    for (let j = 0; j < k; j++)
      src += ((begin[j] as number) + (idx[j] as number)) * (strides[j] as number);
    out.set(x.subarray(src, src + run), outOffset);
    outOffset += run;
    let j = k - 1;
    while (j >= 0) {
      idx[j] = (idx[j] as number) + 1;
      if ((idx[j] as number) < (size[j] as number)) break;
      idx[j] = 0;
      j--;
    }
    if (j < 0) break;
  }
}

/** Allocates an output and copies a slice into it, reading the input in place on the heap. */
function sliceInto(
  backend: WasmLikeBackend,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
  outShape: number[] = size,
): tf.TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  // Views are taken after allocation, which may grow (and detach) the heap.
  copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

function asWasm(backend: unknown): WasmLikeBackend {
  return backend as WasmLikeBackend;
}

/**
 * Slice for wasm. The shipped kernel copies the whole input out of the heap (`readSync`) for
 * every slice, so slicing a [64, 256, 512] expert bank into experts took ~1 s; this one reads
 * the input in place.
 */
export const sliceWasmConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { begin, size } = attrs as unknown as {
      begin: number | number[];
      size: number | number[];
    };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [
      number[],
      number[],
    ];
    return sliceInto(asWasm(backend), x, b, s);
  },
};

/** Unpack (`tf.unstack`) for wasm, reading the input in place (the shipped one copies it per output). */
export const unpackWasmConfig: tf.KernelConfig = {
  kernelName: tf.Unpack,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { value } = inputs as { value: tf.TensorInfo };
    const rank = value.shape.length;
    let { axis } = attrs as unknown as { axis: number };
    if (axis < 0) axis += rank;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(rank).fill(0);
    const size = value.shape.slice();
    size[axis] = 1;
    const outs: tf.TensorInfo[] = [];
    for (let i = 0; i < (value.shape[axis] as number); i++) {
      begin[axis] = i;
      outs.push(sliceInto(asWasm(backend), value, begin, size, outShape));
    }
    return outs;
  },
};

/** SplitV (`tf.split`) for wasm, reading the input in place (the shipped one copies it per part). */
export const splitVWasmConfig: tf.KernelConfig = {
  kernelName: tf.SplitV,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = attrs as unknown as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0] as number;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[ax] = s;
      const out = sliceInto(asWasm(backend), x, begin, size);
      begin[ax] = (begin[ax] as number) + s;
      return out;
    });
  },
};
