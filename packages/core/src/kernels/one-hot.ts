import * as tf from '@tensorflow/tfjs';
import type { WasmLikeBackend } from './wasm-backend.js';

/**
 * OneHot for the wasm backend. tfjs-backend-wasm 4.22's own kernel ignores `dtype` and writes
 * int32 bit patterns into a float32 output (`oneHot(.., 'float32')` yields 1.4e-45 for 1), which
 * silently breaks masks and losses built from it; this kernel writes the requested dtype.
 */
export const oneHotWasmConfig: tf.KernelConfig = {
  kernelName: tf.OneHot,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { indices } = inputs as { indices: tf.TensorInfo };
    const { dtype, depth, onValue, offValue } = attrs as unknown as {
      dtype: tf.DataType;
      depth: number;
      onValue: number;
      offValue: number;
    };
    const wasm = backend as unknown as WasmLikeBackend;
    const idx = wasm.readSync(indices.dataId) as tf.TypedArray;
    const out = wasm.makeOutput([...indices.shape, depth], dtype);
    const vals = wasm.typedArrayFromHeap(out);
    vals.fill(offValue);
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i] as number;
      if (j >= 0 && j < depth) vals[i * depth + j] = onValue;
    }
    return out;
  },
};
