import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Rng, removeAtomicTempFiles, writeFileAtomic } from '@msmoe/core';
import { channelStats, type ImageSet, normalize, stratifiedIndices, subset } from '@msmoe/datasets';
import {
  MoELanguageModel,
  MoEVisionTransformer,
  parseLmConfig,
  parseVitConfig,
  saveWeights,
} from '@msmoe/models';
import { routingChange } from '@msmoe/router';
import { RunWriter, readRun, type Stability, stabilityMetrics } from '@msmoe/tracking';
import {
  type DataParallel,
  evaluateClassifier,
  evaluateCorrupted,
  evaluateLm,
  LmTask,
  probeRouting,
  Trainer,
  TrainingDivergedError,
  type TrainTask,
  VisionTask,
} from '@msmoe/training';
import { modelConfigInput, type RunConfig, runConfigOf, runName, variantName } from './config.js';
import { type ImageData, loadTaskData, type TextData } from './data.js';
import type { Reporter } from './progress.js';
import { provenance } from './provenance.js';

/** A run could not start: the message is one line for the user. */
export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/**
 * Builds the model a run config describes, now that the data gives the vocabulary size or the
 * classes (the run config's validation already checked the rest; nothing is written).
 */
export function buildModel(
  c: RunConfig,
  data: TextData | ImageData,
): MoELanguageModel | MoEVisionTransformer {
  const rng = new Rng(c.seed).fork('init');
  const preset = c.model.preset as string;
  if (data.kind === 'text')
    return new MoELanguageModel(parseLmConfig(modelConfigInput(c, preset, data.vocab.size)), rng);
  return new MoEVisionTransformer(
    parseVitConfig(modelConfigInput(c, preset, data.dataset.classes.length)),
    rng,
  );
}

/** What a finished (or stopped) run gives back. */
export interface RunResult {
  dir: string;
  stopped: boolean;
  step: number;
  finalLoss: number;
  /** eval.json content (null when stopped). */
  eval: Record<string, unknown> | null;
}

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** Folder the run folder is created in. */
  out: string;
  /** Run folder to resume (its config.json is used; `config` is ignored). */
  resume?: string;
  signal?: AbortSignal;
  reporter: Reporter;
  /**
   * Called after each periodic evaluation (e.g. a tuning trial reporting to its pruner); returning
   * `'stop'` ends the run there (it returns `stopped`, with a checkpoint).
   */
  onEval?: (
    step: number,
    metrics: Record<string, number>,
  ) => Promise<'stop' | undefined> | 'stop' | undefined;
  /** Run folder name (default from the config). */
  name?: string;
  /** Data loaded once and shared (compare). */
  data?: TextData | ImageData;
  /** Where attacked/corrupted data is cached. */
  cacheDir?: string;
  /** Backend name, written into config.json. */
  backend?: string;
  /**
   * Train as one replica of a data-parallel run (see `trainDataParallel`): replica 0 writes the
   * run folder, evaluates and reports; the others train their shard and write only their task state.
   */
  replica?: DataParallel;
}

/**
 * Trains one run: loads and checks data and model first (an error leaves nothing on disk), then
 * creates the run folder (config.json, metrics.jsonl, TensorBoard events, checkpoints/), trains
 * with periodic validation and routing probes, and writes model.safetensors and eval.json (clean
 * and attacked/corrupted). An abort writes a checkpoint and returns `stopped`; `resume` continues
 * exactly from the newest readable checkpoint.
 */
