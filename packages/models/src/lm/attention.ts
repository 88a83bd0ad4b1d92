import { dropout, initVariable, linear, type Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';

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
  /** Gather index from the [M, S] band to the [M, S + M] score matrix, and the band mask, per block length. */
  private readonly bandCache = new Map<number, { index: tf.Tensor1D; mask: tf.Tensor2D }>();

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

  private band(M: number): { index: tf.Tensor1D; mask: tf.Tensor2D } {
    let b = this.bandCache.get(M);
    if (!b) {
      const S = this.span;
      const L = S + M;
      const index = new Int32Array(M * L);
      const mask = new Float32Array(M * L);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < L; j++) {
          const l = j - i - 1; // 0 … S−1 inside the window
          index[i * L + j] = i * S + Math.min(S - 1, Math.max(0, l));
          mask[i * L + j] = l >= 0 && l < S ? 0 : -1e9;
        }
      b = { index: tf.keep(tf.tensor1d(index, 'int32')), mask: tf.keep(tf.tensor2d(mask, [M, L])) };
      this.bandCache.set(M, b);
    }
    return b;
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
    const [B, M, d] = h.shape;
    const S = this.span;
    const H = this.nHeads;
    const dh = this.dHead;
    const w = this.weights;
    const heads = (t: tf.Tensor, n: number) =>
      tf.transpose(tf.reshape(t, [B, n, H, dh]), [0, 2, 1, 3]);
    const all = tf.concat([cache, h], 1); // [B, S + M, d]
    const q = heads(linear(h, w.q as unknown as tf.Tensor2D), M); // [B, H, M, dh]
    const k = heads(linear(all, w.k as unknown as tf.Tensor2D), S + M);
    const v = heads(linear(all, w.v as unknown as tf.Tensor2D), S + M);
    const content = tf.matMul(q, k, false, true); // [B, H, M, S + M]
    const posBand = tf.reshape(
      tf.matMul(tf.reshape(q, [B * H * M, dh]), w.keyPe as unknown as tf.Tensor2D),
      [B * H, M * S],
    );
    const { index, mask } = this.band(M);
    const pos = tf.reshape(tf.gather(posBand, index, 1), [B, H, M, S + M]);
    let attn = tf.softmax(tf.add(tf.div(tf.add(content, pos), Math.sqrt(dh)), mask));
    const rate = options.dropout ?? 0;
    if (options.training && rate > 0) attn = dropout(attn, rate, options.rng as Rng);
    const out = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [B, M, d]);
    return linear(out, w.o as unknown as tf.Tensor2D) as tf.Tensor3D;
  }

  /** Frees the weights and cached index tensors. */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
    for (const b of this.bandCache.values()) tf.dispose([b.index, b.mask]);
    this.bandCache.clear();
  }
}
