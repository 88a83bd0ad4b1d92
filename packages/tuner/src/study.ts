import {
  type Choice,
  categoricalDistribution,
  type Distribution,
  floatDistribution,
  intDistribution,
  isSingle,
  SearchSpaceError,
  toExternal,
  toInternal,
} from './distributions.js';
import { NopPruner, type Pruner } from './pruners.js';
import { type SampleContext, type Sampler, TpeSampler } from './samplers/tpe.js';
import { InMemoryStorage, type Storage } from './storage/base.js';
import type { Direction, FrozenTrial, StudyInfo } from './trial.js';

/** Thrown by an objective (when {@link Trial.shouldPrune} says so) to end a trial as PRUNED. */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

/** A running trial: suggest parameters, report intermediate values, ask whether to prune. */
export class Trial {
  /** External parameter values suggested so far. */
  readonly params: Record<string, Choice> = {};

  constructor(
    private readonly study: Study,
    private frozen: FrozenTrial,
    private readonly relative: Record<string, number>,
    private readonly relativeSpace: Record<string, Distribution>,
    /** The study's trials as read at ask time: every suggestion of this trial samples against them. */
    private readonly history: FrozenTrial[],
  ) {
    for (const [k, v] of Object.entries(frozen.params))
      this.params[k] = toExternal(frozen.distributions[k] as Distribution, v);
  }

  /** Number within the study. */
  get number(): number {
    return this.frozen.number;
  }
  /** Storage id. */
  get trialId(): number {
    return this.frozen.trialId;
  }

  /** A float in [low, high] (`log` for log-uniform, `step` for a grid). */
  suggestFloat(
    name: string,
    low: number,
    high: number,
    options: { log?: boolean; step?: number } = {},
  ): Promise<number> {
    return this.suggest(name, floatDistribution(name, low, high, options)) as Promise<number>;
  }
  /** An integer in [low, high]. */
  suggestInt(
    name: string,
    low: number,
    high: number,
    options: { log?: boolean; step?: number } = {},
  ): Promise<number> {
    return this.suggest(name, intDistribution(name, low, high, options)) as Promise<number>;
  }
  /** One of the choices (the value, not its index). */
  suggestCategorical<T extends Choice>(name: string, choices: T[]): Promise<T> {
    return this.suggest(name, categoricalDistribution(name, choices)) as Promise<T>;
  }

  /** Suggests a value for any distribution (the same name always needs the same distribution). */
  async suggest(name: string, d: Distribution): Promise<Choice> {
    if (name in this.params) {
      const prev = this.frozen.distributions[name];
      if (prev && JSON.stringify(prev) !== JSON.stringify(d))
        throw new SearchSpaceError(
          `parameter "${name}" was already suggested in this trial with another distribution`,
        );
      return this.params[name] as Choice;
    }
    let internal: number;
    // Optuna's enqueue_trial: a WAITING trial carrying `system_attrs.fixed_params` (external
    // values) that its suggestions must return, as Optuna's own trial does.
    const fixed = this.frozen.systemAttrs.fixed_params as Record<string, unknown> | undefined;
    if (fixed && name in fixed) {
      try {
        internal = toInternal(d, fixed[name]);
      } catch {
        throw new SearchSpaceError(
          `parameter "${name}": the enqueued value ${JSON.stringify(fixed[name])} is not in ${JSON.stringify(d)}`,
        );
      }
    } else if (isSingle(d)) internal = d.kind === 'categorical' ? 0 : d.low;
    else if (
      name in this.relative &&
      JSON.stringify(this.relativeSpace[name]) === JSON.stringify(d)
    )
      internal = this.relative[name] as number;
    else
      internal = this.study.sampler.sampleIndependent(
        {
          trials: this.history,
          trial: this.frozen,
          direction: this.study.direction,
          seed: this.study.seed,
        },
        name,
        d,
      );
    await this.study.storage.setParam(this.frozen.trialId, name, internal, d);
    this.frozen.params[name] = internal;
    this.frozen.distributions[name] = d;
    const v = toExternal(d, internal);
    this.params[name] = v;
    return v;
  }

  /** Reports an intermediate value at a step (for pruning and the report). */
  async report(value: number, step: number): Promise<void> {
    if (!Number.isInteger(step) || step < 0)
      throw new Error(`report: step must be an integer ≥ 0, got ${step}`);
    await this.study.storage.setIntermediate(this.frozen.trialId, step, value);
    this.frozen.intermediate[step] = value;
  }

  /** Whether the study's pruner says this trial should stop now. */
  async shouldPrune(): Promise<boolean> {
    return this.study.shouldPrune(this.frozen);
  }

