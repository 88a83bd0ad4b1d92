import { batchMatMul, dropoutMask, initVariable, linear, type Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';

/** `[B, n, H·dh] → [B·H, n, dh]`. */
function splitHeads(t: tf.Tensor, B: number, n: number, H: number, dh: number): tf.Tensor3D {
  return tf.reshape(tf.transpose(tf.reshape(t, [B, n, H, dh]), [0, 2, 1, 3]), [B * H, n, dh]);
}

/** `[B·H, n, dh] → [B, n, H·dh]`. */
function mergeHeads(t: tf.Tensor, B: number, n: number, H: number, dh: number): tf.Tensor3D {
  return tf.reshape(tf.transpose(tf.reshape(t, [B, H, n, dh]), [0, 2, 1, 3]), [B, n, H * dh]);
}

/** `[G, m, k]` with its last two axes swapped. */
const swap = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1]) as tf.Tensor3D;

/**
 * Transformer-XL's skew: the `[G, M, S]` band of relative scores (`band[i, s]` for key offset
 * `s = j − i − 1`) laid out as `[G, M, S + M]` scores by key j, with pads and reshapes instead of
 * a gather. Positions outside the band read pads or neighbouring rows: the mask removes them.
 */
function skew(band: tf.Tensor3D): tf.Tensor3D {
  const [G, M, S] = band.shape;
  const L = S + M;
  const padded = tf.concat([tf.zeros([G, M, 1]), band, tf.zeros([G, M, M])], 2); // [G, M, L + 1]
  return tf.reshape(tf.slice(tf.reshape(padded, [G, M * (L + 1)]), [0, 0], [G, M * L]), [G, M, L]);
}

/** The gradient of {@link skew}: each score read one band entry, so it is the inverse selection. */
function unskew(dScores: tf.Tensor3D, S: number): tf.Tensor3D {
  const [G, M, L] = dScores.shape;
  const flat = tf.concat([tf.reshape(dScores, [G, M * L]), tf.zeros([G, M])], 1);
  return tf.slice(tf.reshape(flat, [G, M, L + 1]), [0, 0, 1], [G, M, S]) as tf.Tensor3D;
}

/**
 * The attention core on projected `q [B, M, d]`, `k, v [B, L, d]` (L = S + M keys: cache then
 * block) and the relative key embeddings `keyPe [dh, S]`, with its own gradient written in plain
 * 2-D matMuls per head (tfjs's is rank-4 matMuls with transposed operands and a gather, several
 * times slower on wasm). `keep` is the dropout mask of the attention weights, or null.
 */
function attentionCore(
  H: number,
  bandMask: tf.Tensor2D,
  keep: tf.Tensor | null,
): (q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyPe: tf.Tensor2D) => tf.Tensor3D {
  const f = (
    q: tf.Tensor3D,
    k: tf.Tensor3D,
    v: tf.Tensor3D,
    keyPe: tf.Tensor2D,
    save: tf.GradSaveFunc,
  ) => {
    const [B, M, d] = q.shape;
    const L = k.shape[1];
    const S = keyPe.shape[1];
    const dh = d / H;
    const scale = 1 / Math.sqrt(dh);
    const qh = splitHeads(q, B, M, H, dh);
    const kh = splitHeads(k, B, L, H, dh);
    const vh = splitHeads(v, B, L, H, dh);
    const content = batchMatMul(qh, swap(kh)); // [B·H, M, L]
    const band = tf.reshape(tf.matMul(tf.reshape(qh, [B * H * M, dh]), keyPe), [B * H, M, S]);
    const scores = tf.add(tf.mul(tf.add(content, skew(band as tf.Tensor3D)), scale), bandMask);
    const a = tf.softmax(scores) as tf.Tensor3D;
    const ad = keep ? (tf.mul(a, keep) as tf.Tensor3D) : a;
    // Tensors a gradient needs must be saved: the forward's scope is disposed before backprop.
    save(keep ? [qh, kh, vh, a, ad, keyPe, keep] : [qh, kh, vh, a, ad, keyPe]);
    return {
      value: mergeHeads(batchMatMul(ad, vh), B, M, H, dh),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sa, sad, pe, mask] = saved as [
          tf.Tensor3D,
          tf.Tensor3D,
          tf.Tensor3D,
          tf.Tensor3D,
          tf.Tensor3D,
          tf.Tensor2D,
          tf.Tensor?,
        ];
        const dO = splitHeads(dy, B, M, H, dh);
        const dv = batchMatMul(swap(sad), dO); // [B·H, L, dh]
        let dA = batchMatMul(dO, swap(sv)); // [B·H, M, L]
        if (mask) dA = tf.mul(dA, mask) as tf.Tensor3D;
        // Softmax: dS = A ⊙ (dA − Σ_j dA·A), then the 1/√dh of the scores.
        const dS = tf.mul(
          tf.mul(sa, tf.sub(dA, tf.sum(tf.mul(dA, sa), -1, true))),
          scale,
        ) as tf.Tensor3D;
        const dBand = tf.reshape(unskew(dS, S), [B * H * M, S]);
        const dq = tf.add(
          batchMatMul(dS, sk),
          tf.reshape(tf.matMul(dBand, tf.transpose(pe)), [B * H, M, dh]),
        );
        const dk = batchMatMul(swap(dS), sq);
        const dPe = tf.matMul(tf.transpose(tf.reshape(sq, [B * H * M, dh])), dBand);
        return [
          mergeHeads(dq, B, M, H, dh),
          mergeHeads(dk, B, L, H, dh),
          mergeHeads(dv, B, L, H, dh),
          dPe,
        ];
      },
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as never;
}

