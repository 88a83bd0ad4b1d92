// Exports ViT-MoE (V-MoE routing) and Soft-MoE ViT to ONNX: the model's own forward
// (`vitForward`) over graph values, with the patch embedding from raw [B, H, W, C] images
// (optionally normalised in the graph), class token, position embeddings and attention here.
import { type MoEVisionTransformer, type VitConfig, vitForward } from '@msmoe/models';
import { graphBackend } from './backend.js';
import { DT, GraphBuilder } from './graph.js';

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
 * is refused (see `graphBackend`).
 */
export function exportVisionTransformer(
  model: MoEVisionTransformer,
  options: VitExportOptions = {},
): Uint8Array {
  const c: VitConfig = model.config;
  const g = new GraphBuilder();
  const be = graphBackend(g, model);
  const W = be.weight;
  const { imageHeight: H, imageWidth: Wd, channels: C, patchSize: p, dModel: d, nHeads: heads } = c;
  const dh = d / heads;
  const P = (H / p) * (Wd / p);
  let images = g.input('images', DT.FLOAT, ['batch', H, Wd, C]);
  if (options.normalization) {
    const { mean, std } = options.normalization;
    const stat = (name: string, v: number[]) => g.float(name, Float32Array.from(v), [C]);
    images = g.op1('Div', [
      g.op1('Sub', [images, stat('norm.mean', mean)]),
      stat(
        'norm.std',
        std.map((s) => s || 1),
      ),
    ]);
  }
  const embed = () => {
    // [B, H, W, C] → [B, P, p·p·C], patches row-major, channels last (as `patchify`).
    const patches = g.op1('Reshape', [
      g.op1('Transpose', [g.op1('Reshape', [images, g.int64([0, H / p, p, Wd / p, p, C])])], {
        perm: [0, 1, 3, 2, 4, 5],
      }),
      g.int64([0, P, p * p * C]),
    ]);
    const emb = be.linear(patches, 'patch_embed.weight', 'patch_embed.bias');
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
    return g.op1('Add', [g.op1('Concat', [cls, emb], { axis: { int: 1 } }), W('pos_embed')]);
  };
  const attention = (x: string, b: string) => {
    const qkv = g.op1(
      'Transpose',
      [
        g.op1('Reshape', [
          be.linear(x, `${b}.attn.qkv.weight`, `${b}.attn.qkv.bias`),
          g.int64([0, 0, 3, heads, dh]),
        ]),
      ],
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
    return be.linear(merged, `${b}.attn.proj.weight`, `${b}.attn.proj.bias`);
  };
  const classToken = (x: string) =>
    g.op1('Reshape', [
      g.op1('Slice', [x, g.int64([0]), g.int64([1]), g.int64([1])]),
      g.int64([0, d]),
    ]);
  const logits = vitForward(c, model.rule, { ...be, embed, attention, classToken });
  g.output(logits, 'logits', DT.FLOAT, ['batch', c.numClasses]);
  if (options.routingOutputs)
    be.routes.forEach((r, t) => {
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
