// Tensors whose data lives in this process's memory: the wasm and cpu backends.
import * as tf from '@tensorflow/tfjs';

/**
 * Whether a backend (default: the current one) keeps tensor data on the host, where native
 * kernels (`setOutputLayerKernel`) can read it: `wasm` and `cpu`.
 */
export function isHostBackend(name: string = tf.getBackend()): boolean {
  return name === 'wasm' || name === 'cpu';
}

/**
 * A live, writable view of a float32 tensor's data on the wasm heap or in the cpu backend's
 * memory; null on other backends. Only for a tensor just created and not yet shared (its data is
 * rewritten in place), and only until the next tensor is allocated (a growing wasm heap detaches
 * the view).
 */
export function hostView(t: tf.Tensor): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const backend = tf.backend() as unknown as {
    typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array;
    data?: { get(id: tf.DataId): { values?: Float32Array } | undefined };
  };
  if (tf.getBackend() === 'wasm' && backend.typedArrayFromHeap)
    return backend.typedArrayFromHeap(t);
  if (tf.getBackend() === 'cpu') return backend.data?.get(t.dataId)?.values ?? null;
  return null;
}

/** A float32 tensor's data without a copy where the backend allows (read only, short-lived). */
export function readOnlyData(t: tf.Tensor): Float32Array {
  return hostView(t) ?? (t.dataSync() as Float32Array);
}
