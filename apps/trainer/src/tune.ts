import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Choice,
  type FrozenTrial,
  HyperbandPruner,
  MedianPruner,
  NopPruner,
  openStorage,
  type Pruner,
  RandomSampler,
  renderStudyHtml,
  type Sampler,
  type SpaceSpec,
  Study,
  SuccessiveHalvingPruner,
  suggestSpace,
  type TpePreset,
  TpeSampler,
  TrialPruned,
} from '@msmoe/tuner';
import { isImageTask, merge, parseRunConfig, type RunConfig } from './config.js';
import { loadTaskData } from './data.js';
import { type PoolDisplay, runPool } from './pool.js';
import type { Reporter } from './progress.js';
import { trainRun } from './run.js';

/** Pruner names the CLI accepts. */
export const PRUNERS = ['median', 'successive-halving', 'hyperband', 'none'] as const;
/** Sampler names the CLI accepts. */
export const SAMPLERS = [
  'tpe',
  'tpe:optuna-5',
  'tpe:optuna-4.9',
  'tpe:optuna-3.1',
  'tpe:hyperopt',
  'random',
] as const;

/** The sampler of a CLI name. */
export function samplerOf(name: (typeof SAMPLERS)[number]): Sampler {
  if (name === 'random') return new RandomSampler();
  return new TpeSampler({ preset: (name === 'tpe' ? 'optuna-5' : name.slice(4)) as TpePreset });
}

/** The pruner of a CLI name (intermediate values are validation metrics at each evaluation). */
export function prunerOf(name: (typeof PRUNERS)[number]): Pruner {
  switch (name) {
    case 'median':
      return new MedianPruner({ nStartupTrials: 3 });
    case 'successive-halving':
      return new SuccessiveHalvingPruner();
    case 'hyperband':
      return new HyperbandPruner();
    default:
      return new NopPruner();
  }
}

/** Turns `{ "train.lr": 0.001, "model.rule.mu": 0.8 }` into a nested config patch. */
export function patchOf(params: Record<string, Choice>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, v] of Object.entries(params)) {
    const keys = path.split('.');
    let o = out;
    for (const k of keys.slice(0, -1)) {
      o[k] = (o[k] as Record<string, unknown>) ?? {};
      o = o[k] as Record<string, unknown>;
    }
    o[keys.at(-1) as string] = v;
  }
  return out;
}

/** The job of a tuning worker process. */
export interface TuneJob {
  kind: 'tune';
  base: RunConfig;
  space: SpaceSpec;
  storage: string;
  studyName: string;
  /** Trials this worker runs. */
  trials: number;
  sampler: (typeof SAMPLERS)[number];
  pruner: (typeof PRUNERS)[number];
  out: string;
  seed: number;
  backend?: string;
}

/** The objective's metric and direction of a run config's task. */
function objectiveOf(base: RunConfig): { metric: string; direction: 'minimize' | 'maximize' } {
  const text = !isImageTask(base.task);
  return text
    ? { metric: 'valid perplexity', direction: 'minimize' }
    : { metric: 'test accuracy', direction: 'maximize' };
}

/**
 * Tunes a run config: every space parameter is a dotted config path (`train.lr`,
 * `model.rule.mu`, `model.overrides.dropout`…); each trial trains a run folder under
 * `<out>/<study>/trial-<n>`, reports the validation metric at each evaluation (so the pruner can
 * stop it) and returns its final clean validation metric (perplexity minimised, accuracy maximised).
 * Trials run in a pool of `workers` processes (one tfjs instance each); any number of `msmoe tune`
 * processes (or machines, with PostgreSQL) sharing `storage` work on one study.
 */
