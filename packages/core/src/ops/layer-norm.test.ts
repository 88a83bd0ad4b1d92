import * as tf from '@tensorflow/tfjs';
import { checkGradients } from '../gradcheck.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { layerNorm } from './layer-norm.js';

describe.each(TEST_BACKENDS)('layerNorm on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('normalises each row to mean 0, variance 1, then scales and shifts', () => {
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [10, 0, -10, 4],
    ]);
    const y = layerNorm(x).arraySync() as number[][];
    for (const row of y) {
      const mean = row.reduce((a, b) => a + b, 0) / 4;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
      expect(mean).toBeCloseTo(0, 5);
      expect(variance).toBeCloseTo(1, 3);
    }
    // Hand value: [1, 2, 3, 4] has mean 2.5, variance 1.25.
    const scaled = (layerNorm(x, tf.fill([4], 2), tf.fill([4], 1)).arraySync() as number[][])[0]!;
    expect(scaled[0]).toBeCloseTo(1 + (2 * (1 - 2.5)) / Math.sqrt(1.25 + 1e-5), 5);
  });

  it('passes a gradient check and validates parameter shapes', () => {
    const x = tf.randomNormal([3, 5], 0, 1, 'float32', 1);
    const g = tf.randomNormal([5], 1, 0.1, 'float32', 2);
    const b = tf.randomNormal([5], 0, 0.1, 'float32', 3);
    const w = tf.randomNormal([3, 5], 0, 1, 'float32', 4);
    const res = checkGradients(
      (xx, gg, bb) => tf.sum(tf.mul(layerNorm(xx!, gg, bb), w)) as tf.Scalar,
      [x, g, b],
      { eps: 1e-2 },
    );
    expect(res.ok).toBe(true);
    expect(() => layerNorm(x, tf.ones([4]))).toThrow('layerNorm: gamma must be [5], got [4]');
  });
});
