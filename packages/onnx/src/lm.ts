// Exports the Transformer-XL-style MoE language model to ONNX: the model's own forward
// (`lmForward`) over graph values, with span attention here, its cache as graph inputs/outputs and
// the relative key band built from dynamic shapes; sparse routing in the graph (TopK, per-expert
// gather of the routed rows, combine by one ScatterND-add per expert, whose indices are distinct,
// so the combine is deterministic with any thread count).
import { type LmConfig, lmForward, type MoELanguageModel } from '@msmoe/models';
import { graphBackend } from './backend.js';
import { DT, GraphBuilder } from './graph.js';

/** Options of {@link exportLanguageModel}. */
export interface LmExportOptions {
  /** Vocabulary tokens (stored in metadata_props as `vocabulary`, JSON). */
  vocabulary?: string[];
  /** Extra metadata_props. */
  metadata?: Record<string, string>;
  /** Also output `top_expert_<t>` int64 `[batch·seq]`: each token's first-choice expert at MoE layer t. */
  routingOutputs?: boolean;
}

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
  const be = graphBackend(g, model);
  const W = be.weight;
  const { dModel: d, nHeads: H, span: S } = c;
  const dh = d / H;
  const tokens = g.input('tokens', DT.INT64, ['batch', 'seq']);
  const caches = Array.from({ length: model.attentionLayers }, (_, i) =>
    g.input(`cache_${i}`, DT.FLOAT, ['batch', S, d]),
  );
  const embedded = g.op1('Gather', [W('embedding.weight'), tokens], { axis: { int: 0 } }); // [B, M, d]
  const shape = g.op1('Shape', [embedded]);
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
  const bandMask = g.op1('Where', [inBand, g.scalar(0), g.scalar(-1e9)]); // [M, L]
  const bandIndex = g.op1('Clip', [rel, i64(0), i64(S - 1)]);

  const nextCaches: string[] = [];
  const attention = (input: string, p: string, i: number) => {
    const joined = g.op1('Concat', [caches[i] as string, input], { axis: { int: 1 } }); // [B, S + M, d]
    nextCaches.push(g.op1('Slice', [joined, g.int64([-S]), g.int64([2 ** 62]), g.int64([1])]));
    const heads = (x: string) =>
      g.op1('Transpose', [g.op1('Reshape', [x, g.int64([0, 0, H, dh])])], { perm: [0, 2, 1, 3] });
    const q = heads(g.op1('MatMul', [input, W(`${p}.attn.q`)])); // [B, H, M, dh]
    const k = heads(g.op1('MatMul', [joined, W(`${p}.attn.k`)])); // [B, H, L, dh]
    const v = heads(g.op1('MatMul', [joined, W(`${p}.attn.v`)]));
    const content = g.op1('MatMul', [q, g.op1('Transpose', [k], { perm: [0, 1, 3, 2] })]); // [B, H, M, L]
    const posBand = g.op1('MatMul', [q, W(`${p}.attn.keyPe`)]); // [B, H, M, S]
    const index = g.op1('Expand', [bandIndex, g.op1('Shape', [content])]);
    const pos = g.op1('GatherElements', [posBand, index], { axis: { int: 3 } });
    const scores = g.op1('Add', [
      g.op1('Div', [g.op1('Add', [content, pos]), g.scalar(Math.sqrt(dh))]),
      bandMask,
    ]);
    const attn = g.op1('Softmax', [scores], { axis: { int: -1 } });
    const out = g.op1('Reshape', [
      g.op1('Transpose', [g.op1('MatMul', [attn, v])], { perm: [0, 2, 1, 3] }),
      g.int64([0, 0, d]),
    ]);
    return g.op1('MatMul', [out, W(`${p}.attn.o`)]);
  };
  const h = lmForward(c, model.rule, { ...be, embed: () => embedded, attention });
  g.output(be.linear(h, 'out.weight', 'out.bias'), 'logits', DT.FLOAT, [
    'batch',
    'seq',
    c.vocabSize,
  ]);
  nextCaches.forEach((nc, i) => {
    g.output(nc, `next_cache_${i}`, DT.FLOAT, ['batch', S, d]);
  });
  if (options.routingOutputs)
    be.routes.forEach((r, t) => {
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
