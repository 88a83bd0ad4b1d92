import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../testing/backends.js';
import { hostView, isHostBackend, readOnlyData } from './host.js';

describe('host data', () => {
  beforeAll(() => useBackend('cpu'));

  it('names the backends whose tensors live in this process (wasm, cpu), the current one by default', () => {
    expect(['wasm', 'cpu'].map((b) => isHostBackend(b))).toEqual([true, true]);
    expect(['webgl', 'webgpu', 'tensorflow'].map((b) => isHostBackend(b))).toEqual([
      false,
      false,
      false,
    ]);
    expect(isHostBackend()).toBe(true); // cpu
  });

  it('reads a tensor without a copy on cpu: the view is the tensor memory', () => {
    const t = tf.tensor1d([1, 2, 3]);
    const view = hostView(t) as Float32Array;
    view[0] = 7;
    expect(Array.from(t.dataSync())).toEqual([7, 2, 3]);
    expect(Array.from(readOnlyData(t))).toEqual([7, 2, 3]);
    expect(hostView(tf.tensor1d([1], 'int32'))).toBeNull();
    t.dispose();
  });
});