/**
 * Causal multi-head attention over a fixed span with a cache and learned relative key position
 * embeddings (the adaptive-span / MomentumSMoE LM layer): each query attends to the `span` most
 * recent positions (itself included) of [cache, block]; the score of query i and key j adds
 * `q_i · keyPe[:, j − i − 1]` to `q_i · k_j`. Weights: `q`, `k`, `v`, `o` [d, d] (no bias) and
 * `keyPe` [dHead, span], std-1 normal as the reference.
 */
export class SpanAttention {
  readonly weights: Record<string, tf.Variable>;
  private readonly dHead: number;
  /** The band mask (0 inside the span, −1e9 outside) `[M, S + M]`, per block length. */
  private readonly masks = new Map<number, tf.Tensor2D>();

  constructor(
    readonly dModel: number,
    readonly nHeads: number,
    readonly span: number,
    rng: Rng,
  ) {
    this.dHead = dModel / nHeads;
    const init = { kind: 'kaiming-uniform', a: Math.sqrt(5) } as const;
    this.weights = {
      q: initVariable([dModel, dModel], init, rng),
      k: initVariable([dModel, dModel], init, rng),
      v: initVariable([dModel, dModel], init, rng),
      o: initVariable([dModel, dModel], init, rng),
      keyPe: initVariable([this.dHead, span], { kind: 'normal', std: 1 }, rng),
    };
  }

  private bandMask(M: number): tf.Tensor2D {
    let mask = this.masks.get(M);
    if (!mask) {
      const S = this.span;
      const L = S + M;
      const values = new Float32Array(M * L);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < L; j++) {
          const l = j - i - 1; // 0 … S−1 inside the window
          values[i * L + j] = l >= 0 && l < S ? 0 : -1e9;
        }
      mask = tf.keep(tf.tensor2d(values, [M, L]));
      this.masks.set(M, mask);
    }
    return mask;
  }

  /**
   * `h [B, M, d]` with the cache `[B, S, d]` of the previous hidden states → `[B, M, d]`.
   * Creates tensors: call inside `tf.tidy` or a gradient function.
   */
  apply(
    h: tf.Tensor3D,
    cache: tf.Tensor3D,
    options: { training?: boolean; rng?: Rng; dropout?: number } = {},
  ): tf.Tensor3D {
    const [B, M] = h.shape;
    const w = this.weights;
    const all = tf.concat([cache, h], 1); // [B, S + M, d]
    const q = linear(h, w.q as unknown as tf.Tensor2D) as tf.Tensor3D;
    const k = linear(all, w.k as unknown as tf.Tensor2D) as tf.Tensor3D;
    const v = linear(all, w.v as unknown as tf.Tensor2D) as tf.Tensor3D;
    const rate = options.dropout ?? 0;
    const keep =
      options.training && rate > 0
        ? dropoutMask([B * this.nHeads, M, this.span + M], rate, options.rng as Rng)
        : null;
    const core = attentionCore(this.nHeads, this.bandMask(M), keep);
    const out = core(q, k, v, w.keyPe as unknown as tf.Tensor2D);
    return linear(out, w.o as unknown as tf.Tensor2D) as tf.Tensor3D;
  }

  /** Frees the weights and cached masks. */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
    tf.dispose([...this.masks.values()]);
    this.masks.clear();
  }
}
