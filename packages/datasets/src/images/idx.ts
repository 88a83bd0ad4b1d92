import type { DatasetCard } from '../card.js';
import { DatasetError } from '../card.js';

/** A decoded IDX array (the MNIST file format). */
export interface IdxArray {
  /** Dimensions. */
  shape: number[];
  /** Values (unsigned bytes for MNIST-style files). */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const IDX_TYPES: Record<
  number,
  { bytes: number; read: (v: DataView, o: number) => number; make: (n: number) => IdxArray['data'] }
> = {
  8: { bytes: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) },
  9: { bytes: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) },
  11: { bytes: 2, read: (v, o) => v.getInt16(o), make: (n) => new Int16Array(n) },
  12: { bytes: 4, read: (v, o) => v.getInt32(o), make: (n) => new Int32Array(n) },
  13: { bytes: 4, read: (v, o) => v.getFloat32(o), make: (n) => new Float32Array(n) },
  14: { bytes: 8, read: (v, o) => v.getFloat64(o), make: (n) => new Float64Array(n) },
};

/**
 * Decodes an IDX file (big-endian: two zero bytes, a type code, the number of dimensions, the
 * dimensions as uint32, then the values). Throws naming the problem on a malformed or truncated file.
 */
export function decodeIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new DatasetError(`${name}: not an IDX file (bad magic number)`);
  const type = IDX_TYPES[bytes[2] as number];
  if (!type)
    throw new DatasetError(`${name}: unknown IDX type code 0x${(bytes[2] as number).toString(16)}`);
  const rank = bytes[3] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) throw new DatasetError(`${name}: truncated header`);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const n = shape.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * rank;
  if (bytes.length < offset + n * type.bytes) {
    throw new DatasetError(
      `${name}: truncated: shape [${shape.join(', ')}] needs ${n * type.bytes} bytes of data, ${bytes.length - offset} present`,
    );
  }
  const data = type.make(n);
  if (type.bytes === 1) data.set(bytes.subarray(offset, offset + n) as never);
  else for (let i = 0; i < n; i++) data[i] = type.read(view, offset + i * type.bytes);
  return { shape, data };
}

/** Default folder of Debian's `dataset-fashion-mnist` package. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** The four files of an MNIST-layout IDX folder, per split. */
export const IDX_FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

/** Fashion-MNIST class names. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Card of Fashion-MNIST. */
export const FASHION_MNIST_CARD: DatasetCard = {
  name: 'fashion-mnist',
  description: '28×28 gray images of clothing, 10 classes (Xiao et al., 2017).',
  source: `IDX files (plain or .gz) in a folder: Debian's dataset-fashion-mnist installs them in ${DEBIAN_FASHION_MNIST}`,
  license: 'MIT',
  size: '70,000 images',
  splits: { train: '60,000 (train-*)', test: '10,000 (t10k-*)' },
};