export async function trainRun(config: RunConfig, options: TrainRunOptions): Promise<RunResult> {
  let c = config;
  let dir: string;
  const replica = options.replica;
  const lead = !replica || replica.rank === 0;
  const shard = replica ? { rank: replica.rank, size: replica.size } : undefined;
  if (options.resume) {
    dir = options.resume;
    if (!existsSync(join(dir, 'config.json')))
      throw new RunError(`--resume ${dir}: not a run folder (no config.json)`);
    c = runConfigOf(readRun(dir).config);
  } else {
    dir = join(options.out, options.name ?? runName(c));
    if (lead && existsSync(join(dir, 'config.json')))
      throw new RunError(
        `run folder ${dir} already exists: resume it with --resume ${dir}, or choose another --name or --out`,
      );
  }
  const data =
    options.data ?? (await loadTaskData(c, options.cacheDir ?? join(options.out, '.cache')));
  const model = buildModel(c, data);
  let task: TrainTask;
  let vision: VisionTask | null = null;
  if (data.kind === 'text')
    task = new LmTask(model as MoELanguageModel, data.train, c.batchSize, shard);
  else {
    vision = new VisionTask(
      model as MoEVisionTransformer,
      data.dataset.train,
      c.batchSize,
      c.seed,
      shard,
    );
    task = vision;
  }

  // Periodic evaluation: validation metric and routing change on a fixed probe batch. The ViT's
  // evaluation images and probe batch are seeded class-stratified samples of the test split (it
  // is ordered by class: its first images are a few classes only), cut and normalised once.
  let probe: Int32Array[] | null = null;
  const visionEval =
    data.kind === 'image' && vision
      ? {
          stats: vision.stats,
          part: subset(data.dataset.test, evalSample(data.dataset.test, c.eval.blocks * 250)),
          probeImages: normalize(
            subset(data.dataset.test, stratifiedIndices(data.dataset.test.labels, 64, 1)),
            vision.stats,
          ),
        }
      : null;
  const stop = new AbortController();
  options.signal?.addEventListener('abort', () => stop.abort());
  if (options.signal?.aborted) stop.abort();
  const evaluate = async (step: number): Promise<Record<string, number>> => {
    const metrics = periodic();
    if ((await options.onEval?.(step, metrics)) === 'stop') stop.abort();
    return metrics;
  };
  const periodic = (): Record<string, number> => {
    let metrics: Record<string, number>;
    let next: Int32Array[];
    if (data.kind === 'text') {
      const lm = model as MoELanguageModel;
      metrics = {
        'valid perplexity': evaluateLm(lm, data.valid, {
          batchSize: c.eval.batchSize,
          maxBlocks: c.eval.blocks,
        }).perplexity,
      };
      const B = c.eval.batchSize;
      const M = lm.config.blockLength;
      const tokens = data.valid.slice(0, B * M);
      next = probeRouting(() => {
        const out = lm.forward(tokens, B, lm.initialCaches(B));
        return out;
      });
    } else {
      const vit = model as MoEVisionTransformer;
      const v = visionEval as NonNullable<typeof visionEval>;
      metrics = { 'test accuracy': evaluateClassifier(vit, v.part, v.stats).accuracy };
      next = probeRouting(() => vit.forward(v.probeImages, 64));
    }
    if (probe) {
      const changes = next.map((t, l) => routingChange(probe?.[l] as Int32Array, t));
      metrics.routingChange = changes.reduce((a, b) => a + b, 0) / Math.max(1, changes.length);
    }
    probe = next;
    return metrics;
  };

  const trainer = new Trainer(
    task,
    { ...c.train, seed: c.seed, evalEvery: c.eval.every },
    {
      checkpoints: join(dir, 'checkpoints'),
      ...(lead ? { evaluate } : {}),
      ...(replica ? { dataParallel: replica } : {}),
    },
  );
  if (!lead) return trainReplica(trainer, model, dir, options.resume !== undefined);
  let writer: RunWriter;
  try {
    // Temp files of atomic writes (config.json, eval.json) a crash interrupted go first (also
    // from a folder a crash left before its config.json was written).
    const orphans = await removeAtomicTempFiles(dir);
    if (options.resume) {
      for (const o of orphans)
        options.reporter.warn(`  removed ${basename(o)}, left by a write that was interrupted`);
      // A run that stopped before its first checkpoint starts again from step 0 in its folder.
      const restored = (await trainer.restore()) ?? 0;
      // Drop log lines written after the checkpoint (a crash between checkpoints), so they are not doubled.
      const kept = readRun(dir).metrics.filter((m) => m.step <= restored);
      await writeFileAtomic(
        join(dir, 'metrics.jsonl'),
        kept.map((m) => `${JSON.stringify(m)}\n`).join(''),
      );
      writer = RunWriter.open(dir, restored);
      options.reporter.info(
        restored > 0
          ? `resuming ${dir} from step ${restored}`
          : `${dir} has no readable checkpoint: training it again from step 0`,
      );
    } else {
      const resolved = {
        ...c,
        variant: variantName(c),
        backend: options.backend,
        modelConfig: (model as { config: unknown }).config,
        parameters: model.parameterCount(),
        ...(data.kind === 'text' ? { vocabulary: data.vocab.size } : {}),
        ...(replica ? { dataParallel: replica.size } : {}),
        provenance: provenance(options.backend),
      };
      writer = await RunWriter.create(dir, resolved, {
        variant: resolved.variant,
        rule: c.model.rule.rule,
        preset: c.model.preset as string,
        lr: c.train.lr,
        steps: c.train.steps,
        batchSize: c.batchSize,
        seed: c.seed,
        dropout: (model.config as { dropout: number }).dropout,
      });
      if (data.kind === 'text')
        await writeFileAtomic(join(dir, 'vocab.json'), JSON.stringify(data.vocab.toJSON()));
    }
  } catch (err) {
    trainer.dispose();
    model.dispose();
    throw err;
  }

  const unit = data.kind === 'text' ? 'tok/s' : 'img/s';
  trainer.on('step', (e) => {
    writer.log({
      kind: 'step',
      step: e.step,
      time: Date.now(),
      loss: e.loss,
      nll: e.nll,
      aux: e.aux,
      gradNorm: e.gradNorm,
      lr: e.lr,
      itemsPerSec: e.itemsPerSec,
      skipped: e.skipped,
    });
    options.reporter.step(e.step, {
      loss: e.loss,
      perplexity: Math.exp(e.nll),
      itemsPerSec: e.itemsPerSec,
      unit,
    });
  });
  trainer.on('stats', (s) => writer.log({ kind: 'stats', time: Date.now(), ...s }));
  trainer.on('eval', (e) => {
    writer.log({ kind: 'eval', step: e.step, time: Date.now(), metrics: e.metrics });
    options.reporter.info(
      `  eval @${e.step}: ${Object.entries(e.metrics)
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join(', ')}`,
    );
  });
  trainer.on('anomaly', (a) => {
    writer.log({
      kind: 'event',
      step: a.step,
      time: Date.now(),
      message: a.message,
      anomaly: a.kind,
    });
    options.reporter.warn(`  ${a.kind}: ${a.message}`);
  });

  options.reporter.start(
    replica ? `${runName(c)} ×${replica.size}` : runName(c),
    c.train.steps,
    trainer.step,
  );
  let result: Awaited<ReturnType<Trainer['run']>>;
  try {
    result = await trainer.run({ signal: stop.signal });
  } catch (err) {
    // A run that diverges is a result (the stress arm counts them), not a crash: eval.json says so.
    if (!(err instanceof TrainingDivergedError)) {
      trainer.dispose();
      model.dispose();
      throw err;
    }
    options.reporter.warn(`  diverged at step ${trainer.step}: ${err.message}`);
    const diverged = {
      diverged: true,
      step: trainer.step,
      message: err.message,
      stability: runStability(dir),
    };
    await writer.writeEval(diverged);
    trainer.dispose();
    model.dispose();
    return { dir, stopped: false, step: trainer.step, finalLoss: Number.NaN, eval: diverged };
  } finally {
    options.reporter.stop();
  }
  try {
    if (result.stopped) {
      options.reporter.info(
        `stopped at step ${result.step}; resume with: msmoe train --resume ${dir}`,
      );
      return { dir, stopped: true, step: result.step, finalLoss: result.lastLoss, eval: null };
    }
    await saveWeights(join(dir, 'model.safetensors'), model as MoELanguageModel);
    const evalResult = {
      ...finalEvaluation(c, data, model, options.reporter),
      stability: runStability(dir),
    };
    await writer.writeEval({ step: result.step, finalLoss: result.lastLoss, ...evalResult });
    return { dir, stopped: false, step: result.step, finalLoss: result.lastLoss, eval: evalResult };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/** The stability metrics of a run folder's training log (resumes included: the log is whole). */
export function runStability(dir: string): Stability {
  const records = readRun(dir).metrics;
  const steps = records.filter((m) => m.kind === 'step' && !m.skipped) as {
    loss?: number;
    gradNorm?: number;
  }[];
  const evals = records.filter((m) => m.kind === 'eval') as { metrics: Record<string, number> }[];
  return stabilityMetrics(
    steps.map((m) => Number(m.loss)),
    steps.map((m) => Number(m.gradNorm)),
    evals.map((e) => e.metrics.routingChange ?? Number.NaN),
  );
}

/** The test images of the periodic evaluation: a seeded class-stratified sample of `n` (or all). */
export function evalSample(test: ImageSet, n: number): number[] {
  return stratifiedIndices(test.labels, Math.min(test.count, n), 0);
}

/** A data-parallel replica other than 0: restores, trains its shard, writes nothing but its task state. */
async function trainReplica(
  trainer: Trainer,
  model: MoELanguageModel | MoEVisionTransformer,
  dir: string,
  resume: boolean,
): Promise<RunResult> {
  try {
    if (resume) await trainer.restore();
    const r = await trainer.run();
    return { dir, stopped: r.stopped, step: r.step, finalLoss: r.lastLoss, eval: null };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/** The end-of-run evaluation: test perplexity clean and attacked (LM), or accuracy clean and per corruption (ViT). */
export function finalEvaluation(
  c: RunConfig,
  data: TextData | ImageData,
  model: MoELanguageModel | MoEVisionTransformer,
  reporter?: Reporter,
): Record<string, unknown> {
  if (data.kind === 'text') {
    const lm = model as MoELanguageModel;
    const maxBlocks = c.eval.finalBlocks === 'all' ? undefined : c.eval.finalBlocks;
    const splits: [string, Int32Array][] = [
      ['valid', data.valid],
      ['test', data.test],
      ['attacked test', data.attackedTest],
      ['attacked valid', data.attackedValid],
      ...(data.shift ? ([['shift', data.shift]] as [string, Int32Array][]) : []),
    ];
    const ppl: Record<string, { perplexity: number; tokens: number }> = {};
    for (const [i, [what, stream]] of splits.entries()) {
      const label = `final evaluation ${i + 1}/${splits.length}: ${what}`;
      ppl[what] = evaluateLm(lm, stream, {
        batchSize: c.eval.batchSize,
        maxBlocks,
        onBlock: (done, total) => reporter?.progress?.(label, done, total, 'blocks'),
      });
    }
    const get = (k: string) => (ppl[k] as { perplexity: number }).perplexity;
    return {
      clean: { perplexity: get('test'), 'valid perplexity': get('valid') },
      attacked: { perplexity: get('attacked test'), 'valid perplexity': get('attacked valid') },
      ...(data.shift ? { shift: { perplexity: get('shift') } } : {}),
      tokens: (ppl.test as { tokens: number }).tokens,
      blocks: maxBlocks ?? 'all',
    };
  }
  reporter?.info(
    `  final evaluation: ${data.dataset.test.count} clean test images${Object.keys(data.corrupted).length ? ` and ${Object.keys(data.corrupted).length} corrupted sets` : ''}`,
  );
  const vit = model as MoEVisionTransformer;
  // The normalisation of training: the training set's channel statistics (as VisionTask).
  const r = evaluateCorrupted(
    vit,
    data.dataset.test,
    data.corrupted,
    channelStats(data.dataset.train),
  );
  const names = Object.keys(r.accuracy);
  return {
    clean: { accuracy: r.clean },
    ...(names.length
      ? {
          attacked: { accuracy: 1 - r.meanCorruptedError },
          corruptions: r.accuracy,
          meanCorruptedError: r.meanCorruptedError,
        }
      : {}),
  };
}
