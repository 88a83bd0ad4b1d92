// Exports the Transformer-XL-style MoE language model to ONNX, from its documented weight names
// and config: span attention with the cache as graph inputs/outputs and the relative key band
// built from dynamic shapes; sparse routing in the graph (TopK, per-expert gather of the routed
// rows, combine by one ScatterND-add per expert, whose indices are distinct, so the combine is
// deterministic with any thread count); the update rule's state (momentum, Adam moments, robust
// direction) as ordinary graph values; the reference (post-LN) or paper (pre-LN) structure.
import type { LmConfig, MoELanguageModel } from '@msmoe/models';
import { ruleOf } from '@msmoe/models';
import { ruleConfigSchema } from '@msmoe/update-rules';
import type * as tf from '@tensorflow/tfjs';
import { DT, GraphBuilder } from './graph.js';

/** Options of {@link exportLanguageModel}. */
export interface LmExportOptions {
  /** Vocabulary tokens (stored in metadata_props as `vocabulary`, JSON). */
  vocabulary?: string[];
  /** Extra metadata_props. */
  metadata?: Record<string, string>;
}

/** The export cannot represent this model. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

const LN_EPS = 1e-5;

/**
 * The LM as ONNX (opset 17). Inputs: `tokens` int64 `[batch, seq]`, `cache_<i>` float
 * `[batch, span, d]` per attention layer (zeros to start a stream). Outputs: `logits`
 * `[batch, seq, vocab]` and `next_cache_<i>`. metadata_props: `msmoe.kind = lm`, `msmoe.config`
 * (the model config JSON), `msmoe.rule` (coefficients), and the vocabulary when given.
 */
