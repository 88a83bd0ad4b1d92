import * as tf from '@tensorflow/tfjs';

/**
 * Swaps the last two axes. On wasm an explicit transpose followed by a plain matMul is 10–40×
 * faster than a matMul with a transposed-operand flag, which is what tfjs's own gradient issues.
 */
function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf
    .engine()
    .runKernel(tf.Transpose, { x: t }, { perm } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

const PLAIN = { transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap;

/** Backends whose batched matMul is slower than a loop of plain ones (wasm: 3–12× here). */
const LOOPED = new Set(['wasm', 'cpu']);

/**
 * Plain matMul of same-rank operands, straight to the kernel: `tf.matMul` wraps every call in
 * three reshapes (to rank 3 and back), whose engine bookkeeping adds up when an MoE layer issues
 * six matMuls per expert and step. Every backend's BatchMatMul kernel accepts rank 2 and 3; on
 * wasm and cpu a rank-3 product is a loop of rank-2 ones ({@link batchMatMul}).
 */
function mm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank === 3 && LOOPED.has(tf.getBackend()))
    return batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D);
  return tf.engine().runKernel(tf.BatchMatMul, { a, b }, PLAIN) as tf.Tensor;
}

/**
 * `[G, m, k] · [G, k, n] → [G, m, n]` with plain matMuls only (no gradient: for custom ops' own
 * forward and backward). On wasm and cpu it unstacks the G products and stacks the results:
 * XNNPACK's plain matMul beats tfjs-wasm's batched kernel by 3× for attention-sized products.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (!LOOPED.has(tf.getBackend()) || a.shape[0] === 1)
    return tf.engine().runKernel(tf.BatchMatMul, { a, b }, PLAIN) as tf.Tensor3D;
  return tf.tidy(() => {
    const as = tf.unstack(a);
    const bs = tf.unstack(b);
    return tf.stack(
      as.map(
        (x, i) =>
          tf
            .engine()
            .runKernel(tf.BatchMatMul, { a: x, b: bs[i] as tf.Tensor }, PLAIN) as tf.Tensor,
      ),
    ) as tf.Tensor3D;
  });
}

/**
 * `dy·bᵀ` (the gradient of `a` in `y = a·b`) in whichever of two equal forms moves less memory.
 * XNNPACK packs the right-hand operand of every matMul, so `dy·transpose(b)` reads a weight `b`
 * twice (transpose, then pack); `transpose(b·transpose(dy))` leaves `b` as the unpacked left
 * operand and only transposes token-sized tensors. The second wins for a large weight applied to
 * few rows (an expert's [d, h] matrix and its few dozen tokens: 64 experts 18% faster per step),
 * the first for large batches.
 */
function gradA(dy: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const r = dy.rank;
  const m = dy.shape[r - 2] as number;
  const n = dy.shape[r - 1] as number;
  const k = b.shape[r - 2] as number;
  if (2 * m * n + m * k < 2 * k * n) return swapLastTwo(mm(b, swapLastTwo(dy)));
  return mm(dy, swapLastTwo(b));
}

/**
 * Column sums `[m, n] → [n]` (a bias gradient). tfjs-wasm reduces a non-last axis by transposing
 * first (37 ms for 512 × 10,001 here); a ones-row matMul takes 0.7 ms.
 */
function columnSums(t: tf.Tensor): tf.Tensor {
  if (!LOOPED.has(tf.getBackend()) || t.rank !== 2) return tf.sum(t, 0);
  const m = t.shape[0] as number;
  return tf.reshape(mm(tf.ones([1, m]), t), [t.shape[1] as number]);
}

