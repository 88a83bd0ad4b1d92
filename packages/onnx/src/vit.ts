// Exports ViT-MoE (V-MoE routing) and Soft-MoE ViT to ONNX from their documented weight names
// and config: patch embedding from raw [B, H, W, C] images (optionally normalised in the graph),
// class token and position embeddings, pre-LN blocks, MoE blocks with the update rule.
import { applyUpdate, type MoEVisionTransformer, type VitConfig } from '@msmoe/models';
import { vmoeRouterConfig } from '@msmoe/router';
import type { RuleState } from '@msmoe/update-rules';
import { DT, GraphBuilder } from './graph.js';
import { gelu, modelWeights, softMoE, sparseMoE } from './moe.js';
import { graphOps, OnnxExportError } from './ops.js';

/** Options of {@link exportVisionTransformer}. */
export interface VitExportOptions {
  /**
   * Per-channel statistics (0..255 units) to normalise inside the graph, so the model takes raw
   * pixels (what a browser canvas gives); without it the input must already be normalised.
   */
  normalization?: { mean: number[]; std: number[] };
  /** Class names (metadata_props `classes`, JSON). */
  classes?: string[];
  /** Extra metadata_props. */
  metadata?: Record<string, string>;
  /** Also output `top_expert_<t>` int64 `[batch·tokens]` (class token first): each token's expert at MoE block t. */
  routingOutputs?: boolean;
}

/**
 * A ViT-MoE or Soft-MoE ViT as ONNX (opset 17). Input `images` float `[batch, H, W, C]`; output
 * `logits` `[batch, classes]`. V-MoE's evaluation capacity (factor 4 with top-2) never drops a
 * token, so the export routes without buffers; a configuration whose capacity could drop tokens
 * is refused.
 */
