import type { DatasetCard } from '../card.js';

/** Images as one typed array, row-major `[N, H, W, C]`, values 0..255. */
export interface ImageSet {
  /** Pixel values 0..255 (Float32Array, so corruptions can work in place without quantising). */
  images: Float32Array;
  /** Class of each image. */
  labels: Uint8Array;
  /** Images N. */
  count: number;
  /** Height. */
  height: number;
  /** Width. */
  width: number;
  /** Channels (1 or 3). */
  channels: number;
}

/** An image dataset: splits, class names and its card. */
export interface ImageDataset {
  /** Training images. */
  train: ImageSet;
  /** Test images. */
  test: ImageSet;
  /** Class names by label. */
  classes: string[];
  /** Card (source, licence, splits). */
  card: DatasetCard;
}

/** One image of a set as its own `[H, W, C]` array (a copy). */
export function imageAt(set: ImageSet, index: number): Float32Array {
  const size = set.height * set.width * set.channels;
  if (!(index >= 0 && index < set.count))
    throw new RangeError(`imageAt: index ${index} is outside 0..${set.count - 1}`);
  return set.images.slice(index * size, (index + 1) * size);
}

/** The images whose indices are given, as a new set. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.height * set.width * set.channels;
  const images = new Float32Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i] as number;
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = set.labels[j] as number;
  }
  return { ...set, images, labels, count: indices.length };
}

/** Per-channel mean and standard deviation over a set, in 0..255 units. */
export function channelStats(set: ImageSet): { mean: number[]; std: number[] } {
  const C = set.channels;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  for (let i = 0; i < set.images.length; i++) {
    const v = set.images[i] as number;
    sum[i % C]! += v;
    sq[i % C]! += v * v;
  }
  const n = set.images.length / C;
  const mean = Array.from(sum, (s) => s / n);
  return {
    mean,
    std: Array.from(sq, (q, c) => Math.sqrt(Math.max(q / n - (mean[c] as number) ** 2, 0))),
  };
}

/** `(x − mean) / std` per channel (the normalisation models are trained with), as a new array. */
export function normalize(set: ImageSet, stats: { mean: number[]; std: number[] }): Float32Array {
  const C = set.channels;
  const out = new Float32Array(set.images.length);
  for (let i = 0; i < out.length; i++) {
    const c = i % C;
    out[i] =
      ((set.images[i] as number) - (stats.mean[c] as number)) / ((stats.std[c] as number) || 1);
  }
  return out;
}