  /** Stores a user attribute. */
  async setUserAttr(key: string, value: unknown): Promise<void> {
    await this.study.storage.setUserAttr(this.frozen.trialId, key, value);
    this.frozen.userAttrs[key] = value;
  }
}

/** Options of {@link Study.create}. */
export interface StudyOptions {
  name?: string;
  storage?: Storage;
  sampler?: Sampler;
  pruner?: Pruner;
  direction?: Direction;
  /** Open the study when it already exists (resume). */
  loadIfExists?: boolean;
  /** Seed of every suggestion: (seed, trial number, parameter) fixes each draw. */
  seed?: number;
  /** Seconds between heartbeats of running trials; RUNNING trials silent for 2× this are failed. */
  heartbeatInterval?: number;
  /** Identifies this worker (heartbeats, journal lines). */
  workerId?: string;
  /**
   * Re-run trials failed for a lost heartbeat (Optuna's `RetryFailedTrialCallback`): a WAITING copy
   * with the same parameters and system attrs `failed_trial` (the first failed number) and
   * `retry_history`; `maxRetry` retries at most (null: no limit). Off by default.
   */
  retryFailed?: { maxRetry: number | null };
}

/** Options of {@link Study.optimize}. */
export interface OptimizeOptions {
  /** Trials this call runs (across its workers). */
  trials?: number;
  /** Concurrent objective calls in this process (each its own trial). */
  workers?: number;
  /** Stop starting trials after this many seconds. */
  timeout?: number;
  /** Called after each finished trial. */
  onTrial?: (trial: FrozenTrial) => void;
}

/**
 * A study: ask/tell and `optimize`, over a storage shared by any number of workers (processes,
 * machines). Minimise or maximise; failed trials keep their error (user attr `error`); a trial
 * whose worker stopped sending heartbeats is marked FAIL by the next ask of any worker.
 */
export class Study {
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  readonly seed: number;
  readonly workerId: string;
  readonly heartbeatInterval: number;