/** `act(a·b + bias)` with the same gradient scheme, the forward as one fused kernel. */
function makeAffine(activation: 'linear' | 'relu') {
  return tf.customGrad(((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    const value = tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation });
    save(activation === 'relu' ? [a, b, value] : [a, b]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb, out] = saved as [tf.Tensor, tf.Tensor, tf.Tensor?];
        const dz = out ? tf.mul(dy, tf.step(out)) : dy;
        return [gradA(dz, sb), mm(swapLastTwo(sa), dz), columnSums(dz)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (
    a: tf.Tensor,
    b: tf.Tensor,
    bias: tf.Tensor,
  ) => tf.Tensor;
}

const AFFINE = { linear: makeAffine('linear'), relu: makeAffine('relu') };

type GradFn = (
  a: tf.Tensor,
  b: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
};

/**
 * a·b with gradients dA = dy·bᵀ and dB = aᵀ·dy, each one explicit transpose plus one plain matMul.
 */
const plainMatmul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: mm(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return [gradA(dy, sb), mm(swapLastTwo(sa), dy)];
    },
  };
}) as GradFn as unknown as Parameters<typeof tf.customGrad>[0]) as (
  a: tf.Tensor,
  b: tf.Tensor,
) => tf.Tensor;

function shapeText(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Matrix product `a · b` for rank-2 (`[m,k]·[k,n]`) or batched rank-3 (`[B,m,k]·[B,k,n]`) float
 * tensors, with a custom gradient that only issues plain (non-transposed-flag) matMuls. Values and
 * gradients equal `tf.matMul`'s; on the wasm backend the backward pass is several times faster.
 *
 * @throws Error naming both shapes when ranks or inner dimensions do not match.
 */
export function matmul<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T): T {
  if (a.rank !== b.rank || (a.rank !== 2 && a.rank !== 3)) {
    throw new Error(
      `matmul: a ${shapeText(a)} and b ${shapeText(b)} must both be rank 2 or both rank 3`,
    );
  }
  if (a.shape[a.rank - 1] !== b.shape[b.rank - 2]) {
    throw new Error(`matmul: inner dimensions differ: a ${shapeText(a)}, b ${shapeText(b)}`);
  }
  if (a.rank === 3 && a.shape[0] !== b.shape[0]) {
    throw new Error(`matmul: batch dimensions differ: a ${shapeText(a)}, b ${shapeText(b)}`);
  }
  return plainMatmul(a, b) as T;
}

/**
 * Affine map `y = x · W + b` over the last axis of `x`.
 *
 * Layout: `W` is `[in, out]` (TensorFlow's convention; PyTorch stores `[out, in]`, so transpose
 * when importing PyTorch weights), `b` is `[out]`. `x` is `[..., in]` of any rank ≥ 1; leading
 * axes are flattened for one matMul and restored afterwards. `activation: 'relu'` applies ReLU
 * to the result. With a bias the forward is one fused kernel (matMul + bias + activation).
 * Gradients use only plain matMuls, like {@link matmul}.
 *
 * @example
 * ```ts
 * const y = linear(tf.ones([8, 16, 32]), W, b); // W: [32, 64], b: [64] -> y: [8, 16, 64]
 * ```
 */
export function linear(
  x: tf.Tensor,
  W: tf.Tensor2D,
  b?: tf.Tensor1D,
  activation: 'linear' | 'relu' = 'linear',
): tf.Tensor {
  if (W.rank !== 2) throw new Error(`linear: W must be [in, out], got ${shapeText(W)}`);
  const [inDim, outDim] = W.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inDim) {
    throw new Error(`linear: last axis of x ${shapeText(x)} must equal W's in dimension ${inDim}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== outDim)) {
    throw new Error(`linear: b must be [${outDim}], got ${shapeText(b)}`);
  }
  // The common case (rank-2 input with a bias) is a single op: skip the tidy scope, whose
  // bookkeeping is measurable when an MoE layer calls linear twice per expert.
  if (b && x.rank === 2) return AFFINE[activation](x, W, b);
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, inDim]) as tf.Tensor2D);
    let y: tf.Tensor;
    if (b) y = AFFINE[activation](x2, W, b);
    else {
      y = matmul(x2, W);
      if (activation === 'relu') y = tf.relu(y);
    }
    return x.rank === 2 ? y : tf.reshape(y, [...lead, outDim]);
  });
}
