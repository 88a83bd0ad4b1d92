import * as tf from '@tensorflow/tfjs';

/**
 * Gradient of TopK, which TensorFlow.js does not define: the upstream gradient of each selected
 * value flows back to the position it was taken from (a one-hot scatter of `dy` along the last
 * axis); the indices output has no gradient.
 */
export const topKGradConfig: tf.GradConfig = {
  kernelName: tf.TopK,
  inputsToSave: ['x'],
  outputsToSave: [false, true],
  gradFunc: (dy, saved) => {
    const [x, indices] = saved as [tf.Tensor, tf.Tensor];
    const dValues = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
    return {
      x: () =>
        tf.tidy(() => {
          const n = x.shape[x.shape.length - 1] ?? 0;
          // [..., k, n] one-hot of the chosen positions, weighted by dy and summed over k. Built
          // with equal() rather than tf.oneHot, whose float32 output is wrong on wasm in tfjs 4.22.
          const positions = tf.range(0, n, 1, 'int32');
          const oneHot = tf.cast(
            tf.equal(tf.expandDims(tf.cast(indices, 'int32'), -1), positions),
            'float32',
          );
          return tf.sum(tf.mul(oneHot, tf.expandDims(dValues, -1)), -2);
        }),
    };
  },
};
