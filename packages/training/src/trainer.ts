import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseOrThrow, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { CheckpointStore, disposeCheckpoint } from './checkpoint.js';
import { clipToNorm, squaredGlobalNorm } from './clip.js';
import { Emitter, type EvalEvent, type TrainerEvents } from './events.js';
import { AdamOptimizer, optimizerConfigSchema } from './optimizer.js';
import { type DataParallel, packGradients, unpackGradients, weightsDigest } from './replica.js';
import { type Schedule, warmupConstant, warmupCosine } from './schedule.js';
import type { TaskReport, TaskStats, TrainTask } from './task.js';

/** Median of a non-empty list. */
function medianOf(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[m] as number)
    : ((sorted[m - 1] as number) + (sorted[m] as number)) / 2;
}

/** Learning-rate schedule after warm-up. */
export type ScheduleKind = 'constant' | 'cosine';
// Typed as plain ZodType so the API docs show the union, not zod's internal enum object.
const scheduleSchema: z.ZodType<ScheduleKind> = z.enum(['constant', 'cosine']);

/** Training configuration (validated; every field has a default except `steps`). */
export const trainConfigSchema = z
  .object({
    /** Optimiser updates to run. */
    steps: z.number().int().positive(),
    /** Peak learning rate. */
    lr: z.number().positive().default(1e-3),
    /** Linear warm-up updates. */
    warmup: z.number().int().min(0).default(0),
    /** `constant` after warm-up (the authors) or `cosine` decay to `minLr` at `steps`. */
    schedule: scheduleSchema.default('constant'),
    minLr: z.number().min(0).default(0),
    /** Global gradient-norm clip (0: off). */
    clip: z.number().min(0).default(1),
    /** Micro-batches whose gradients are averaged into one update. */
    accumulation: z.number().int().positive().default(1),
    optimizer: optimizerConfigSchema.default({
      type: 'adam',
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
    }),
    /** Checkpoint every N updates (0: only when stopped and at the end). */
    checkpointEvery: z.number().int().min(0).default(0),
    /** Checkpoints kept on disk. */
    keepCheckpoints: z.number().int().positive().default(3),
    /** Emit routing/stability statistics every N updates. */
    statsEvery: z.number().int().positive().default(10),
    /** Run the evaluation callback every N updates (0: only at the end). */
    evalEvery: z.number().int().min(0).default(0),
    /**
     * A finite loss above this multiple of the median of the last 50 losses (once 10 are known)
     * counts as divergent: skipped like a non-finite one (0: off).
     */
    divergenceFactor: z.number().min(0).default(10),
    /** Also checkpoint when this many minutes have passed since the last one (0: off). */
    checkpointMinutes: z.number().min(0).default(10),
    /** Checkpoint after every periodic evaluation (a crash loses at most one evaluation's work). */
    checkpointAtEval: z.boolean().default(true),
    /** Consecutive non-finite steps (skipped) before rolling back to the last checkpoint. */
    maxNonFinite: z.number().int().positive().default(3),
    /** Roll-backs allowed before the run fails. */
    maxRollbacks: z.number().int().min(0).default(3),
    /** Seed of the training random stream (dropout, router noise). */
    seed: z.number().int().default(0),
  })
  .strict();

/** Validated training configuration. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** Training configuration as written by a user. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** The run diverged: non-finite steps kept coming after every allowed roll-back. */
export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** How a {@link Trainer.run} ended. */
export interface TrainResult {
  /** Updates applied. */
  step: number;
  /** Data position reached. */
  position: number;
  /** True when stopped by the abort signal before `steps`. */
  stopped: boolean;
  /** Loss of the last applied step (NaN when none). */
  lastLoss: number;
  /** Steps skipped for non-finite values, and roll-backs, over the whole run (resumes included). */
  skipped: number;
  rollbacks: number;
  /** Every evaluation so far (resumes included). */
  evals: EvalEvent[];
}

/** Options of a {@link Trainer}. */
export interface TrainerOptions {
  /** Checkpoint folder (or store). Without it nothing is written and roll-back is impossible. */
  checkpoints?: string | CheckpointStore;
  /** Evaluation, called every `evalEvery` updates and at the end; returns named metrics. */
  evaluate?: (step: number) => Promise<Record<string, number>> | Record<string, number>;
  /**
   * Train as one replica of a data-parallel run: the task holds this replica's shard of each
   * batch, gradients are averaged over replicas every step, and only replica 0 writes checkpoints.
   * The run then stops only where {@link DataParallel.allReduce} says so (every replica at the
   * same step); `run`'s signal is ignored.
   */
  dataParallel?: DataParallel;
}

