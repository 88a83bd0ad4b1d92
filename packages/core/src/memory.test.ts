import * as tf from '@tensorflow/tfjs';
import { assertNoTensorLeak, TensorLeakError } from './memory.js';
import { useBackend } from './testing/backends.js';

describe('assertNoTensorLeak', () => {
  beforeAll(() => useBackend('cpu'));

  it('passes a step that cleans up, sync or async', async () => {
    const x = tf.ones([4]);
    await expect(
      assertNoTensorLeak(() => tf.tidy(() => tf.add(x, 1).dataSync())),
    ).resolves.toMatchObject({ repetitions: 10 });
    await expect(
      assertNoTensorLeak(async () => {
        const y = tf.mul(x, 2);
        await y.data();
        y.dispose();
      }),
    ).resolves.toBeDefined();
    x.dispose();
  });

  it('fails a step that keeps one tensor per call, saying how many', async () => {
    const kept: tf.Tensor[] = [];
    const err = await assertNoTensorLeak(() => kept.push(tf.zeros([2])), {
      repetitions: 5,
      label: 'leaky',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TensorLeakError);
    expect((err as Error).message).toMatch(
      /^leaky leaked 5 tensors over 5 repetitions \(1 per step/,
    );
    tf.dispose(kept);
  });

  it('ignores state created during warm-up (e.g. optimiser slots)', async () => {
    const v = tf.variable(tf.ones([3]));
    const opt = tf.train.adam(0.1);
    await expect(
      assertNoTensorLeak(() => opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar)),
    ).resolves.toBeDefined();
    opt.dispose();
    v.dispose();
  });
});

describe('constantVariable', () => {
  it('creates a filled trainable variable without leaving its initial tensor behind', async () => {
    const { constantVariable } = await import('./init.js');
    const before = tf.memory().numTensors;
    const v = constantVariable([2, 3], 0.5);
    expect(Array.from(v.dataSync())).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(v.trainable).toBe(true);
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
