/**
 * `@msmoe/models`: the MomentumSMoE authors' Transformer-XL-style MoE language model
 * ({@link MoELanguageModel}) with span attention and cache, architecture strings and presets.
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
  ruleOf,
} from './lm/config.js';
export { disposeCaches, type LmOutput, MoELanguageModel } from './lm/model.js';
export {
  MoEVisionTransformer,
  patchify,
  VIT_PRESETS,
  type VitConfig,
  type VitConfigInput,
  type VitMoEKind,
  type VitStructure,
  vitConfigSchema,
  vitPresetConfig,
} from './vision/vit.js';
export { type HasWeights, loadWeights, saveWeights } from './weights.js';