interface RunMetrics {
  evals: EvalEvent[];
  skipped: number;
  rollbacks: number;
  lastLoss: number;
}

/**
 * The training loop: Adam/AdamW with a warm-up schedule, gradient accumulation, global-norm
 * clipping, a guard that skips non-finite steps and rolls back to the last checkpoint when they
 * repeat, periodic checkpoints (weights, optimiser, RNG, data position, task state, metrics) from
 * which {@link Trainer.restore} continues exactly, and typed events (`step`, `stats`, `eval`,
 * `checkpoint`, `anomaly`) for observers. Memory stays flat: every step's tensors are freed.
 */
export class Trainer extends Emitter<TrainerEvents> {
  readonly config: TrainConfig;
  readonly optimizer: AdamOptimizer;
  readonly store: CheckpointStore | null;
  /** Updates applied. */
  step = 0;
  /** Micro-batches consumed. */
  position = 0;
  private rng: Rng;
  private readonly schedule: Schedule;
  private metrics: RunMetrics = { evals: [], skipped: 0, rollbacks: 0, lastLoss: Number.NaN };
  private lastCheckpointStep = -1;
  private lastCheckpointTime = performance.now();
  /** The last finite losses (up to 50), for the divergence guard. */
  private recentLosses: number[] = [];
  private stopRequested = false;
  /** Replicas other than 0 keep their own task state (their streams' caches) here. */
  private readonly replicaStore: CheckpointStore | null = null;

  constructor(
    readonly task: TrainTask,
    config: TrainConfigInput,
    private readonly options: TrainerOptions = {},
  ) {
    super();
    this.config = parseOrThrow(trainConfigSchema, config, 'training config');
    const c = this.config;
    this.optimizer = new AdamOptimizer(c.optimizer);
    this.rng = new Rng(c.seed).fork('train');
    this.schedule =
      c.schedule === 'cosine'
        ? warmupCosine(c.lr, c.warmup, Math.max(c.steps, c.warmup + 1), c.minLr)
        : warmupConstant(c.lr, c.warmup);
    const cp = options.checkpoints;
    this.store =
      cp === undefined
        ? null
        : typeof cp === 'string'
          ? new CheckpointStore(cp, c.keepCheckpoints)
          : cp;
    if (this.store)
      this.store.onInvalid = (path, err) =>
        this.emit('anomaly', {
          step: this.step,
          position: this.position,
          kind: 'bad-checkpoint',
          message: `${err.message}; skipped (set aside as ${basename(path)}.corrupt when pruning)`,
        });
    const dp = options.dataParallel;
    if (dp && dp.rank > 0 && this.store)
      this.replicaStore = new CheckpointStore(
        join(this.store.dir, `replica-${dp.rank}`),
        c.keepCheckpoints,
      );
  }

  /**
   * Loads the newest readable checkpoint (unreadable ones are reported as `bad-checkpoint` and
   * skipped). Returns the step restored, or null when there was none.
   */
  async restore(): Promise<number | null> {
    if (!this.store) return null;
    // Temp files of writes a crash interrupted are removed before anything else.
    for (const orphan of await this.store.removeOrphans())
      this.emit('anomaly', {
        step: this.step,
        position: this.position,
        kind: 'orphan-removed',
        message: `removed ${basename(orphan)}, left by a checkpoint write that was interrupted`,
      });
    const content = await this.store.loadLatest((_path, err) =>
      this.emit('anomaly', {
        step: this.step,
        position: this.position,
        kind: 'bad-checkpoint',
        message: `${err.message}; using the previous checkpoint`,
      }),
    );
    if (!content) return null;
    try {
      // Checkpoints written under an older weight layout load under the current names.
      const rename = (n: string) => this.task.currentWeightName?.(n) ?? n;
      content.model = Object.fromEntries(
        Object.entries(content.model).map(([n, t]) => [rename(n), t]),
      );
      content.optimizer = Object.fromEntries(
        Object.entries(content.optimizer).map(([key, t]) => [
          /^[mv]\./.test(key) ? `${key.slice(0, 2)}${rename(key.slice(2))}` : key,
          t,
        ]),
      );
      const vars = this.task.variables();
      const missing = Object.keys(vars).filter((n) => !content.model[n]);
      if (missing.length)
        throw new Error(
          `checkpoint step ${content.step} does not match the model: missing ${missing.slice(0, 3).join(', ')}`,
        );
      for (const [n, v] of Object.entries(vars)) v.assign(content.model[n] as tf.Tensor);
      this.optimizer.setState(content.optimizer);
      if (this.replicaStore) await this.restoreReplicaState(content.step);
      else this.task.setState(content.task);
      this.rng = Rng.fromState(content.rng);
      this.step = content.step;
      this.position = content.position;
      this.metrics = content.metrics as RunMetrics;
      this.lastCheckpointStep = content.step;
      return content.step;
    } finally {
      disposeCheckpoint(content);
    }
  }

