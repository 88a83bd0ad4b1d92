// Runs in its own module registry with wasm as the very first backend: the kernel fixes must
// survive tfjs-backend-wasm registering its own kernels on import.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend.js';

it('keeps the OneHot fix when wasm is the first backend loaded', async () => {
  await initBackend({ prefer: 'wasm', fallback: false, env: {} });
  const o = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 3, 1, 0, 'float32');
  expect(Array.from(o.dataSync())).toEqual([0, 1, 0, 1, 0, 0]);
  const ids = tf.tensor1d([0, 0], 'int32');
  expect(Array.from(tf.unsortedSegmentSum(tf.tensor1d([1, 2]), ids, 1).dataSync())).toEqual([3]);
});
