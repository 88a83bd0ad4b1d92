import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './half.js';

/** Element types of the safetensors format that msmoe reads and writes. */
export const SAFETENSORS_DTYPES = [
  'F64',
  'F32',
  'F16',
  'BF16',
  'I64',
  'I32',
  'I16',
  'I8',
  'U8',
  'BOOL',
] as const;

/** One of {@link SAFETENSORS_DTYPES}. */
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * A tensor as plain data. `data` holds the values in the natural JS array type of `dtype`:
 * Float64Array (F64), Float32Array (F32, and F16/BF16 once decoded), BigInt64Array (I64),
 * Int32Array, Int16Array, Int8Array, Uint8Array (U8, BOOL as 0/1).
 */
export interface RawTensor {
  /** Element type as stored in the file. */
  dtype: SafetensorsDtype;
  /** Dimensions, row-major. */
  shape: number[];
  /** Values, see above. For F16/BF16, a Float32Array (converted on write and read). */
  data:
    | Float64Array
    | Float32Array
    | BigInt64Array
    | Int32Array
    | Int16Array
    | Int8Array
    | Uint8Array;
}

/** A decoded file: named tensors plus the free-form `__metadata__` string map. */
export interface SafetensorsFile {
  /** Tensors by name, in file order. */
  tensors: Record<string, RawTensor>;
  /** String-to-string metadata (empty when absent). */
  metadata: Record<string, string>;
}

/** Raised for a truncated, malformed or inconsistent safetensors file; the message says what and where. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** Largest header accepted, as the reference implementation (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function expectedArrayType(dtype: SafetensorsDtype): string {
  switch (dtype) {
    case 'F64':
      return 'Float64Array';
    case 'F32':
    case 'F16':
    case 'BF16':
      return 'Float32Array';
    case 'I64':
      return 'BigInt64Array';
    case 'I32':
      return 'Int32Array';
    case 'I16':
      return 'Int16Array';
    case 'I8':
      return 'Int8Array';
    case 'U8':
    case 'BOOL':
      return 'Uint8Array';
  }
}

function encodeData(name: string, t: RawTensor): Uint8Array {
  const n = product(t.shape);
  if (t.data.length !== n) {
    throw new SafetensorsError(
      `tensor "${name}": shape [${t.shape.join(', ')}] needs ${n} values, data has ${t.data.length}`,
    );
  }
  if (t.data.constructor.name !== expectedArrayType(t.dtype)) {
    throw new SafetensorsError(
      `tensor "${name}": dtype ${t.dtype} needs a ${expectedArrayType(t.dtype)}, got ${t.data.constructor.name}`,
    );
  }
  const bytes = new Uint8Array(n * DTYPE_BYTES[t.dtype]);
  const view = new DataView(bytes.buffer);
  const d = t.data;
  switch (t.dtype) {
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, float32ToFloat16Bits(d[i] as number), true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++)
        view.setUint16(2 * i, float32ToBfloat16Bits(d[i] as number), true);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) bytes[i] = d[i] ? 1 : 0;
      break;
    default: {
      // Typed arrays are little-endian on every platform JS runs on; verify rather than assume.
      if (!LITTLE_ENDIAN) throw new SafetensorsError('big-endian hosts are not supported');
      bytes.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
  }
  return bytes;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The JSON header as bytes, space-padded to a multiple of 8 (the format's alignment). */
function headerBytes(header: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded === json.length) return json;
  const p = new Uint8Array(padded).fill(0x20);
  p.set(json);
  return p;
}

/**
 * The same safetensors bytes with `extra` merged into `__metadata__`: only the header is rebuilt,
 * the tensor data section is copied as it is (data offsets are relative to it).
 */