export function exportVisionTransformer(
  model: MoEVisionTransformer,
  options: VitExportOptions = {},
): Uint8Array {
  const c: VitConfig = model.config;
  const g = new GraphBuilder();
  const { data, initializer: W } = modelWeights(g, model.variables());
  const { imageHeight: H, imageWidth: Wd, channels: C, patchSize: p, dModel: d, nHeads: heads } = c;
  const dh = d / heads;
  const P = (H / p) * (Wd / p);
  if (c.moe === 'vmoe') {
    const r = vmoeRouterConfig(d, c.numExperts, c.k);
    const cf = (r.capacityFactor as { eval: number }).eval;
    if ((cf * c.k) / c.numExperts < 1)
      throw new OnnxExportError(
        `export: V-MoE evaluation capacity ${cf}·k/E < 1 could drop tokens; exporting capacity buffers is not supported`,
      );
  }
  const coef = model.rule.coefficientValues();
  const ln = (x: string, prefix: string, eps = 1e-6) =>
    g.op1('LayerNormalization', [x, W(`${prefix}.weight`), W(`${prefix}.bias`)], {
      axis: { int: -1 },
      epsilon: eps,
    });
  const linear = (x: string, prefix: string) =>
    g.op1('Add', [g.op1('MatMul', [x, W(`${prefix}.weight`)]), W(`${prefix}.bias`)]);

  let images = g.input('images', DT.FLOAT, ['batch', H, Wd, C]);
  if (options.normalization) {
    const { mean, std } = options.normalization;
    images = g.op1('Div', [
      g.op1('Sub', [images, g.float('norm.mean', Float32Array.from(mean), [C])]),
      g.float(
        'norm.std',
        Float32Array.from(std, (s) => s || 1),
        [C],
      ),
    ]);
  }
  // [B, H, W, C] → [B, P, p·p·C], patches row-major, channels last (as `patchify`).
  const patches = g.op1('Reshape', [
    g.op1('Transpose', [g.op1('Reshape', [images, g.int64([0, H / p, p, Wd / p, p, C])])], {
      perm: [0, 1, 3, 2, 4, 5],
    }),
    g.int64([0, P, p * p * C]),
  ]);
  const emb = linear(patches, 'patch_embed');
  const batch = g.op1('Slice', [
    g.op1('Shape', [images]),
    g.int64([0]),
    g.int64([1]),
    g.int64([0]),
  ]);
  const cls = g.op1('Tile', [
    W('cls_token'),
    g.op1('Concat', [batch, g.int64([1, 1])], { axis: { int: 0 } }),
  ]);
  let x = g.op1('Add', [g.op1('Concat', [cls, emb], { axis: { int: 1 } }), W('pos_embed')]);
  const ops = graphOps(g);
  let state: RuleState<string> = model.rule.init();
  const routes: string[] = [];

  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    // Attention.
    const y = ln(x, `${b}.norm1`);
    const qkv = g.op1(
      'Transpose',
      [g.op1('Reshape', [linear(y, `${b}.attn.qkv`), g.int64([0, 0, 3, heads, dh])])],
      { perm: [2, 0, 3, 1, 4] },
    );
    const part = (j: number) => g.op1('Gather', [qkv, g.int64([j], [])], { axis: { int: 0 } }); // [B, H, N, dh]
    const scores = g.op1('Div', [
      g.op1('MatMul', [part(0), g.op1('Transpose', [part(1)], { perm: [0, 1, 3, 2] })]),
      g.scalar(Math.sqrt(dh)),
    ]);
    const attn = g.op1('MatMul', [g.op1('Softmax', [scores], { axis: { int: -1 } }), part(2)]);
    const merged = g.op1('Reshape', [
      g.op1('Transpose', [attn], { perm: [0, 2, 1, 3] }),
      g.int64([0, 0, d]),
    ]);
    x = g.op1('Add', [x, linear(merged, `${b}.attn.proj`)]);
    const isMoe = i % c.moeEvery === c.moeEvery - 1;
    if (!isMoe) {
      const hdn = gelu(g, linear(ln(x, `${b}.norm2`), `${b}.mlp.fc1`));
      x = g.op1('Add', [x, linear(hdn, `${b}.mlp.fc2`)]);
      continue;
    }
    const t = Math.floor(i / c.moeEvery);
    let route: string | undefined;
    const moe = (input: string) => {
      const r: string[] = [];
      const y =
        c.moe === 'soft'
          ? softMoE(
              g,
              input,
              `${b}.moe`,
              { E: c.numExperts, S: c.slotsPerExpert, d, activation: 'gelu' },
              data,
              r,
            )
          : sparseMoE(
              g,
              input,
              `${b}.moe`,
              {
                E: c.numExperts,
                k: c.k,
                d,
                scoring: 'softmax-then-topk',
                renormalize: false,
                activation: 'gelu',
              },
              data,
              r,
            );
      route = r[0];
      return y;
    };
    const parts = {
      ops,
      moe,
      preNorm: (u: string) => ln(u, `${b}.norm2`),
      outNorm: (u: string) => ln(u, `${b}.ln_out`, 1e-5),
    };
    ({ x, state } = applyUpdate(c.structure, model.rule, coef, parts, x, state, t) as {
      x: string;
      state: RuleState<string>;
    });
    routes.push(route as string);
  }
  const clsOut = g.op1('Reshape', [
    g.op1('Slice', [ln(x, 'norm'), g.int64([0]), g.int64([1]), g.int64([1])]),
    g.int64([0, d]),
  ]);
  g.output(linear(clsOut, 'head'), 'logits', DT.FLOAT, ['batch', c.numClasses]);
  if (options.routingOutputs)
    routes.forEach((r, t) => {
      g.output(r, `top_expert_${t}`, DT.INT64, ['tokens']);
    });
  return g.build(`msmoe_vit_${c.moe}`, {
    'msmoe.kind': c.moe === 'soft' ? 'soft-moe-vit' : 'vit-moe',
    'msmoe.config': JSON.stringify(c),
    'msmoe.rule': JSON.stringify({ rule: c.rule.rule, ...model.rule.coefficients() }),
    ...(options.normalization ? { normalization: JSON.stringify(options.normalization) } : {}),
    ...(options.classes ? { classes: JSON.stringify(options.classes) } : {}),
    ...(options.metadata ?? {}),
  });
}
