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
import { merge, parseRunConfig, type RunConfig } from './config.js';
import { loadTaskData } from './data.js';
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

/**
 * Tunes a run config: every space parameter is a dotted config path (`train.lr`,
 * `model.rule.mu`, `model.overrides.dropout`…); each trial trains a run folder under
 * `<out>/<study>/trial-<n>`, reports the validation metric at each evaluation (so the pruner can
 * stop it) and returns its final clean validation metric (perplexity minimised, accuracy maximised).
 * Any number of `msmoe tune` processes sharing `storage` work on one study.
 */
export async function tune(options: {
  base: RunConfig;
  space: SpaceSpec;
  storage: string;
  studyName: string;
  trials: number;
  workers: number;
  sampler: Sampler;
  pruner: Pruner;
  out: string;
  reporter: Reporter;
  seed: number;
  signal?: AbortSignal;
  backend?: string;
}): Promise<{ html: string; best: FrozenTrial | null; trials: FrozenTrial[] }> {
  const { base } = options;
  const text = base.task === 'sotu' || base.task === 'wikitext';
  const metric = text ? 'valid perplexity' : 'test accuracy';
  const storage = await openStorage(options.storage);
  const study = await Study.create({
    name: options.studyName,
    storage,
    sampler: options.sampler,
    pruner: options.pruner,
    direction: text ? 'minimize' : 'maximize',
    loadIfExists: true,
    seed: options.seed,
    heartbeatInterval: 10,
  });
  const folder = join(options.out, options.studyName);
  mkdirSync(folder, { recursive: true });
  const data = await loadTaskData(base, join(options.out, '.cache'));
  await study.optimize(
    async (trial) => {
      if (options.signal?.aborted) throw new Error('interrupted');
      const params = await suggestSpace(trial, options.space);
      const config = parseRunConfig(
        merge(base as unknown as Record<string, unknown>, patchOf(params), { seed: base.seed }),
      );
      let pruned = false;
      const r = await trainRun(config, {
        out: folder,
        name: `trial-${trial.number}`,
        data,
        reporter: options.reporter,
        signal: options.signal,
        backend: options.backend,
        onEval: async (step, metrics) => {
          const v = metrics[metric];
          if (v === undefined) return undefined;
          await trial.report(v, step);
          if (await trial.shouldPrune()) {
            pruned = true;
            options.reporter.info(
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
      const value = text ? clean['valid perplexity'] : clean.accuracy;
      options.reporter.info(
        `  trial ${trial.number}: ${metric} ${value} with ${JSON.stringify(params)}`,
      );
      return value as number;
    },
    { trials: options.trials, workers: options.workers },
  );
  const html = join(folder, 'study.html');
  const trials = await study.trials();
  writeFileSync(html, renderStudyHtml(study.name, study.direction, trials));
  const best = await study.bestTrial();
  await storage.close();
  return { html, best, trials };
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
