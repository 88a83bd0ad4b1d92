// Exports the Transformer-XL-style MoE language model to ONNX, from its documented weight names
// and config: span attention with the cache as graph inputs/outputs and the relative key band
// built from dynamic shapes; sparse routing in the graph (TopK, per-expert gather of the routed
// rows, combine by one ScatterND-add per expert, whose indices are distinct, so the combine is
// deterministic with any thread count); the update rule and the block structure (reference post-LN
// or paper pre-LN) are the models' own code, run over graph values, with the rule state as values.
import { applyUpdate, type LmConfig, type MoELanguageModel } from '@msmoe/models';
import type { RuleState } from '@msmoe/update-rules';
import { DT, GraphBuilder } from './graph.js';
import { modelWeights, sparseMoE } from './moe.js';
import { graphOps } from './ops.js';

/** Options of {@link exportLanguageModel}. */
export interface LmExportOptions {
  /** Vocabulary tokens (stored in metadata_props as `vocabulary`, JSON). */
  vocabulary?: string[];
  /** Extra metadata_props. */
  metadata?: Record<string, string>;
  /** Also output `top_expert_<t>` int64 `[batch·seq]`: each token's first-choice expert at MoE layer t. */
  routingOutputs?: boolean;
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
  const g = new GraphBuilder();
  const { data, initializer: W } = modelWeights(g, model.variables());
  const d = c.dModel;
  const H = c.nHeads;
  const dh = d / H;
  const S = c.span;
  const E = c.numExperts;
  const paper = c.structure === 'paper';
  const ops = graphOps(g);
  const coef = model.rule.coefficientValues();

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
  const k = (v: number) => g.scalar(v);

  let h = g.op1('Gather', [W('embedding.weight'), tokens], { axis: { int: 0 } }); // [B, M, d]
  const shape = g.op1('Shape', [h]);
  const M = g.op1('Gather', [shape, g.int64([1], [])], { axis: { int: 0 } }); // scalar

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
  let state: RuleState<string> = model.rule.init();
  const nextCaches: string[] = [];
  const routes: string[] = [];
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
    // An MoE layer: f(x) = Σ over the top-k experts of softmax(top-k logits) · expert(x), in the
    // model's structure with its rule (the same code as the tfjs forward, over graph values).
    const spec = {
      E,
      k: c.k,
      d,
      scoring: 'topk-then-softmax',
      renormalize: false,
      activation: 'relu',
    } as const;
    let route: string | undefined;
    const parts = {
      ops,
      moe: (x: string) => {
        const r: string[] = [];
        const y = sparseMoE(g, x, `${p}.moe`, spec, data, r);
        route = r[0];
        return y;
      },
      preNorm: paper ? (x: string) => ln(x, `${p}.ln`) : undefined,
      innerNorm: paper ? undefined : (x: string) => ln(x, `${p}.ln_inner`),
      outNorm: paper ? undefined : (x: string) => ln(x, `${p}.ln_out`),
    };
    ({ x: h, state } = applyUpdate(c.structure, model.rule, coef, parts, h, state, moeIndex++) as {
      x: string;
      state: RuleState<string>;
    });
    routes.push(route as string);
  });
  if (paper) h = ln(h, 'final_ln');
  const logits = add(g.op1('MatMul', [h, W('out.weight')]), W('out.bias'));
  g.output(logits, 'logits', DT.FLOAT, ['batch', 'seq', c.vocabSize]);
  nextCaches.forEach((nc, i) => {
    g.output(nc, `next_cache_${i}`, DT.FLOAT, ['batch', S, d]);
  });
  if (options.routingOutputs)
    routes.forEach((r, t) => {
      g.output(r, `top_expert_${t}`, DT.INT64, ['tokens']);
    });
  return g.build('msmoe_lm', {
    'msmoe.kind': 'lm',
    'msmoe.config': JSON.stringify(c),
    'msmoe.rule': JSON.stringify({ rule: c.rule.rule, ...model.rule.coefficients() }),
    ...(options.vocabulary ? { vocabulary: JSON.stringify(options.vocabulary) } : {}),
    ...(options.metadata ?? {}),
  });
}
