import { loadMnist } from '@msmoe/datasets';
import { ALEXNET_ERRORS, BENCHMARK_CORRUPTIONS } from './constants.js';
import { CorruptionError } from './image.js';
import { ALEXNET, mce } from './metrics.js';
import { corruptedSuite, corruptSet } from './sets.js';

describe('mCE', () => {
  it('AlexNet against itself has mCE 1 and relative mCE 1', () => {
    const errors = Object.fromEntries(
      BENCHMARK_CORRUPTIONS.map((c) => [c, [ALEXNET_ERRORS[c], ALEXNET_ERRORS[c]]]),
    );
    const r = mce(errors, { clean: 0.4345 });
    expect(r.mce).toBeCloseTo(1, 12);
    expect(r.relativeMce).toBeCloseTo(1, 12);
    expect(r.baseline).toBe(ALEXNET.name);
  });

  it('computes CE per corruption from per-severity errors against a named baseline', () => {
    const base = { name: 'baseline-net', errors: { fog: [0.2, 0.4, 0.6, 0.8, 1.0] }, clean: 0.1 };
    const r = mce(
      { fog: [0.1, 0.2, 0.3, 0.4, 0.5] },
      { baseline: base, corruptions: ['fog'], clean: 0.05 },
    );
    expect(r.ce.fog).toBeCloseTo(0.5, 12);
    expect(r.relativeCe?.fog).toBeCloseTo((0.3 - 0.05) / (0.6 - 0.1), 12);
    expect(r.meanError).toBeCloseTo(0.3, 12);
    expect(() => mce({ fog: [0.1] })).toThrow(CorruptionError);
    expect(() => mce({ fog: [0.1] })).toThrow('mce: no errors for "gaussian_noise"');
  });
});

describe('corrupted test sets', () => {
  it('builds MNIST-C-style blocks: labels kept, images changed, reproducible', async () => {
    const { test } = await loadMnist();
    const a = corruptSet(test, 'gaussian_noise', 3, { seed: 1, limit: 20, quantize: 'uint8' });
    expect(a.count).toBe(20);
    expect(Array.from(a.labels)).toEqual(Array.from(test.labels.slice(0, 20)));
    expect(a.images.every((v) => Number.isInteger(v))).toBe(true);
    expect(Array.from(a.images)).toEqual(
      Array.from(
        corruptSet(test, 'gaussian_noise', 3, { seed: 1, limit: 20, quantize: 'uint8' }).images,
      ),
    );
    const blocks = [
      ...corruptedSuite(test, { corruptions: ['fog', 'contrast'], severities: [1, 5], limit: 3 }),
    ];
    expect(blocks.map((b) => `${b.corruption}:${b.severity}`)).toEqual([
      'fog:1',
      'fog:5',
      'contrast:1',
      'contrast:5',
    ]);
  });
});