  /** A replica's own task state at a step of replica 0's checkpoint (fresh state when missing). */
  private async restoreReplicaState(step: number): Promise<void> {
    const store = this.replicaStore as CheckpointStore;
    const path = store.pathOf(step);
    let content: Awaited<ReturnType<typeof CheckpointStore.load>> | null = null;
    try {
      if (existsSync(path)) content = await CheckpointStore.load(path);
    } catch (err) {
      this.emit('anomaly', {
        step,
        position: this.position,
        kind: 'bad-checkpoint',
        message: `${(err as Error).message}; this replica's task state starts fresh`,
      });
    }
    if (!content) {
      const empty = this.task.getState();
      const carries = Object.keys(empty).length > 0;
      tf.dispose(Object.values(empty));
      if (carries)
        this.emit('anomaly', {
          step,
          position: this.position,
          kind: 'bad-checkpoint',
          message: `replica ${this.options.dataParallel?.rank} has no task state for step ${step} in ${store.dir}: its carried state (attention caches) starts empty`,
        });
      return;
    }
    try {
      this.task.setState(content.task);
    } finally {
      disposeCheckpoint(content);
    }
  }

  /**
   * Writes a checkpoint of the current state now (no-op without a store). A data-parallel replica
   * other than 0 writes only its own task state (replica 0's checkpoint holds the rest).
   */
  async checkpoint(): Promise<string | null> {
    if (!this.store) return null;
    if (this.replicaStore) {
      const task = this.task.getState();
      try {
        if (Object.keys(task).length)
          await this.replicaStore.save({
            step: this.step,
            position: this.position,
            rng: this.rng.getState(),
            metrics: {},
            model: {},
            optimizer: {},
            task,
          });
      } finally {
        tf.dispose(Object.values(task));
      }
      this.lastCheckpointStep = this.step;
      return null;
    }
    const optimizer = this.optimizer.getState();
    const task = this.task.getState();
    try {
      const path = await this.store.save({
        step: this.step,
        position: this.position,
        rng: this.rng.getState(),
        metrics: this.metrics,
        model: this.task.variables(),
        optimizer,
        task,
      });
      this.lastCheckpointStep = this.step;
      this.lastCheckpointTime = performance.now();
      this.emit('checkpoint', { step: this.step, path });
      return path;
    } finally {
      tf.dispose([...Object.values(optimizer), ...Object.values(task)]);
    }
  }

