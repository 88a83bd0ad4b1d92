/**
 * `@msmoe/models`: the MomentumSMoE authors' Transformer-XL-style MoE language model
 * ({@link MoELanguageModel}) with span attention and cache, architecture strings and presets;
 * ViT-MoE and Soft-MoE ViT ({@link MoEVisionTransformer}); the MoE layer ({@link moeLayer}: a
 * router and an expert bank) and the block structures an update rule sits in
 * ({@link applyUpdate}: paper, the authors' reference and reference-vmoe), written once over the
 * update rules' `Ops` so the ONNX exporter builds the same blocks.
 *
 * @packageDocumentation
 */
export { SpanAttention } from './lm/attention.js';
export {
  LAYER_LETTERS,
  LM_PRESETS,
  type LmConfig,
  type LmConfigInput,
  type LmStructure,
  lmConfigSchema,
  parseLmConfig,
  presetConfig,
} from './lm/config.js';
export {
  disposeCaches,
  type ForwardProbe,
  type LmForwardOptions,
  type LmLoss,
  type LmOutput,
  MoELanguageModel,
} from './lm/model.js';
export {
  type MoECallOptions,
  type MoELayer,
  type MoELayerOptions,
  type MoEOutput,
  moeLayer,
} from './moe-layer.js';
export {
  applyUpdate,
  type BlockNorms,
  type BlockParts,
  type BoundRule,
  moeBlock,
  structureNorms,
  type UpdateStructure,
} from './structure.js';
export {
  MoEVisionTransformer,
  parseVitConfig,
  patchify,
  VIT_PRESETS,
  type VitConfig,
  type VitConfigInput,
  type VitMoEKind,
  type VitStructure,
  vitConfigSchema,
  vitPresetConfig,
} from './vision/vit.js';
export { type HasWeights, legacyWeightName, loadWeights, saveWeights } from './weights.js';
