import type { DatasetCard } from '../card.js';
import { DatasetError } from '../card.js';
import type { ImageSet } from './types.js';

/** CIFAR-10 class names. */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** Card of CIFAR-10. */
export const CIFAR10_CARD: DatasetCard = {
  name: 'cifar-10',
  description: '32×32 colour images, 10 classes (Krizhevsky, 2009).',
  source:
    'the binary version (cifar-10-batches-bin) in a folder you provide; msmoe never downloads it',
  license: 'MIT-style (no explicit licence; cite the tech report)',
  size: '60,000 images',
  splits: { train: '50,000 (data_batch_1..5.bin)', test: '10,000 (test_batch.bin)' },
};

const RECORD = 1 + 32 * 32 * 3;

/**
 * Decodes CIFAR-10 binary records (1 label byte, then 1024 R, 1024 G, 1024 B bytes) into
 * `[N, 32, 32, 3]` (channels last) in 0..255.
 */
export function decodeCifarBatch(bytes: Uint8Array, name = 'CIFAR batch'): ImageSet {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DatasetError(
      `${name}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte records`,
    );
  }
  const count = bytes.length / RECORD;
  const images = new Float32Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const base = n * RECORD;
    const label = bytes[base] as number;
    if (label > 9)
      throw new DatasetError(`${name}: record ${n} has label ${label} (expected 0..9)`);
    labels[n] = label;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++)
        images[n * 3072 + p * 3 + c] = bytes[base + 1 + c * 1024 + p] as number;
    }
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

/** Concatenates image sets of one shape (the five CIFAR-10 training batches). */
export function concatCifarBatches(sets: ImageSet[]): ImageSet {
  const count = sets.reduce((a, s) => a + s.count, 0);
  const images = new Float32Array(count * 3072);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of sets) {
    images.set(s.images, at * 3072);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}
