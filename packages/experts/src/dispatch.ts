import {
  type ExpertChoiceRouting,
  matmul,
  type Routing,
  type SoftRouting,
  type TokenChoiceRouting,
} from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import type { ExpertBank, ExpertForwardOptions } from './bank.js';

/** How token-choice assignments reach the experts. */
export type DispatchStrategy = 'auto' | 'grouped' | 'padded';

/** Options of {@link sparseMoE}. */
export interface SparseMoEOptions extends ExpertForwardOptions {
  /**
   * `grouped`: tokens sorted by expert, each expert runs on exactly its rows (cost grows with the
   * tokens, never with E). `padded`: capacity buffers `[E, C, d]` and one batched matMul per
   * projection (capacity-bounded routing). `auto` (default): padded when the routing has a
   * capacity that can drop tokens, grouped otherwise. Expert choice always uses its `[E, C]`
   * buffers; Soft MoE its slots.
   */
  strategy?: DispatchStrategy;
}

function checkShapes(x: tf.Tensor, routing: Routing, bank: ExpertBank): void {
  const d = bank.config.dModel;
  if (x.rank !== 2 || x.shape[1] !== d) {
    throw new Error(`sparseMoE: tokens must be [N, ${d}], got [${x.shape.join(', ')}]`);
  }
  if (x.shape[0] !== routing.numTokens) {
    throw new Error(`sparseMoE: routing covers ${routing.numTokens} tokens, x has ${x.shape[0]}`);
  }
  if (routing.numExperts !== bank.numExperts) {
    throw new Error(
      `sparseMoE: router has ${routing.numExperts} experts, bank has ${bank.numExperts}`,
    );
  }
}

/** Token choice, dropless: sort assignments by expert, one gather, each expert on its own rows, one segment sum. */
function tokenChoiceGrouped(
  x: tf.Tensor2D,
  r: TokenChoiceRouting,
  bank: ExpertBank,
  options: ExpertForwardOptions,
): tf.Tensor2D {
  const { numTokens: N, numExperts: E, k } = r;
  // Kept assignments per expert: the router's capacity pass already counted them.
  const counts = r.stats.tokensPerExpert;
  const total = counts.reduce((a, b) => a + b, 0);
  // Counting sort of kept assignments by expert.
  const offsets = new Int32Array(E);
  for (let e = 1; e < E; e++) offsets[e] = (offsets[e - 1] as number) + (counts[e - 1] as number);
  const perm = new Int32Array(total);
  const tokens = new Int32Array(total);
  const cursor = offsets.slice();
  for (let a = 0; a < N * k; a++) {
    if (!r.kept[a]) continue;
    const e = r.expertIndexValues[a] as number;
    const p = cursor[e]!++;
    perm[p] = a;
    tokens[p] = Math.floor(a / k);
  }
  if (total === 0) return tf.zerosLike(x);
  const tokenIds = tf.tensor1d(tokens, 'int32');
  const xs = tf.gather(x, tokenIds) as tf.Tensor2D;
  const ys = bank.forwardGrouped(xs, counts, options);
  const gates = tf.gather(tf.reshape(r.gate, [N * k]), tf.tensor1d(perm, 'int32'));
  return tf.unsortedSegmentSum(tf.mul(ys, tf.expandDims(gates, 1)), tokenIds, N) as tf.Tensor2D;
}

/** Capacity buffers: `slotToken[e·C + c]` is the token in slot c of expert e (−1 empty). */
function paddedCombine(
  x: tf.Tensor2D,
  slotToken: Int32Array,
  slotGate: tf.Tensor1D,
  E: number,
  C: number,
  bank: ExpertBank,
  options: ExpertForwardOptions,
): tf.Tensor2D {
  const [N, d] = x.shape as [number, number];
  const gatherIdx = Int32Array.from(slotToken, (t) => (t < 0 ? N : t)); // empty slots read a zero row
  const xPad = tf.concat([x, tf.zeros([1, d])], 0);
  const xs = tf.reshape(tf.gather(xPad, tf.tensor1d(gatherIdx, 'int32')), [E, C, d]) as tf.Tensor3D;
  const ys = tf.reshape(bank.forwardPadded(xs, options), [E * C, d]);
  const weighted = tf.mul(ys, tf.expandDims(slotGate, 1));
  // Segment id −1 drops the empty slots.
  return tf.unsortedSegmentSum(weighted, tf.tensor1d(slotToken, 'int32'), N) as tf.Tensor2D;
}

