/**
 * `@msmoe/tuner`: hyperparameter search with no ML dependency. {@link TpeSampler} (TPE faithful to
 * hyperopt and Optuna, presets `hyperopt`, `optuna-3.1`, `optuna-4.9`, `optuna-5`; univariate or
 * multivariate; constant liar) and {@link RandomSampler}; pruners ({@link MedianPruner},
 * {@link PercentilePruner}, {@link SuccessiveHalvingPruner}, {@link HyperbandPruner}); studies with
 * ask/tell and `optimize` ({@link Study}); storages in memory, Optuna-compatible journal files
 * ({@link JournalFileStorage}), SQLite and PostgreSQL ({@link RdbStorage}, {@link openStorage});
 * PED-ANOVA importance and a study.html report.
 *
 * @packageDocumentation
 */
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
export { renderStudyHtml } from './report.js';
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
export { JournalFileStorage, parsePyJson, pyJson } from './storage/journal.js';
export { openStorage } from './storage/open.js';
export {
  postgresConnection,
  RdbStorage,
  type SqlConnection,
  sqliteConnection,
} from './storage/rdb.js';
export { type OptimizeOptions, Study, type StudyOptions, Trial, TrialPruned } from './study.js';
export {
  type Direction,
  type FrozenTrial,
  STATE_CODE,
  type StudyInfo,
  type TrialState,
} from './trial.js';
