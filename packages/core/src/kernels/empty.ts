import * as tf from '@tensorflow/tfjs';
import type { WasmLikeBackend } from './wasm-backend.js';

/** Name of msmoe's allocation kernel (wasm and cpu). */
export const EMPTY_KERNEL = 'MsmoeEmpty';

const attrsOf = (attrs: tf.NamedAttrMap | undefined) =>
  attrs as unknown as { shape: number[]; dtype: tf.DataType };

/** wasm: an output buffer straight from the heap allocator, not initialised. */
export const emptyWasmConfig: tf.KernelConfig = {
  kernelName: EMPTY_KERNEL,
  backendName: 'wasm',
  kernelFunc: ({ attrs, backend }) => {
    const { shape, dtype } = attrsOf(attrs);
    return (backend as unknown as WasmLikeBackend).makeOutput(shape, dtype);
  },
};

/** cpu: a fresh (zeroed) typed array. */
export const emptyCpuConfig: tf.KernelConfig = {
  kernelName: EMPTY_KERNEL,
  backendName: 'cpu',
  kernelFunc: ({ attrs, backend }) => {
    const { shape, dtype } = attrsOf(attrs);
    const values = tf.util.getTypedArrayFromDType(dtype as 'float32', tf.util.sizeFromShape(shape));
    return (
      backend as unknown as {
        makeTensorInfo(s: number[], d: tf.DataType, v: tf.TypedArray): tf.TensorInfo;
      }
    ).makeTensorInfo(shape, dtype, values);
  },
};

/**
 * A new float32 tensor whose values the caller writes through {@link hostView} before anyone
 * reads it (wasm, cpu). `tf.zeros` builds the values in JS and copies them in: 10 ms for 5 MB here.
 */
export function emptyTensor(shape: number[]): tf.Tensor {
  // Before `registerMsmoeKernels` (a backend set without initBackend): zeros do the same job.
  if (!tf.getKernel(EMPTY_KERNEL, tf.getBackend())) return tf.zeros(shape);
  return tf.engine().runKernel(EMPTY_KERNEL, {}, {
    shape,
    dtype: 'float32',
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