function tokenChoicePadded(
  x: tf.Tensor2D,
  r: TokenChoiceRouting,
  bank: ExpertBank,
  options: ExpertForwardOptions,
): tf.Tensor2D {
  const { numTokens: N, numExperts: E, k } = r;
  // Positions come from the router's capacity assignment (a running count per expert), so the
  // buffers hold max-load slots when the routing has no capacity.
  const C = r.capacity ?? Math.max(1, ...r.stats.tokensPerExpert);
  const slotToken = new Int32Array(E * C).fill(-1);
  const slotAssign = new Int32Array(E * C).fill(N * k); // points at an appended zero gate
  for (let a = 0; a < N * k; a++) {
    if (!r.kept[a]) continue;
    const slot = (r.expertIndexValues[a] as number) * C + (r.position[a] as number);
    slotToken[slot] = Math.floor(a / k);
    slotAssign[slot] = a;
  }
  const gateFlat = tf.concat([tf.reshape(r.gate, [N * k]), tf.zeros([1])], 0);
  const slotGate = tf.gather(gateFlat, tf.tensor1d(slotAssign, 'int32')) as tf.Tensor1D;
  return paddedCombine(x, slotToken, slotGate, E, C, bank, options);
}

function expertChoice(
  x: tf.Tensor2D,
  r: ExpertChoiceRouting,
  bank: ExpertBank,
  options: ExpertForwardOptions,
): tf.Tensor2D {
  const slotGate = tf.reshape(r.gate, [r.numExperts * r.capacity]) as tf.Tensor1D;
  return paddedCombine(x, r.tokenIndexValues, slotGate, r.numExperts, r.capacity, bank, options);
}

/** Soft MoE: slot inputs `Dᵀ X` per group, experts on their slots (batched), outputs `C · Ỹ`. */
function soft(
  x: tf.Tensor2D,
  r: SoftRouting,
  bank: ExpertBank,
  options: ExpertForwardOptions,
): tf.Tensor2D {
  const [N, d] = x.shape as [number, number];
  const m = r.groupSize;
  const G = N / m;
  const E = r.numExperts;
  const S = r.slotsPerExpert;
  const xg = tf.reshape(x, [G, m, d]) as tf.Tensor3D;
  const slotsIn = matmul(tf.transpose(r.dispatch, [0, 2, 1]) as tf.Tensor3D, xg); // [G, E·S, d]
  const perExpert = tf.reshape(tf.transpose(tf.reshape(slotsIn, [G, E, S, d]), [1, 0, 2, 3]), [
    E,
    G * S,
    d,
  ]);
  const slotsOut = bank.forwardPadded(perExpert as tf.Tensor3D, options);
  const back = tf.reshape(tf.transpose(tf.reshape(slotsOut, [E, G, S, d]), [1, 0, 2, 3]), [
    G,
    E * S,
    d,
  ]);
  return tf.reshape(matmul(r.combine, back as tf.Tensor3D), [N, d]) as tf.Tensor2D;
}

/**
 * The sparse MoE computation `y_t = Σ_{e ∈ experts(t)} g_te · E_e(x_t)` for tokens `x [N, d]`
 * routed by any router: tokens are gathered per expert, each expert runs only on its tokens, and
 * the outputs are combined with the gate weights by `unsortedSegmentSum`. Gradients reach the
 * gate (router) and the expert weights. Creates tensors: call inside `tf.tidy` or a gradient
 * function.
 */
