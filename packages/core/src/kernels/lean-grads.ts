import * as tf from '@tensorflow/tfjs';

// Gradients of the elementwise kernels without the work tfjs's own do for dtypes training never
// uses: theirs cast every float32 operand to float32 (a copy kernel each on wasm and cpu), the
// square root's recomputes √x, and the division's builds b² for ∂/∂b. Same values (checked
// against finite differences and tfjs's gradients in the tests), fewer kernels: an update rule or
// a LayerNorm runs several of these per layer.

const { getReductionAxes, assertAndGetBroadcastShape } = tf.broadcast_util;

/** `t` summed over the axes broadcasting added, in the shape of `like`. */
function unbroadcast(t: tf.Tensor, like: tf.Tensor, outShape: number[]): tf.Tensor {
  const axes = getReductionAxes(like.shape, outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, like.shape);
}

/** The operand as float32 (no copy when it is one already, the training case). */
const f32 = (t: tf.Tensor) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));

/** `∂(a·b)`: `dy·b` and `dy·a`, reduced over broadcast axes. */
export const multiplyGradConfig: tf.GradConfig = {
  kernelName: tf.Multiply,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const out = assertAndGetBroadcastShape(a.shape, b.shape);
    const d = dy as tf.Tensor;
    return {
      a: () => unbroadcast(tf.mul(d, f32(b)), a, out),
      b: () => unbroadcast(tf.mul(d, f32(a)), b, out),
    };
  },
};

/** `∂(a/b)`: `dy/b` and `−dy·y/b` with the saved output `y = a/b` (no b², no second division of a). */
export const divGradConfig: tf.GradConfig = {
  kernelName: tf.RealDiv,
  inputsToSave: ['a', 'b'],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [a, b, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const out = assertAndGetBroadcastShape(a.shape, b.shape);
    const d = dy as tf.Tensor;
    return {
      a: () => unbroadcast(tf.div(d, f32(b)), a, out),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(d, y), f32(b))), b, out),
    };
  },
};

/** `∂(x²) = 2·x·dy`. */
export const squareGradConfig: tf.GradConfig = {
  kernelName: tf.Square,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.mul(tf.mul(dy as tf.Tensor, f32(x)), 2) };
  },
};

/** `∂√x = dy / (2√x)` with the saved output `√x` (tfjs recomputes the root). */
export const sqrtGradConfig: tf.GradConfig = {
  kernelName: tf.Sqrt,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved as [tf.Tensor];
    return { x: () => tf.div(dy as tf.Tensor, tf.mul(y, 2)) };
  },
};

/** Gradients msmoe registers in place of tfjs's for the elementwise kernels. */
export const LEAN_GRADIENTS: readonly tf.GradConfig[] = [
  multiplyGradConfig,
  divGradConfig,
  squareGradConfig,
  sqrtGradConfig,
];
