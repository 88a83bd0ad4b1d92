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
export * from './browser.js';
export { renderStudyHtml } from './report-node.js';
export { JournalFileStorage } from './storage/journal.js';
export { openStorage } from './storage/open.js';
export {
  postgresConnection,
  RdbStorage,
  type SqlConnection,
  sqliteConnection,
} from './storage/rdb.js';
