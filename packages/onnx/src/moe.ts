// MoE layers as ONNX subgraphs: sparse token-choice routing (TopK, per-expert gather, one
// ScatterND-add per expert) and Soft MoE (dispatch/combine softmaxes over each image's tokens).
import { DT, type GraphBuilder } from './graph.js';

/** Reads a weight of the model by its documented name. */
export type WeightReader = (name: string) => { data: Float32Array; shape: number[] };

/** Token-choice MoE layer description. */
export interface TopKSpec {
  E: number;
  k: number;
  d: number;
  /** `topk-then-softmax` (the authors' LM gate) or `softmax-then-topk` (V-MoE). */
  scoring: 'topk-then-softmax' | 'softmax-then-topk';
  /** Divide the top-k gate values by their sum (softmax-then-topk only). */
  renormalize: boolean;
  activation: 'relu' | 'gelu';
}

function optional<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)) (opset 17 has no Gelu op). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op1('Erf', [g.op1('Mul', [x, g.scalar(Math.SQRT1_2)])]);
  return g.op1('Mul', [g.op1('Mul', [x, g.scalar(0.5)]), g.op1('Add', [erf, g.scalar(1)])]);
}

/** Expert e's MLP on rows `[n, d]` (weights `<prefix>.experts.{w1,b1,w2,b2}` sliced per expert). */
function expertMlp(
  g: GraphBuilder,
  rows: string,
  prefix: string,
  e: number,
  d: number,
  activation: 'relu' | 'gelu',
  data: WeightReader,
): string {
  const w1 = data(`${prefix}.experts.w1`);
  const w2 = data(`${prefix}.experts.w2`);
  const hidden = w1.shape[2] as number;
  const b1 = optional(() => data(`${prefix}.experts.b1`));
  const b2 = optional(() => data(`${prefix}.experts.b2`));
  const slice = (t: { data: Float32Array; shape: number[] }, n: number, name: string) =>
    g.float(`${prefix}.experts.${name}.${e}`, t.data.slice(e * n, (e + 1) * n), t.shape.slice(1));
  let h = g.op1('MatMul', [rows, slice(w1, d * hidden, 'w1')]);
  if (b1) h = g.op1('Add', [h, slice(b1, hidden, 'b1')]);
  h = activation === 'relu' ? g.op1('Relu', [h]) : gelu(g, h);
  let y = g.op1('MatMul', [h, slice(w2, hidden * d, 'w2')]);
  if (b2) y = g.op1('Add', [y, slice(b2, d, 'b2')]);
  return y;
}

/**
 * A token-choice MoE on `x [..., d]`: gate = the router's top-k (after or before a softmax), each
 * expert runs on exactly the rows routed to it (`Equal` → `NonZero` → `Gather`), and its gated
 * outputs are added back with `ScatterND(reduction="add")` — distinct indices within each
 * scatter, scatters chained per expert, so the result does not depend on thread scheduling.
 * Weights: `<prefix>.router.weight [d, E]` (+ `.bias`), `<prefix>.experts.*`.
 */