export async function tune(
  options: Omit<TuneJob, 'kind'> & {
    workers: number;
    display: PoolDisplay;
    signal?: AbortSignal;
  },
): Promise<{ html: string; best: FrozenTrial | null; trials: FrozenTrial[] }> {
  const { base, workers } = options;
  const folder = join(options.out, options.studyName);
  mkdirSync(folder, { recursive: true });
  // A user's data folder is checked here, so a bad one is one line before any worker starts;
  // embedded data is read by the workers only (their caches are written atomically).
  if (base.data.folder) await loadTaskData(base, join(options.out, '.cache'));
  const storage = await openStorage(options.storage);
  try {
    const study = await Study.create({
      name: options.studyName,
      storage,
      direction: objectiveOf(base).direction,
      loadIfExists: true,
    });
    const n = Math.max(1, Math.min(workers, options.trials));
    const share = (i: number) => Math.floor(options.trials / n) + (i < options.trials % n ? 1 : 0);
    const { workers: _w, display, signal, ...job } = options;
    await runPool(
      n,
      (i) => ({ ...job, kind: 'tune', trials: share(i), seed: options.seed }),
      display,
      signal,
    );
    display.close();
    const html = join(folder, 'study.html');
    const trials = await study.trials();
    writeFileSync(html, renderStudyHtml(study.name, study.direction, trials));
    return { html, best: await study.bestTrial(), trials };
  } finally {
    await storage.close();
  }
}

/** A tuning worker (one process): `job.trials` trials of the shared study, one at a time. */
export async function tuneWorker(
  job: TuneJob,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<void> {
  const { base } = job;
  const { metric, direction } = objectiveOf(base);
  const storage = await openStorage(job.storage);
  try {
    const study = await Study.create({
      name: job.studyName,
      storage,
      sampler: samplerOf(job.sampler),
      pruner: prunerOf(job.pruner),
      direction,
      loadIfExists: true,
      seed: job.seed,
      heartbeatInterval: 10,
    });
    const folder = join(job.out, job.studyName);
    const data = await loadTaskData(base, join(job.out, '.cache'));
    await study.optimize(
      async (trial) => {
        if (signal.aborted) throw new Error('interrupted');
        const params = await suggestSpace(trial, job.space);
        const config = parseRunConfig(
          merge(base as unknown as Record<string, unknown>, patchOf(params), { seed: base.seed }),
        );
        let pruned = false;
        const r = await trainRun(config, {
          out: folder,
          name: `trial-${trial.number}`,
          data,
          reporter,
          signal,
          backend: job.backend,
          onEval: async (step, metrics) => {
            const v = metrics[metric];
            if (v === undefined) return undefined;
            await trial.report(v, step);
            if (await trial.shouldPrune()) {
              pruned = true;
              reporter.info(
                `  trial ${trial.number} pruned at step ${step} (${metric} ${v.toFixed(3)})`,
              );
              return 'stop';
            }
            return undefined;
          },
        });
        await trial.setUserAttr('run', r.dir);
        if (pruned) throw new TrialPruned();
        if (r.stopped) throw new Error('interrupted');
        const clean = (r.eval?.clean ?? {}) as Record<string, number>;
        const value = direction === 'minimize' ? clean['valid perplexity'] : clean.accuracy;
        reporter.info(
          `  trial ${trial.number}: ${metric} ${Number(value).toPrecision(5)} with ${JSON.stringify(roundParams(params))}`,
        );
        return value as number;
      },
      { trials: job.trials, workers: 1 },
    );
  } finally {
    await storage.close();
  }
}

/** Parameter values for display: floats to 4 significant digits. */
export function roundParams(params: Record<string, Choice>): Record<string, Choice> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v,
    ]),
  );
}

/** Checks a space against the run config before any trial: every path must be a config field. */
export function checkSpaceAgainstConfig(base: RunConfig, space: SpaceSpec): void {
  const sample: Record<string, Choice> = {};
  const visit = (sp: SpaceSpec) => {
    for (const [k, p] of Object.entries(sp)) {
      sample[k] = p.type === 'categorical' ? (p.choices[0] as Choice) : p.low;
      if (p.type === 'categorical')
        for (const sub of Object.values(p.conditional ?? {})) visit(sub);
    }
  };
  visit(space);
  parseRunConfig(merge(base as unknown as Record<string, unknown>, patchOf(sample)));
}