  /** Runs until `steps` updates (or the signal aborts: a checkpoint is written, `stopped` is true). */
  async run(options: { signal?: AbortSignal } = {}): Promise<TrainResult> {
    const c = this.config;
    let consecutive = 0;
    let stopped = false;
    const dp = this.options.dataParallel;
    let lastVerified = -1;
    while (this.step < c.steps) {
      if (dp ? this.stopRequested : options.signal?.aborted) {
        stopped = true;
        break;
      }
      const { finite, stats } = await this.trainStep();
      // Let signal handlers (Ctrl-C → abort) and observers run between steps.
      await new Promise((r) => setImmediate(r));
      if (finite) {
        consecutive = 0;
        if (dp && dp.verifyEvery > 0 && this.step % dp.verifyEvery === 0) {
          dp.verify(this.step, weightsDigest(this.task.variables()));
          lastVerified = this.step;
        }
        if (this.step % c.statsEvery === 0 && stats) this.emitStats(stats);
        const evaluated =
          this.options.evaluate !== undefined && c.evalEvery > 0 && this.step % c.evalEvery === 0;
        if (evaluated) await this.runEval();
        // Replicas must checkpoint on the same steps: only the step rule applies to them.
        if (
          (c.checkpointEvery > 0 && this.step % c.checkpointEvery === 0) ||
          (!dp && evaluated && c.checkpointAtEval && this.step < c.steps) ||
          (!dp &&
            c.checkpointMinutes > 0 &&
            performance.now() - this.lastCheckpointTime > c.checkpointMinutes * 60_000)
        )
          await this.checkpoint();
        continue;
      }
      consecutive += 1;
      if (consecutive >= c.maxNonFinite) {
        consecutive = 0;
        await this.rollback();
      }
    }
    if (!stopped && this.options.evaluate && this.metrics.evals.at(-1)?.step !== this.step)
      await this.runEval();
    if (this.lastCheckpointStep !== this.step) await this.checkpoint();
    if (dp && lastVerified !== this.step)
      dp.verify(this.step, weightsDigest(this.task.variables()));
    return {
      step: this.step,
      position: this.position,
      stopped,
      lastLoss: this.metrics.lastLoss,
      skipped: this.metrics.skipped,
      rollbacks: this.metrics.rollbacks,
      evals: [...this.metrics.evals],
    };
  }

  private async trainStep(): Promise<{ finite: boolean; stats: TaskStats | null }> {
    const c = this.config;
    const dp = this.options.dataParallel;
    const t0 = performance.now();
    const vars = this.task.variables();
    const byTfName = new Map(Object.entries(vars).map(([n, v]) => [v.name, n]));
    const list = Object.values(vars);
    const A = c.accumulation;
    // The step's numbers stay tensors until one host read: losses, NLLs, aux losses, grad norm.
    const scalars: tf.Scalar[] = [];
    const reports: TaskReport[] = [];
    let sum: Record<string, tf.Tensor> = {};
    for (let a = 0; a < A; a++) {
      const position = this.position + a;
      // Layer statistics only for the micro-batch whose numbers the `stats` event will carry.
      const layerStats = a === A - 1 && (this.step + 1) % c.statsEvery === 0;
      const { value, grads } = tf.variableGrads(
        () =>
          this.task.loss(
            position,
            // One draw of the run's stream per micro-batch, whatever the rule consumes inside it:
            // variants on the same seed see the same dropout masks at the same step (a paired
            // study). Replicas share that draw and fork their own stream from it.
            dp
              ? this.rng.fork(`position-${position}`).fork(`replica-${dp.rank}`)
              : this.rng.fork(`position-${position}`),
            (r) => reports.push(r),
            layerStats,
          ),
        list,
      );
      scalars.push(value);
      for (const [tfName, g] of Object.entries(grads)) {
        const name = byTfName.get(tfName) as string;
        const prev = sum[name];
        if (prev) {
          sum[name] = tf.add(prev, g);
          prev.dispose();
          g.dispose();
        } else sum[name] = g;
      }
    }
    this.position += A;
    if (A > 1) {
      const scaled = Object.fromEntries(
        Object.entries(sum).map(([n, g]) => [n, tf.div(g, A)] as const),
      );
      tf.dispose(Object.values(sum));
      sum = scaled;
    }
    const kept = [...scalars, ...reports.flatMap((r) => [r.nll, r.aux])];
    let numbers: ArrayLike<number>;
    if (dp) {
      // One host read of the local numbers, then one all-reduce of gradients and numbers together.
      const local = tf.tidy(() => tf.stack(kept).dataSync());
      tf.dispose(kept);
      const names = Object.keys(vars);
      for (const n of names) sum[n] ??= tf.zerosLike(vars[n] as tf.Variable);
      const packed = packGradients(sum, names, local);
      const { mean, stop } = await dp.allReduce(packed, this.step + 1);
      if (stop) this.stopRequested = true;
      const reduced = unpackGradients(mean, sum, names);
      tf.dispose(Object.values(sum));
      sum = reduced.grads;
      numbers = [...reduced.tail, reduced.squaredNorm];
    } else {
      const sq = squaredGlobalNorm(sum);
      numbers = tf.tidy(() => tf.stack([...kept, sq]).dataSync());
      tf.dispose([...kept, sq]);
    }
    const at = (i: number) => numbers[i] as number;
    const mean = (from: number, step: number) => {
      let total = 0;
      for (let i = 0; i < A; i++) total += at(from + i * step);
      return total / A;
    };
    const loss = mean(0, 1);
    const nll = reports.length ? mean(A, 2) : 0;
    const aux = reports.length ? mean(A + 1, 2) : 0;
    const items = reports.reduce((n, r) => n + r.items, 0) * (dp?.size ?? 1);
    const norm = Math.sqrt(at(numbers.length - 1));
    const grads = clipToNorm(sum, norm, c.clip > 0 ? c.clip : Number.POSITIVE_INFINITY);
    tf.dispose(Object.values(sum));
    const allFinite = Number.isFinite(loss) && Number.isFinite(norm);
    // A finite loss far above its running median is divergence too (lr 1e6 trains to a finite
    // 3e14): it is skipped and counted like a non-finite one, so it rolls back and then fails.
    const reference = this.recentLosses.length >= 10 ? medianOf(this.recentLosses) : null;
    const divergent =
      allFinite &&
      reference !== null &&
      c.divergenceFactor > 0 &&
      loss > reference * c.divergenceFactor;
    const finite = allFinite && !divergent;
    const lr = this.schedule(this.step);
    if (finite) {
      this.optimizer.apply(vars, grads, lr);
      this.step += 1;
      this.metrics.lastLoss = loss;
      this.recentLosses.push(loss);
      if (this.recentLosses.length > 50) this.recentLosses.shift();
    } else {
      this.metrics.skipped += 1;
      this.emit('anomaly', {
        step: this.step,
        position: this.position,
        kind: divergent ? 'diverged' : 'non-finite',
        message: divergent
          ? `loss ${loss.toPrecision(4)} is over ${c.divergenceFactor}× its running median ${(reference as number).toPrecision(4)} at data position ${this.position - A}: update ${this.step + 1} skipped`
          : `non-finite ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} at data position ${this.position - A}: update ${this.step + 1} skipped`,
      });
    }
    tf.dispose(Object.values(grads));
    const ms = performance.now() - t0;
    this.emit('step', {
      step: this.step,
      position: this.position,
      loss,
      nll,
      aux,
      gradNorm: norm,
      lr,
      itemsPerSec: (items / ms) * 1000,
      ms,
      skipped: !finite,
    });
    const last = reports.at(-1);
    const stats = last ? { ...last, nll: at(A + 2 * (A - 1)), aux: at(A + 2 * (A - 1) + 1) } : null;
    return { finite, stats };
  }

