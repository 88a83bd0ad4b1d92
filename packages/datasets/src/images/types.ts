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

/**
 * A seeded, class-stratified sample of `n` indices of a labelled set (all of them when
 * `n ≥ labels.length`): each class gets its share of `n` (largest remainders), its members drawn
 * in a seeded random order; the result is interleaved by class and sorted by nothing else, so any
 * prefix of it is itself close to stratified. Every class present in `labels` is present in the
 * sample when `n` is at least the number of classes. Use it for every cut of an evaluation split
 * (test splits are often ordered by class: the first 500 MNIST test digits are 0–3 only).
 */
export function stratifiedIndices(labels: ArrayLike<number>, n: number, seed = 0): number[] {
  const total = labels.length;
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`stratifiedIndices: n must be a non-negative integer, got ${n}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < total; i++) {
    const c = labels[i] as number;
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const random = seededRandom(seed);
  for (const c of classes) {
    const list = byClass.get(c) as number[];
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j] as number, list[i] as number];
    }
  }
  const take = Math.min(n, total);
  // Largest-remainder shares, at least one per class while n allows.
  const shares = classes.map((c) => ((byClass.get(c) as number[]).length * take) / total);
  const quota = shares.map((s) => Math.floor(s));
  let left = take - quota.reduce((a, b) => a + b, 0);
  const order = classes
    .map((_, k) => k)
    .sort(
      (a, b) =>
        (shares[b] as number) -
          (quota[b] as number) -
          ((shares[a] as number) - (quota[a] as number)) || a - b,
    );
  for (const k of order) {
    if (left === 0) break;
    quota[k] = (quota[k] as number) + 1;
    left -= 1;
  }
  if (take >= classes.length)
    for (let k = 0; k < classes.length; k++)
      if (quota[k] === 0) {
        const donor = quota.indexOf(Math.max(...quota));
        quota[donor] = (quota[donor] as number) - 1;
        quota[k] = 1;
      }
  // Interleave: one of each class in turn.
  const out: number[] = [];
  const rounds = Math.max(...quota, 0);
  for (let r = 0; r < rounds; r++)
    for (const [k, c] of classes.entries())
      if (r < (quota[k] as number)) out.push((byClass.get(c) as number[])[r] as number);
  return out;
}

/** mulberry32: a tiny seeded generator for sampling (this package has no dependencies). */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
