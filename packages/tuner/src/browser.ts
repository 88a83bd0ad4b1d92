// @msmoe/tuner without Node's modules: what a browser bundle gets (the `browser` export
// condition). index.ts adds what reads or writes files.
export {
  type CategoricalDistribution,
  type Choice,
  categoricalDistribution,
  compatible,
  contains,
  type Distribution,
  decimals,
  distributionFromJson,
  distributionToJson,
  type FloatDistribution,
  floatDistribution,
  type IntDistribution,
  intDistribution,
  isSingle,
  SearchSpaceError,
  toExternal,
  toInternal,
} from './distributions.js';
export { pedAnovaImportance } from './importance.js';
export { logGaussMass, logNdtr, ndtr, ndtri, truncnormPpf } from './math.js';
export {
  crc32,
  HyperbandPruner,
  MedianPruner,
  NopPruner,
  nanPercentile,
  type PercentileOptions,
  PercentilePruner,
  type PruneContext,
  type Pruner,
  type SuccessiveHalvingOptions,
  SuccessiveHalvingPruner,
} from './pruners.js';
export { TunerRng } from './random.js';
export { renderStudyHtml, type StudyHtmlOptions } from './report.js';
export {
  boxOf,
  linearForgettingWeights,
  ParzenEstimator,
  type ParzenOptions,
  univariateSigmas,
} from './samplers/parzen.js';
export {
  hyperoptGamma,
  optunaGamma,
  RandomSampler,
  type SampleContext,
  type Sampler,
  splitTrials,
  type TpeOptions,
  type TpePreset,
  TpeSampler,
} from './samplers/tpe.js';
export { type ParamSpec, parseSpace, type SpaceSpec, suggestSpace } from './space.js';
export { InMemoryStorage, type Storage, StorageError, type TrialTemplate } from './storage/base.js';
export { parsePyJson, pyJson } from './storage/pyjson.js';
export { type OptimizeOptions, Study, type StudyOptions, Trial, TrialPruned } from './study.js';
export {
  type Direction,
  type FrozenTrial,
  STATE_CODE,
  type StudyInfo,
  type TrialState,
} from './trial.js';