export function sparseMoE(
  x: tf.Tensor2D,
  routing: Routing,
  bank: ExpertBank,
  options: SparseMoEOptions = {},
): tf.Tensor2D {
  checkShapes(x, routing, bank);
  switch (routing.kind) {
    case 'token-choice': {
      const strategy = options.strategy ?? 'auto';
      const padded =
        strategy === 'padded' ||
        (strategy === 'auto' && routing.capacity !== null && !routing.dropless);
      return padded
        ? tokenChoicePadded(x, routing, bank, options)
        : tokenChoiceGrouped(x, routing, bank, options);
    }
    case 'expert-choice':
      return expertChoice(x, routing, bank, options);
    case 'soft':
      return soft(x, routing, bank, options);
  }
}

/**
 * Test oracle: runs every expert on every token and mixes the outputs with a dense `[N, E]` gate
 * matrix (Soft MoE: explicit weighted sums). Cost grows with E; never use it for training.
 */
export function denseMoE(
  x: tf.Tensor2D,
  routing: Routing,
  bank: ExpertBank,
  options: ExpertForwardOptions = {},
): tf.Tensor2D {
  checkShapes(x, routing, bank);
  const [N, d] = x.shape as [number, number];
  const E = routing.numExperts;
  if (routing.kind === 'soft') {
    const m = routing.groupSize;
    const G = N / m;
    const S = routing.slotsPerExpert;
    const xg = tf.reshape(x, [G, m, 1, d]);
    // slotsIn[g, s] = Σ_t dispatch[g, t, s] · x[g, t]   (broadcast and sum, no matMul)
    const slotsIn = tf.sum(tf.mul(tf.expandDims(routing.dispatch, 3), xg), 1); // [G, E·S, d]
    const outs: tf.Tensor[] = [];
    for (let e = 0; e < E; e++) {
      const rows = tf.reshape(
        tf.slice(tf.reshape(slotsIn, [G, E, S, d]), [0, e, 0, 0], [G, 1, S, d]),
        [G * S, d],
      );
      const all = bank.forwardAll(rows as tf.Tensor2D, options); // [E, G·S, d]
      outs.push(tf.reshape(tf.slice(all, [e, 0, 0], [1, G * S, d]), [G, 1, S, d]));
    }
    const slotsOut = tf.reshape(tf.concat(outs, 1), [G, 1, E * S, d]);
    return tf.reshape(tf.sum(tf.mul(tf.expandDims(routing.combine, 3), slotsOut), 2), [
      N,
      d,
    ]) as tf.Tensor2D;
  }
  let dense: tf.Tensor2D; // [N, E]
  if (routing.kind === 'token-choice') {
    const { k } = routing;
    const parts: tf.Tensor[] = [];
    for (let j = 0; j < k; j++) {
      const idx = Int32Array.from(
        { length: N },
        (_, t) => routing.expertIndexValues[t * k + j] as number,
      );
      const oneHot = tf.oneHot(tf.tensor1d(idx, 'int32'), E, 1, 0, 'float32');
      parts.push(tf.mul(oneHot, tf.slice(routing.gate, [0, j], [N, 1])));
    }
    dense = tf.addN(parts) as tf.Tensor2D;
  } else {
    const C = routing.capacity;
    const oneHot = tf.oneHot(
      tf.tensor2d(routing.tokenIndexValues, [E, C], 'int32'),
      N,
      1,
      0,
      'float32',
    ); // [E, C, N]
    dense = tf.transpose(tf.sum(tf.mul(oneHot, tf.expandDims(routing.gate, 2)), 1)) as tf.Tensor2D;
  }
  const all = tf.transpose(bank.forwardAll(x, options), [1, 0, 2]); // [N, E, d]
  return tf.sum(tf.mul(all, tf.expandDims(dense, 2)), 1) as tf.Tensor2D;
}