export function withSafetensorsMetadata(
  bytes: Uint8Array,
  extra: Record<string, string>,
): Uint8Array {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<
    string,
    unknown
  >;
  header.__metadata__ = {
    ...((header.__metadata__ as Record<string, string> | undefined) ?? {}),
    ...extra,
  };
  const json = headerBytes(header);
  const data = bytes.subarray(8 + length);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/**
 * Encodes tensors into the safetensors format: an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {...}}` padded with
 * spaces to a multiple of 8 bytes, then the tensors' bytes back to back. Tensors are laid out by
 * descending element size then name, as the reference writer, so every tensor is aligned.
 */
export function encodeSafetensors(
  tensors: Record<string, RawTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new SafetensorsError(`metadata "${k}": values must be strings, got ${typeof v}`);
  }
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === '__metadata__')
      throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    const t = tensors[name] as RawTensor;
    if (!(SAFETENSORS_DTYPES as readonly string[]).includes(t.dtype)) {
      throw new SafetensorsError(
        `tensor "${name}": dtype "${t.dtype}" is not one of ${SAFETENSORS_DTYPES.join(', ')}`,
      );
    }
    if (!t.shape.every((s) => Number.isInteger(s) && s >= 0)) {
      throw new SafetensorsError(
        `tensor "${name}": shape [${t.shape.join(', ')}] must hold non-negative integers`,
      );
    }
  }
  names.sort((a, b) => {
    const d =
      DTYPE_BYTES[(tensors[b] as RawTensor).dtype] - DTYPE_BYTES[(tensors[a] as RawTensor).dtype];
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name] as RawTensor;
    const blob = encodeData(name, t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + blob.length] };
    blobs.push(blob);
    offset += blob.length;
  }
  const json = headerBytes(header);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const b of blobs) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

function decodeData(dtype: SafetensorsDtype, bytes: Uint8Array, n: number): RawTensor['data'] {
  // Copy into an aligned buffer: offsets in a file need not be aligned for the element type.
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  switch (dtype) {
    case 'F64':
      return new Float64Array(copy.buffer, 0, n);
    case 'F32':
      return new Float32Array(copy.buffer, 0, n);
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = bfloat16BitsToFloat32(view.getUint16(2 * i, true));
      return out;
    }
    case 'I64':
      return new BigInt64Array(copy.buffer, 0, n);
    case 'I32':
      return new Int32Array(copy.buffer, 0, n);
    case 'I16':
      return new Int16Array(copy.buffer, 0, n);
    case 'I8':
      return new Int8Array(copy.buffer, 0, n);
    case 'U8':
    case 'BOOL':
      return copy;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes a safetensors file, validating it as the reference implementation does: header length
 * within the file, JSON object header, known dtypes, offsets that match each tensor's size, lie in
 * the data section, do not overlap and cover it exactly. Any violation throws a
 * {@link SafetensorsError} naming the tensor and the problem.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) {
    throw new SafetensorsError(
      `file is truncated: ${bytes.length} bytes, the 8-byte header length is missing`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `header length ${headerLen64} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`,
    );
  }
  const headerLen = Number(headerLen64);
  if (8 + headerLen > bytes.length) {
    throw new SafetensorsError(
      `file is truncated: header says ${headerLen} header bytes but only ${bytes.length - 8} follow`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)),
    );
  } catch (err) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!isRecord(header)) throw new SafetensorsError('header must be a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: {
    name: string;
    dtype: SafetensorsDtype;
    shape: number[];
    begin: number;
    end: number;
  }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(raw)) throw new SafetensorsError('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string')
          throw new SafetensorsError(`__metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isRecord(raw)) throw new SafetensorsError(`tensor "${name}": entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (typeof dtype !== 'string' || !(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
      throw new SafetensorsError(
        `tensor "${name}": dtype ${JSON.stringify(dtype)} is not one of ${SAFETENSORS_DTYPES.join(', ')}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
      throw new SafetensorsError(
        `tensor "${name}": shape ${JSON.stringify(shape)} must be an array of non-negative integers`,
      );
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0)
    ) {
      throw new SafetensorsError(
        `tensor "${name}": data_offsets ${JSON.stringify(offsets)} must be [begin, end]`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const size = product(shape) * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end < begin || end - begin !== size) {
      throw new SafetensorsError(
        `tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes, ${dtype} [${shape.join(', ')}] needs ${size}`,
      );
    }
    if (end > dataLen) {
      throw new SafetensorsError(
        `file is truncated: tensor "${name}" ends at byte ${end} of the data section, which has ${dataLen} bytes`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin !== cursor) {
      throw new SafetensorsError(
        e.begin < cursor
          ? `tensor "${e.name}": data_offsets overlap the previous tensor (begin ${e.begin} < ${cursor})`
          : `tensor "${e.name}": ${e.begin - cursor} unused bytes before it (begin ${e.begin}, expected ${cursor})`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== dataLen) {
    throw new SafetensorsError(`data section has ${dataLen} bytes but the tensors cover ${cursor}`);
  }
  const tensors: Record<string, RawTensor> = {};
  for (const e of entries) {
    const n = product(e.shape);
    tensors[e.name] = {
      dtype: e.dtype,
      shape: e.shape,
      data: decodeData(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end), n),
    };
  }
  return { tensors, metadata };
}