export function exportLanguageModel(
  model: MoELanguageModel,
  options: LmExportOptions = {},
): Uint8Array {
  const c: LmConfig = model.config;
  const vars = model.variables();
  const data = (name: string): { data: Float32Array; shape: number[] } => {
    const v = vars[name] as tf.Variable | undefined;
    if (!v) throw new OnnxExportError(`export: the model has no weight "${name}"`);
    return { data: v.dataSync() as Float32Array, shape: [...v.shape] };
  };
  const g = new GraphBuilder();
  const W = (name: string) => {
    const t = data(name);
    return g.float(name, t.data, t.shape);
  };
  const d = c.dModel;
  const H = c.nHeads;
  const dh = d / H;
  const S = c.span;
  const E = c.numExperts;
  const paper = c.structure === 'paper';
  const rule = ruleConfigSchema.parse(ruleOf(c));
  const coef = model.update.rule.coefficients();
  if (!['residual', 'heavy-ball', 'nesterov', 'adam', 'robust'].includes(rule.rule))
    throw new OnnxExportError(
      `export: update rule "${rule.rule}" is not exportable yet (residual, heavy-ball, nesterov, adam, robust are)`,
    );

  const tokens = g.input('tokens', DT.INT64, ['batch', 'seq']);
  const attentionLayers = [...c.architecture].filter((l) => l === 's').length;
  const caches = Array.from({ length: attentionLayers }, (_, i) =>
    g.input(`cache_${i}`, DT.FLOAT, ['batch', S, d]),
  );

  const ln = (x: string, prefix: string) =>
    g.op1('LayerNormalization', [x, W(`${prefix}.weight`), W(`${prefix}.bias`)], {
      axis: { int: -1 },
      epsilon: LN_EPS,
    });
  const add = (a: string, b: string) => g.op1('Add', [a, b]);
  const mul = (a: string, b: string) => g.op1('Mul', [a, b]);
  const k = (v: number) => g.scalar(v);

  let h = g.op1('Gather', [W('embedding.weight'), tokens], { axis: { int: 0 } }); // [B, M, d]
  const shape = g.op1('Shape', [h]);
  const M = g.op1('Gather', [shape, g.int64([1], [])], { axis: { int: 0 } }); // scalar
  const zero = g.op1('Mul', [h, k(0)]);

  // Band of relative positions: l = j − i − 1 for query i, key j of [cache, block].
  const i64 = (v: number) => g.int64([v], []);
  const L = g.op1('Add', [M, i64(S)]);
  const rowsI = g.op1('Unsqueeze', [g.op1('Range', [i64(0), M, i64(1)]), g.int64([1])]); // [M, 1]
  const colsJ = g.op1('Unsqueeze', [g.op1('Range', [i64(0), L, i64(1)]), g.int64([0])]); // [1, L]
  const rel = g.op1('Sub', [g.op1('Sub', [colsJ, rowsI]), i64(1)]); // [M, L]
  const inBand = g.op1('And', [
    g.op1('GreaterOrEqual', [rel, i64(0)]),
    g.op1('Less', [rel, i64(S)]),
  ]);
  const bandMask = g.op1('Where', [inBand, k(0), k(-1e9)]); // [M, L]
  const bandIndex = g.op1('Clip', [rel, i64(0), i64(S - 1)]);

  let attnIndex = 0;
  let moeIndex = 0;
  let state: Record<string, string> = { m: zero, p: zero, v: zero, d: zero };
  const nextCaches: string[] = [];
  c.architecture.split('').forEach((letter, li) => {
    const p = `layers.${li}`;
    if (letter === 's') {
      const cache = caches[attnIndex] as string;
      const input = paper ? ln(h, `${p}.ln`) : h;
      const joined = g.op1('Concat', [cache, input], { axis: { int: 1 } }); // [B, S + M, d]
      nextCaches.push(g.op1('Slice', [joined, g.int64([-S]), g.int64([2 ** 62]), g.int64([1])]));
      const heads = (x: string) =>
        g.op1('Transpose', [g.op1('Reshape', [x, g.int64([0, 0, H, dh])])], { perm: [0, 2, 1, 3] });
      const q = heads(g.op1('MatMul', [input, W(`${p}.attn.q`)])); // [B, H, M, dh]
      const kk = heads(g.op1('MatMul', [joined, W(`${p}.attn.k`)])); // [B, H, L, dh]
      const v = heads(g.op1('MatMul', [joined, W(`${p}.attn.v`)]));
      const content = g.op1('MatMul', [q, g.op1('Transpose', [kk], { perm: [0, 1, 3, 2] })]); // [B, H, M, L]
      const posBand = g.op1('MatMul', [q, W(`${p}.attn.keyPe`)]); // [B, H, M, S]
      const index = g.op1('Expand', [bandIndex, g.op1('Shape', [content])]);
      const pos = g.op1('GatherElements', [posBand, index], { axis: { int: 3 } });
      const scores = add(g.op1('Div', [add(content, pos), k(Math.sqrt(dh))]), bandMask);
      const attn = g.op1('Softmax', [scores], { axis: { int: -1 } });
      const out = g.op1('Reshape', [
        g.op1('Transpose', [g.op1('MatMul', [attn, v])], { perm: [0, 2, 1, 3] }),
        g.int64([0, 0, d]),
      ]);
      const a = g.op1('MatMul', [out, W(`${p}.attn.o`)]);
      h = paper ? add(h, a) : ln(add(h, a), `${p}.ln`);
      attnIndex++;
      return;
    }
    if (letter === 'f') {
      const f = (x: string) =>
        add(
          g.op1('MatMul', [
            g.op1('Relu', [add(g.op1('MatMul', [x, W(`${p}.ffn.w1`)]), W(`${p}.ffn.b1`))]),
            W(`${p}.ffn.w2`),
          ]),
          W(`${p}.ffn.b2`),
        );
      h = paper ? add(h, f(ln(h, `${p}.ln`))) : ln(add(h, f(h)), `${p}.ln`);
      return;
    }
    // An MoE layer: f(x) = Σ over the top-k experts of softmax(top-k logits) · expert(x).
    const t = moeIndex++;
    const moe = (x: string) => moeBlock(g, paper ? ln(x, `${p}.ln`) : x, p, E, c.k, d, data);
    let delta: string;
    const next = { ...state };
    switch (rule.rule) {
      case 'residual':
        delta = moe(h);
        break;
      case 'heavy-ball': {
        const m = add(
          mul(state.m as string, k(coef.mu as number)),
          mul(moe(h), k(coef.gamma as number)),
        );
        delta = next.m = m;
        break;
      }
      case 'nesterov': {
        const momentum = mul(state.m as string, k(coef.mu as number));
        const m = add(momentum, mul(moe(add(h, momentum)), k(coef.gamma as number)));
        delta = next.m = m;
        break;
      }
      case 'adam': {
        const u = moe(h);
        const adamLayer = rule.allLayers || t < rule.adamLayers;
        if (!adamLayer) {
          const m = add(
            mul(state.m as string, k(coef.mu as number)),
            mul(u, k(coef.gamma2 as number)),
          );
          delta = next.m = m;
        } else {
          const [b1, b2] = [coef.beta1 as number, coef.beta2 as number];
          const pp = add(mul(state.p as string, k(b1)), mul(u, k(1 - b1)));
          const vv = add(mul(state.v as string, k(b2)), mul(g.op1('Mul', [u, u]), k(1 - b2)));
          let pHat = pp;
          let vHat = vv;
          if (rule.biasCorrection) {
            pHat = g.op1('Div', [pp, k(1 - b1 ** (t + 1))]);
            vHat = g.op1('Div', [vv, k(1 - b2 ** (t + 1))]);
          }
          delta = mul(
            g.op1('Div', [pHat, g.op1('Sqrt', [add(vHat, k(rule.eps))])]),
            k(coef.gamma1 as number),
          );
          Object.assign(next, { p: pp, v: vv, m: mul(u, k(coef.gamma2 as number)) });
        }
        break;
      }
      case 'robust': {
        const u = moe(add(h, mul(state.d as string, k(coef.c as number))));
        delta = next.d = add(
          mul(state.d as string, k(coef.beta as number)),
          mul(u, k(coef.alpha as number)),
        );
        break;
      }
      default:
        throw new OnnxExportError(`export: update rule "${rule.rule}" is not exportable`);
    }
    state = next;
    if (paper) h = add(h, delta);
    else {
      const sign = model.update.rule.referenceSign;
      const signed = sign === 1 ? delta : g.op1('Neg', [delta]);
      const inner = g.op1(
        'LayerNormalization',
        [
          add(h, signed),
          W(`update.layers.${t}.ln_inner.weight`),
          W(`update.layers.${t}.ln_inner.bias`),
        ],
        {
          axis: { int: -1 },
          epsilon: LN_EPS,
        },
      );
      h = g.op1(
        'LayerNormalization',
        [add(h, inner), W(`update.layers.${t}.ln_out.weight`), W(`update.layers.${t}.ln_out.bias`)],
        {
          axis: { int: -1 },
          epsilon: LN_EPS,
        },
      );
    }
  });
  if (paper) h = ln(h, 'final_ln');
  const logits = add(g.op1('MatMul', [h, W('out.weight')]), W('out.bias'));
  g.output(logits, 'logits', DT.FLOAT, ['batch', 'seq', c.vocabSize]);
  nextCaches.forEach((nc, i) => {
    g.output(nc, `next_cache_${i}`, DT.FLOAT, ['batch', S, d]);
  });
  return g.build('msmoe_lm', {
    'msmoe.kind': 'lm',
    'msmoe.config': JSON.stringify(c),
    'msmoe.rule': JSON.stringify({ rule: rule.rule, ...coef }),
    ...(options.vocabulary ? { vocabulary: JSON.stringify(options.vocabulary) } : {}),
    ...(options.metadata ?? {}),
  });
}

