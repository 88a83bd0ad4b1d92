import type * as tf from '@tensorflow/tfjs';

/** What msmoe's JS kernels need of the wasm backend (public methods tfjs does not type). */
export interface WasmLikeBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  incRef(dataId: tf.DataId): void;
}
