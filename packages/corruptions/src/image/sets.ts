import type { ImageSet } from '@msmoe/datasets';
import { BENCHMARK_CORRUPTIONS, type CorruptionName, type Profile } from './constants.js';
import { corrupt } from './corrupt.js';

/**
 * A corrupted copy of an image set (CIFAR-10-C / MNIST-C style): image i is corrupted with the
 * stream of (seed, i, corruption), labels unchanged. `quantize: 'uint8'` floors to integers as
 * CIFAR-10-C stores them.
 */
export function corruptSet(
  set: ImageSet,
  name: CorruptionName,
  severity: number,
  options: { seed?: number; profile?: Profile; quantize?: 'none' | 'uint8'; limit?: number } = {},
): ImageSet {
  const count = Math.min(set.count, options.limit ?? set.count);
  const size = set.height * set.width * set.channels;
  const images = new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    const out = corrupt(
      {
        data: set.images.subarray(i * size, (i + 1) * size),
        height: set.height,
        width: set.width,
        channels: set.channels,
      },
      name,
      severity,
      { seed: options.seed, index: i, profile: options.profile, quantize: options.quantize },
    );
    images.set(out.data, i * size);
  }
  return { ...set, images, labels: set.labels.slice(0, count), count };
}

/** One block of a corrupted test suite. */
export interface CorruptedBlock {
  corruption: CorruptionName;
  severity: number;
  set: ImageSet;
}

/**
 * The corrupted test suite of a data set: every corruption (default the 15 benchmark ones) at
 * every severity (default 1–5), as a lazy sequence so memory holds one block at a time.
 */
export function* corruptedSuite(
  set: ImageSet,
  options: {
    corruptions?: readonly CorruptionName[];
    severities?: readonly number[];
    seed?: number;
    profile?: Profile;
    limit?: number;
  } = {},
): Generator<CorruptedBlock> {
  for (const corruption of options.corruptions ?? BENCHMARK_CORRUPTIONS) {
    for (const severity of options.severities ?? [1, 2, 3, 4, 5]) {
      yield { corruption, severity, set: corruptSet(set, corruption, severity, options) };
    }
  }
}
