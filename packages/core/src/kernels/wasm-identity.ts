import * as tf from '@tensorflow/tfjs';
import type { WasmLikeBackend } from './wasm-backend.js';

// tfjs saves every tensor a gradient needs by cloning it (the Identity kernel), and its
// gradients cast float32 to float32; on wasm both copy the whole buffer. Tensor data is never
// written in place (a Variable's assign swaps its buffer), so a clone can share the buffer with a
// reference count, as Reshape does and as the cpu backend's Identity does.

/** Shares `x`'s buffer under a new tensor (reference counted). */
function share(backend: WasmLikeBackend, x: tf.TensorInfo, dtype = x.dtype): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype };
}

/** Identity on wasm without a copy. */
export const identityWasmConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    const b = backend as unknown as WasmLikeBackend;
    if (x.dtype === 'string') return tf.tensor(b.readSync(x.dataId), x.shape, x.dtype);
    return share(b, x);
  },
};

/**
 * Cast on wasm: a cast to the same dtype shares the buffer; to bool, any non-zero is 1 (the
 * shipped kernel copies the bytes through a Uint8Array, so −2.7 became 254); others convert as
 * tfjs's does (float to int truncates).
 */
export const castWasmConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    const { dtype } = attrs as unknown as { dtype: tf.DataType };
    const b = backend as unknown as WasmLikeBackend;
    if (dtype === x.dtype) return share(b, x);
    const out = b.makeOutput(x.shape, dtype);
    // Views after allocation (which may grow the heap); a typed-array copy converts the values.
    const from = b.typedArrayFromHeap(x);
    const to = b.typedArrayFromHeap(out);
    if (dtype === 'bool') for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
    else to.set(from);
    return out;
  },
};
