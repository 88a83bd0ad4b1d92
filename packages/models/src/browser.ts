// @msmoe/models without Node's modules: what a browser bundle gets (the `browser` export
// condition). index.ts adds what reads or writes files.
export {
  lmForward,
  type ModelBackend,
  type VitBackend,
  vitForward,
} from './forward.js';
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
  type BlockParts,
  type BoundRule,
  structureNorms,
  type UpdateStructure,
} from './structure.js';
export type { ForwardProbe, TfForwardOptions } from './tf-backend.js';
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
export { type HasWeights, legacyWeightName } from './weight-names.js';