/** One sparse MoE layer on `x [B, M, d]`: top-k routing, per-expert gather, expert MLP, ScatterND-add combine. */
function moeBlock(
  g: GraphBuilder,
  x: string,
  prefix: string,
  E: number,
  topK: number,
  d: number,
  data: (name: string) => { data: Float32Array; shape: number[] },
): string {
  const X = g.op1('Reshape', [x, g.int64([-1, d])]); // [N, d]
  const r = `${prefix}.moe.router`;
  const routerW = data(`${r}.weight`);
  let logits = g.op1('MatMul', [X, g.float(`${r}.weight`, routerW.data, routerW.shape)]);
  try {
    const b = data(`${r}.bias`);
    logits = g.op1('Add', [logits, g.float(`${r}.bias`, b.data, b.shape)]);
  } catch {
    // router without bias
  }
  const [values, indices] = g.op(
    'TopK',
    [logits, g.int64([topK])],
    { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } },
    2,
  ) as [string, string];
  const gates = g.op1('Softmax', [values], { axis: { int: -1 } }); // [N, k]
  const w1 = data(`${prefix}.moe.experts.w1`);
  const w2 = data(`${prefix}.moe.experts.w2`);
  const hidden = w1.shape[2] as number;
  const b1 = safe(() => data(`${prefix}.moe.experts.b1`));
  const b2 = safe(() => data(`${prefix}.moe.experts.b2`));
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
    const xe = g.op1('Gather', [X, flat], { axis: { int: 0 } });
    const slice = (t: { data: Float32Array; shape: number[] }, n: number, name: string) =>
      g.float(
        `${prefix}.moe.experts.${name}.${e}`,
        t.data.slice(e * n, (e + 1) * n),
        t.shape.slice(1),
      );
    let hE = g.op1('MatMul', [xe, slice(w1, d * hidden, 'w1')]);
    if (b1) hE = g.op1('Add', [hE, slice(b1, hidden, 'b1')]);
    hE = g.op1('Relu', [hE]);
    let yE = g.op1('MatMul', [hE, slice(w2, hidden * d, 'w2')]);
    if (b2) yE = g.op1('Add', [yE, slice(b2, d, 'b2')]);
    const ge = g.op1('Unsqueeze', [
      g.op1('Gather', [gate, flat], { axis: { int: 0 } }),
      g.int64([1]),
    ]);
    out = g.op1('ScatterND', [out, rows, g.op1('Mul', [yE, ge])], { reduction: 'add' });
  }
  return g.op1('Reshape', [out, g.op1('Shape', [x])]);
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