export function sparseMoE(
  g: GraphBuilder,
  x: string,
  prefix: string,
  spec: TopKSpec,
  data: WeightReader,
  routes?: string[],
): string {
  const { E, k, d } = spec;
  const X = g.op1('Reshape', [x, g.int64([-1, d])]); // [N, d]
  const rw = data(`${prefix}.router.weight`);
  let logits = g.op1('MatMul', [X, g.float(`${prefix}.router.weight`, rw.data, rw.shape)]);
  const rb = optional(() => data(`${prefix}.router.bias`));
  if (rb) logits = g.op1('Add', [logits, g.float(`${prefix}.router.bias`, rb.data, rb.shape)]);
  const scores =
    spec.scoring === 'softmax-then-topk'
      ? g.op1('Softmax', [logits], { axis: { int: -1 } })
      : logits;
  const [values, indices] = g.op(
    'TopK',
    [scores, g.int64([k])],
    { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } },
    2,
  ) as [string, string];
  // Each token's first-choice expert, for routing displays.
  routes?.push(
    g.op1('Reshape', [
      g.op1('Slice', [indices, g.int64([0]), g.int64([1]), g.int64([1])]),
      g.int64([-1]),
    ]),
  );
  let gates = values;
  if (spec.scoring === 'topk-then-softmax')
    gates = g.op1('Softmax', [values], { axis: { int: -1 } });
  else if (spec.renormalize)
    gates = g.op1('Div', [
      values,
      g.op1('ReduceSum', [values, g.int64([-1])], { keepdims: { int: 1 } }),
    ]);
  let out = g.op1('Mul', [X, g.scalar(0)]);
  for (let e = 0; e < E; e++) {
    const hit = g.op1('Cast', [g.op1('Equal', [indices, g.int64([e], [])])], {
      to: { int: DT.FLOAT },
    }); // [N, k]
    const gate = g.op1('ReduceSum', [g.op1('Mul', [gates, hit]), g.int64([1])], {
      keepdims: { int: 0 },
    }); // [N]
    const chosen = g.op1('Cast', [g.op1('ReduceMax', [hit], { axes: [1], keepdims: { int: 0 } })], {
      to: { int: DT.BOOL },
    });
    const rows = g.op1('Transpose', [g.op1('NonZero', [chosen])], { perm: [1, 0] }); // [n_e, 1]
    const flat = g.op1('Reshape', [rows, g.int64([-1])]);
    const y = expertMlp(
      g,
      g.op1('Gather', [X, flat], { axis: { int: 0 } }),
      prefix,
      e,
      d,
      spec.activation,
      data,
    );
    const ge = g.op1('Unsqueeze', [
      g.op1('Gather', [gate, flat], { axis: { int: 0 } }),
      g.int64([1]),
    ]);
    out = g.op1('ScatterND', [out, rows, g.op1('Mul', [y, ge])], { reduction: 'add' });
  }
  return g.op1('Reshape', [out, g.op1('Shape', [x])]);
}

/**
 * Soft MoE on `x [B, T, d]` with each sequence (image) a group: logits = l2n(x)·scale·l2n(φ),
 * dispatch = softmax over the T tokens, combine = softmax over the E·S slots; each expert runs
 * on its S slots. Weights `<prefix>.router.{phi [d, E·S], scale}` and `<prefix>.experts.*`.
 */
export function softMoE(
  g: GraphBuilder,
  x: string,
  prefix: string,
  spec: { E: number; S: number; d: number; activation: 'relu' | 'gelu' },
  data: WeightReader,
  routes?: string[],
): string {
  const { E, S, d } = spec;
  const l2n = (t: string, axis: number) =>
    g.op1('Mul', [
      t,
      g.op1('Reciprocal', [
        g.op1('Sqrt', [
          g.op1('Add', [
            g.op1('ReduceSum', [g.op1('Mul', [t, t]), g.int64([axis])], { keepdims: { int: 1 } }),
            g.scalar(1e-6),
          ]),
        ]),
      ]),
    ]);
  const phi = data(`${prefix}.router.phi`);
  const scale = data(`${prefix}.router.scale`);
  const phin = g.op1('Mul', [
    l2n(g.float(`${prefix}.router.phi`, phi.data, phi.shape), 0),
    g.float(`${prefix}.router.scale`, scale.data, []),
  ]);
  const logits = g.op1('MatMul', [l2n(x, -1), phin]); // [B, T, E·S]
  const dispatch = g.op1('Softmax', [logits], { axis: { int: 1 } });
  const combine = g.op1('Softmax', [logits], { axis: { int: -1 } });
  // The expert of each token's heaviest combine slot, for routing displays.
  routes?.push(
    g.op1('Reshape', [
      g.op1('Div', [
        g.op1('ArgMax', [combine], { axis: { int: -1 }, keepdims: { int: 0 } }),
        g.int64([S], []),
      ]),
      g.int64([-1]),
    ]),
  );
  const slotsIn = g.op1('MatMul', [g.op1('Transpose', [dispatch], { perm: [0, 2, 1] }), x]); // [B, E·S, d]
  const outs: string[] = [];
  for (let e = 0; e < E; e++) {
    const slots = g.op1('Slice', [slotsIn, g.int64([e * S]), g.int64([(e + 1) * S]), g.int64([1])]); // [B, S, d]
    outs.push(expertMlp(g, slots, prefix, e, d, spec.activation, data));
  }
  const slotsOut =
    outs.length === 1 ? (outs[0] as string) : g.op1('Concat', outs, { axis: { int: 1 } });
  return g.op1('MatMul', [combine, slotsOut]); // [B, T, d]
}
