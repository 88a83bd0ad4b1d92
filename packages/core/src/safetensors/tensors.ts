import * as tf from '@tensorflow/tfjs';
import {
  decodeSafetensors,
  encodeSafetensors,
  type RawTensor,
  type SafetensorsDtype,
  SafetensorsError,
} from './format.js';

/** Float storage precision for {@link tensorsToSafetensors}. */
export type FloatStorage = 'F32' | 'F16' | 'BF16';

/** Options of {@link tensorsToSafetensors} and {@link saveSafetensors}. */
export interface SaveSafetensorsOptions {
  /** How float32 tensors are stored (default F32). Integers are stored as I32, bools as BOOL. */
  floatDtype?: FloatStorage;
  /** String metadata written as `__metadata__`. */
  metadata?: Record<string, string>;
}

async function toRaw(name: string, t: tf.Tensor, floatDtype: FloatStorage): Promise<RawTensor> {
  const values = await t.data();
  switch (t.dtype) {
    case 'float32':
      return { dtype: floatDtype, shape: [...t.shape], data: values as Float32Array };
    case 'int32':
      return { dtype: 'I32', shape: [...t.shape], data: values as Int32Array };
    case 'bool':
      return { dtype: 'BOOL', shape: [...t.shape], data: values as Uint8Array };
    default:
      throw new SafetensorsError(
        `tensor "${name}": dtype ${t.dtype} cannot be stored (float32, int32 or bool)`,
      );
  }
}

/** Encodes tfjs tensors as safetensors bytes (does not dispose them). */
export async function tensorsToSafetensors(
  tensors: Record<string, tf.Tensor>,
  options: SaveSafetensorsOptions = {},
): Promise<Uint8Array> {
  const raw: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors))
    raw[name] = await toRaw(name, t, options.floatDtype ?? 'F32');
  return encodeSafetensors(raw, options.metadata);
}

function toTfDtype(name: string, dtype: SafetensorsDtype): 'float32' | 'int32' | 'bool' {
  switch (dtype) {
    case 'F64':
    case 'F32':
    case 'F16':
    case 'BF16':
      return 'float32';
    case 'BOOL':
      return 'bool';
    case 'I64':
    case 'I32':
    case 'I16':
    case 'I8':
    case 'U8':
      return 'int32';
    default:
      throw new SafetensorsError(
        `tensor "${name}": dtype ${dtype as string} has no tfjs equivalent`,
      );
  }
}

/** Converts one decoded tensor to tfjs: floats → float32, integers → int32 (range-checked), BOOL → bool. */
export function rawToTensor(name: string, raw: RawTensor): tf.Tensor {
  const dtype = toTfDtype(name, raw.dtype);
  let values: Float32Array | Int32Array | Uint8Array;
  if (raw.data instanceof BigInt64Array) {
    values = new Int32Array(raw.data.length);
    for (let i = 0; i < raw.data.length; i++) {
      const v = raw.data[i] as bigint;
      if (v > 2147483647n || v < -2147483648n) {
        throw new SafetensorsError(
          `tensor "${name}": I64 value ${v} at index ${i} does not fit in int32`,
        );
      }
      values[i] = Number(v);
    }
  } else if (dtype === 'float32') {
    values =
      raw.data instanceof Float32Array ? raw.data : Float32Array.from(raw.data as Float64Array);
  } else if (dtype === 'int32') {
    values = raw.data instanceof Int32Array ? raw.data : Int32Array.from(raw.data as Int16Array);
  } else {
    values = raw.data as Uint8Array;
  }
  return tf.tensor(values, raw.shape, dtype);
}

/** Decodes safetensors bytes into tfjs tensors (caller owns and disposes them) and the metadata. */
export function safetensorsToTensors(bytes: Uint8Array): {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, string>;
} {
  const file = decodeSafetensors(bytes);
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const [name, raw] of Object.entries(file.tensors)) tensors[name] = rawToTensor(name, raw);
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw err;
  }
  return { tensors, metadata: file.metadata };
}
