import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { useBackend } from '../testing/backends.js';
import { dropout } from './dropout.js';

describe('dropout', () => {
  beforeAll(() => useBackend('cpu'));

  it('keeps about 1−rate of the values, scaled by 1/(1−rate), preserving the mean', () => {
    const x = tf.ones([100_000]);
    const y = dropout(x, 0.3, new Rng(1)).dataSync();
    const kept = y.filter((v) => v !== 0);
    expect(Math.abs(kept.length / y.length - 0.7)).toBeLessThan(0.01);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    expect(Math.abs(Array.from(y).reduce((a, b) => a + b, 0) / y.length - 1)).toBeLessThan(0.02);
    x.dispose();
  });

  it('is reproducible from the generator state, identity at rate 0, and validates rate', () => {
    const x = tf.ones([64]);
    expect(Array.from(dropout(x, 0.5, new Rng(2)).dataSync())).toEqual(
      Array.from(dropout(x, 0.5, new Rng(2)).dataSync()),
    );
    expect(dropout(x, 0, new Rng(0))).toBe(x);
    expect(() => dropout(x, 1, new Rng(0))).toThrow('dropout: rate must be in [0, 1), got 1');
    x.dispose();
  });

  it('passes the gradient through the kept elements only', () => {
    const x = tf.ones([32]);
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(dropout(t, 0.5, new Rng(3))))(x)
      .dataSync();
    const y = dropout(x, 0.5, new Rng(3)).dataSync();
    expect(Array.from(g)).toEqual(Array.from(y));
    x.dispose();
  });
});
