import * as tf from '@tensorflow/tfjs';

/**
 * Gradient of TopK, which TensorFlow.js does not define: the upstream gradient of each selected
 * value flows back to the position it was taken from (a scatter of `dy` along the last axis); the
 * indices output has no gradient.
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
          // Scatter dy into the chosen positions of a flat [rows · n] buffer with a segment sum:
          // O(rows · k), where a one-hot would cost O(rows · k · n).
          const n = x.shape[x.shape.length - 1] ?? 0;
          const k = indices.shape[indices.shape.length - 1] ?? 0;
          const rows = x.size / Math.max(n, 1);
          const rowBase = tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(n, 'int32'));
          const flat = tf.add(
            tf.reshape(tf.cast(indices, 'int32'), [rows, k]),
            tf.expandDims(rowBase, 1),
          );
          const dx = tf.unsortedSegmentSum(
            tf.reshape(dValues, [rows * k]),
            tf.reshape(flat, [rows * k]),
            rows * n,
          );
          return tf.reshape(dx, x.shape);
        }),
    };
  },
};