  private constructor(
    readonly storage: Storage,
    readonly info: StudyInfo,
    options: StudyOptions,
  ) {
    this.sampler = options.sampler ?? new TpeSampler();
    this.pruner = options.pruner ?? new NopPruner();
    this.seed = options.seed ?? 0;
    this.workerId = options.workerId ?? `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    this.heartbeatInterval = options.heartbeatInterval ?? 0;
    this.retryFailed = options.retryFailed ?? null;
  }

  private readonly retryFailed: { maxRetry: number | null } | null;

  /** Creates (or, with `loadIfExists`, opens) a study. */
  static async create(options: StudyOptions = {}): Promise<Study> {
    const storage = options.storage ?? new InMemoryStorage();
    const name = options.name ?? `study-${Date.now()}`;
    const direction = options.direction ?? 'minimize';
    const info = await storage.createStudy(name, direction, { loadIfExists: options.loadIfExists });
    return new Study(storage, info, options);
  }

  /** Study name. */
  get name(): string {
    return this.info.name;
  }
  /** Direction. */
  get direction(): Direction {
    return this.info.direction;
  }

  /** Every trial, in number order. */
  trials(): Promise<FrozenTrial[]> {
    return this.storage.getTrials(this.info.studyId);
  }

  /** The best COMPLETE trial (null when none). */
  async bestTrial(): Promise<FrozenTrial | null> {
    const done = (await this.storage.getTrials(this.info.studyId, ['COMPLETE'])).filter(
      (t) => t.value !== null && !Number.isNaN(t.value),
    );
    if (!done.length) return null;
    const sign = this.direction === 'maximize' ? -1 : 1;
    return done.reduce((a, b) => (sign * (b.value as number) < sign * (a.value as number) ? b : a));
  }

  /** External parameter values of a stored trial. */
  static paramsOf(t: FrozenTrial): Record<string, Choice> {
    return Object.fromEntries(
      Object.entries(t.params).map(([k, v]) => [
        k,
        toExternal(t.distributions[k] as Distribution, v),
      ]),
    );
  }

  /** Adds a WAITING trial with fixed parameters (warm start); the next ask takes it. */
  async enqueue(
    params: Record<string, Choice>,
    distributions: Record<string, Distribution>,
  ): Promise<void> {
    const internal: Record<string, number> = {};
    for (const [k, v] of Object.entries(params))
      internal[k] = toInternal(distributions[k] as Distribution, v);
    await this.storage.createTrial(
      this.info.studyId,
      { state: 'WAITING', params: internal, distributions },
      this.workerId,
    );
  }

  /** Starts a trial: fails stale trials, claims a WAITING one or creates one, samples the joint space. */
  async ask(): Promise<Trial> {
    if (this.heartbeatInterval > 0) {
      const stale = await this.storage.failStale(this.info.studyId, 2 * this.heartbeatInterval);
      if (this.retryFailed) for (const t of stale) await this.retry(t);
    }
    const frozen =
      (await this.storage.claimWaiting(this.info.studyId, this.workerId)) ??
      (await this.storage.createTrial(this.info.studyId, {}, this.workerId));
    if (this.heartbeatInterval > 0) await this.storage.heartbeat(frozen.trialId);
    // One read of the study per trial (not one per suggested parameter).
    const ctx: SampleContext = {
      trials: await this.trials(),
      trial: frozen,
      direction: this.direction,
      seed: this.seed,
    };
    const space = this.sampler.relativeSpace(ctx);
    const relative = Object.keys(space).length ? this.sampler.sampleRelative(ctx, space) : {};
    return new Trial(this, frozen, relative, space, ctx.trials);
  }

  private async retry(t: FrozenTrial): Promise<void> {
    const history = [...((t.systemAttrs.retry_history as number[] | undefined) ?? []), t.number];
    const max = this.retryFailed?.maxRetry ?? null;
    if (max !== null && history.length > max) return;
    await this.storage.createTrial(
      this.info.studyId,
      {
        state: 'WAITING',
        params: t.params,
        distributions: t.distributions,
        userAttrs: t.userAttrs,
        systemAttrs: {
          failed_trial: (t.systemAttrs.failed_trial as number | undefined) ?? t.number,
          retry_history: history,
        },
      },
      this.workerId,
    );
  }

  /** Finishes a trial: a number (COMPLETE; NaN → FAIL), `pruned` (value = last intermediate), or an error (FAIL). */
  async tell(trial: Trial | number, result: number | 'pruned' | Error): Promise<FrozenTrial> {
    const trialId =
      typeof trial === 'number'
        ? (await this.trials()).find((t) => t.number === trial)?.trialId
        : trial.trialId;
    if (trialId === undefined) throw new Error(`tell: trial ${String(trial)} does not exist`);
    const t = await this.storage.getTrial(trialId);
    let ok: boolean;
    if (result === 'pruned') {
      const steps = Object.keys(t.intermediate).map(Number);
      const last = steps.length ? (t.intermediate[Math.max(...steps)] as number) : null;
      ok = await this.storage.setState(
        trialId,
        'PRUNED',
        last !== null && !Number.isNaN(last) ? last : null,
      );
    } else if (result instanceof Error) {
      await this.storage
        .setUserAttr(trialId, 'error', `${result.name}: ${result.message}`)
        .catch(() => {});
      ok = await this.storage.setState(trialId, 'FAIL', null);
    } else if (typeof result !== 'number' || Number.isNaN(result)) {
      await this.storage
        .setUserAttr(trialId, 'error', `objective returned ${String(result)}`)
        .catch(() => {});
      ok = await this.storage.setState(trialId, 'FAIL', null);
    } else ok = await this.storage.setState(trialId, 'COMPLETE', result);
    if (!ok) throw new Error(`tell: trial ${t.number} had already finished (${t.state})`);
    return this.storage.getTrial(trialId);
  }

  /** Runs the objective for `trials` trials with up to `workers` at a time (or until `timeout` seconds). */
  async optimize(
    objective: (trial: Trial) => Promise<number> | number,
    options: OptimizeOptions = {},
  ): Promise<void> {
    const total = options.trials ?? Number.POSITIVE_INFINITY;
    if (total === Number.POSITIVE_INFINITY && options.timeout === undefined)
      throw new Error('optimize: give trials or timeout');
    const workers = Math.max(1, options.workers ?? 1);
    const deadline =
      options.timeout !== undefined
        ? Date.now() + options.timeout * 1000
        : Number.POSITIVE_INFINITY;
    let started = 0;
    const worker = async () => {
      while (started < total && Date.now() < deadline) {
        started++;
        const trial = await this.ask();
        const beat =
          this.heartbeatInterval > 0
            ? setInterval(
                () => void this.storage.heartbeat(trial.trialId).catch(() => {}),
                this.heartbeatInterval * 1000,
              )
            : null;
        let result: number | 'pruned' | Error;
        try {
          result = await objective(trial);
        } catch (err) {
          result =
            err instanceof TrialPruned
              ? 'pruned'
              : err instanceof Error
                ? err
                : new Error(String(err));
        } finally {
          if (beat) clearInterval(beat);
        }
        const done = await this.tell(trial, result);
        options.onTrial?.(done);
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }

  /** @internal The pruner's decision for a trial. */
  async shouldPrune(trial: FrozenTrial): Promise<boolean> {
    return this.pruner.prune({
      trials: await this.trials(),
      trial,
      direction: this.direction,
      studyName: this.name,
      setSystemAttr: (k, v) => this.storage.setSystemAttr(trial.trialId, k, v),
    });
  }
}