  private emitStats(s: TaskStats): void {
    const coefficients = this.task.coefficients?.() ?? {};
    this.emit('stats', {
      step: this.step,
      expertLoad: s.expertLoad,
      outputNorm: s.outputNorm,
      routingEntropy: s.routingEntropy,
      droppedTokens: s.droppedTokens,
      coefficients,
    });
  }

  private async runEval(): Promise<void> {
    const evaluate = this.options.evaluate;
    if (!evaluate) return;
    const event = { step: this.step, metrics: await evaluate(this.step) };
    this.metrics.evals.push(event);
    this.emit('eval', event);
  }

  private async rollback(): Promise<void> {
    const c = this.config;
    this.metrics.rollbacks += 1;
    const count = this.metrics.rollbacks;
    if (count > c.maxRollbacks)
      throw new TrainingDivergedError(
        `training diverged: ${c.maxNonFinite} consecutive non-finite steps after ${c.maxRollbacks} roll-backs (data position ${this.position})`,
      );
    const position = this.position;
    const metrics = this.metrics;
    const restored = await this.restore();
    // Keep moving through the data (the batches that failed are not replayed) and keep the counters.
    this.position = position;
    this.metrics = { ...this.metrics, skipped: metrics.skipped, rollbacks: count };
    this.emit('anomaly', {
      step: this.step,
      position,
      kind: 'rollback',
      message:
        restored === null
          ? `${c.maxNonFinite} consecutive non-finite steps and no checkpoint to roll back to: continuing`
          : `${c.maxNonFinite} consecutive non-finite steps: rolled back to the checkpoint of step ${restored}`,
    });
  }

  /** Frees the optimiser state and the task's carried state. */
  dispose(): void {
    this.optimizer.dispose();
    this.task.dispose();
  }
}
