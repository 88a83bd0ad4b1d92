import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@msmoe/core';
import { readRun, renderReport } from '@msmoe/tracking';
import { type FrozenTrial, intDistribution, openStorage, type Storage, Study } from '@msmoe/tuner';
import type { RuleConfig } from '@msmoe/update-rules';
import {
  abRows,
  addMce,
  type Claim,
  type CompareRow,
  claimsOf,
  formatTable,
  formatVerdicts,
  runMetrics,
  tableHtml,
  type VariantMetrics,
  verdictsHtml,
} from './analysis.js';
import { isImageTask, type RunConfig, runName, variantName } from './config.js';
import { loadTaskData } from './data.js';
import { type PoolDisplay, runPool } from './pool.js';
import type { Reporter } from './progress.js';
import { RunError, type RunResult, trainRun } from './run.js';

/** The result of {@link compare}. */
export interface CompareResult {
  out: string;
  stopped: boolean;
  rows: CompareRow[];
  /** The verdicts (one per claim × variant × arm). */
  claims: Claim[];
  report: string | null;
  runs: RunResult[];
}

/** What a compare trains: the base config, the rules (the first the baseline) and the seeds. */
export interface ComparePlan {
  base: RunConfig;
  variants: RuleConfig[];
  seeds: number[];
  /**
   * A stress arm: the same comparison (of `variants`, the first the baseline) at a learning rate
   * where the baseline's training oscillates; its run folders end in `-stress`.
   */
  stress?: {
    lr: number;
    variants: RuleConfig[];
    /** The stress arm's seeds (default: `seeds`); its effects are large, so fewer can do. */
    seeds?: number[];
  };
}

/** One cell of a compare: a (variant, seed) run of an arm. */
export interface CompareCell {
  index: number;
  /** `default` or `stress`. */
  arm: string;
  /** The rule's label (the same in both arms). */
  variant: string;
  seed: number;
  /** Run folder name (`<variant>-s<seed>`). */
  name: string;
  config: RunConfig;
}

/** The cells of a plan, arm-major then variant-major (every seed of the baseline first). */
export function planCells(plan: ComparePlan): CompareCell[] {
  const { base } = plan;
  const arms: { arm: string; rules: RuleConfig[]; lr: number; seeds: number[] }[] = [
    { arm: 'default', rules: plan.variants, lr: base.train.lr, seeds: plan.seeds },
    ...(plan.stress
      ? [
          {
            arm: 'stress',
            rules: plan.stress.variants,
            lr: plan.stress.lr,
            seeds: plan.stress.seeds ?? plan.seeds,
          },
        ]
      : []),
  ];
  const cells: CompareCell[] = [];
  for (const { arm, rules, lr, seeds } of arms)
    for (const rule of rules) {
      const variant = variantName({ task: base.task, model: { ...base.model, rule } });
      for (const seed of seeds) {
        const stress = arm === 'stress';
        const config: RunConfig = {
          ...base,
          name: undefined,
          // Stress runs are their own group in reports: the label says the learning rate.
          variant: stress ? `${variant} @ lr ${lr}` : variant,
          seed,
          model: { ...base.model, rule },
          train: { ...base.train, lr },
        };
        const name = `${runName({ ...config, variant })}${stress ? '-stress' : ''}`;
        cells.push({ index: cells.length, arm, variant, seed, name, config });
      }
    }
  return cells;
}

/** A short fingerprint of a plan: processes sharing a study must run the same one. */
export function planKey(plan: ComparePlan): string {
  const { name: _n, variant: _v, ...base } = plan.base;
  return createHash('sha256')
    .update(
      JSON.stringify({
        base,
        variants: plan.variants,
        seeds: plan.seeds,
        ...(plan.stress ? { stress: plan.stress } : {}),
      }),
    )
    .digest('hex')
    .slice(0, 12);
}

/** The default study name of a plan: the same command finds the same study (and folder) again. */
export function defaultStudyName(plan: ComparePlan): string {
  return `compare-${plan.base.task}-${plan.base.model.preset}-${planKey(plan)}`;
}

const HEARTBEAT_S = 10;
/** This process as a study worker: host and pid (a dead pid on this host frees its cell at once). */
const workerId = () => `${hostname()}:${process.pid}`;

/** Fails RUNNING trials of dead workers: same host and pid gone at once, others after a silent grace. */
async function releaseDead(storage: Storage, studyId: number): Promise<void> {
  for (const t of await storage.getTrials(studyId, ['RUNNING'])) {
    const [host, pid] = String(t.userAttrs.worker ?? '').split(':');
    if (host !== hostname() || !pid || pid === String(process.pid)) continue;
    let alive = true;
    try {
      process.kill(Number(pid), 0);
      // A killed worker whose parent died too is a zombie until init reaps it: dead already.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z/.test(stat)) alive = false;
    } catch (err) {
      // ENOENT of /proc (not Linux, or gone): decided by kill alone.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') alive = false;
    }
    if (!alive) {
      await storage.setUserAttr(t.trialId, 'error', `worker ${t.userAttrs.worker} died`);
      await storage.setState(t.trialId, 'FAIL', null);
    }
  }
  await storage.failStale(studyId, 6 * HEARTBEAT_S);
}

/** The trial that holds each cell's result, and the cells no trial is working on. */
function cellStatus(
  trials: FrozenTrial[],
  cells: CompareCell[],
): { complete: Map<number, FrozenTrial>; open: CompareCell[]; waiting: number; running: number } {
  const complete = new Map<number, FrozenTrial>();
  const waiting = new Set<number>();
  const running = new Set<number>();
  for (const t of trials) {
    const cell = t.params.cell;
    if (cell === undefined) continue;
    if (t.state === 'COMPLETE' && !complete.has(cell)) complete.set(cell, t);
    if (t.state === 'WAITING') waiting.add(cell);
    if (t.state === 'RUNNING') running.add(cell);
  }
  const todo = cells.filter((c) => !complete.has(c.index));
  return {
    complete,
    open: todo.filter((c) => !waiting.has(c.index) && !running.has(c.index)),
    waiting: todo.filter((c) => waiting.has(c.index) && !running.has(c.index)).length,
    running: todo.filter((c) => running.has(c.index)).length,
  };
}

/** Options of {@link compare}. */
export interface CompareOptions {
  plan: ComparePlan;
  /** The compare folder: run folders, journal, compare.json, report.html. */
  out: string;
  /** Study storage URL (default `journal:<out>/study.log`). */
  storage?: string;
  studyName?: string;
  /** Worker processes on this machine. */
  workers: number;
  display: PoolDisplay;
  signal?: AbortSignal;
  backend?: string;
  /** Welch's unpaired test instead of the paired analysis (variants that differ in shape). */
  unpaired?: boolean;
}

/**
 * An A/B(/C…) study: the same model, data and seeds with different update rules. Each (variant,
 * seed) cell is a trial of a study in the tuner's storages (a journal file in the compare folder
 * by default; SQLite; PostgreSQL for several machines), run by a pool of worker processes that
 * claim cells atomically, so each cell runs once however many processes share the study; an
 * interrupted compare continues where it stopped (finished cells kept, a cell killed mid-way
 * resumed from its checkpoint). Then the table (mean ± std, 95% interval, attacked − clean gap,
 * Welch's p against the first variant), compare.json and report.html.
 */
export async function compare(options: CompareOptions): Promise<CompareResult> {
  const { plan, out, display } = options;
  const cells = planCells(plan);
  const key = planKey(plan);
  const studyName = options.studyName ?? defaultStudyName(plan);
  mkdirSync(out, { recursive: true });
  const storageUrl = options.storage ?? `journal:${join(out, 'study.log')}`;
  const text = !isImageTask(plan.base.task);
  // A user's data folder is checked here, so a bad one is one line before any worker starts;
  // embedded data is read by the workers only (their caches are written atomically).
  if (plan.base.data.folder) await loadTaskData(plan.base, join(out, '..', '.cache'));
  const storage = await openStorage(storageUrl, { workerId: workerId() });
  try {
    const study = await Study.create({
      name: studyName,
      storage,
      direction: text ? 'minimize' : 'maximize',
      loadIfExists: true,
    });
    const studyId = study.info.studyId;
    const distributions = { cell: intDistribution('cell', 0, cells.length - 1) };
    const job: CompareJob = {
      kind: 'compare',
      plan,
      out,
      storage: storageUrl,
      studyName,
      backend: options.backend,
    };
    let final = cellStatus([], cells);
    // Rounds: enqueue the cells nobody holds, run them, wait for other processes' cells; a cell
    // whose worker died (noticed late: a killed pool's workers linger as zombies for a moment) is
    // enqueued again in the next round. Two rounds without progress end the compare.
    for (let round = 0, stalled = 0; ; round++) {
      await releaseDead(storage, studyId);
      const status = cellStatus(await study.trials(), cells);
      for (const c of status.open)
        await storage.createTrial(
          studyId,
          {
            state: 'WAITING',
            params: { cell: c.index },
            distributions,
            userAttrs: { plan: key, cell: c.name },
          },
          workerId(),
        );
      // Cells nobody runs yet (just enqueued, or waiting from another process) are ours to claim.
      const todo = status.open.length + status.waiting;
      if (round === 0)
        display.log(
          `study ${studyName} (${storageUrl}): ${status.complete.size}/${cells.length} cells done, ${todo} to run${status.running ? `, ${status.running} running elsewhere` : ''}`,
        );
      else if (todo > 0) display.log(`running ${todo} cell(s) again (their worker died)`);
      if (todo > 0)
        await runPool(
          Math.min(options.workers, Math.max(1, todo)),
          () => job,
          display,
          options.signal,
        );
      if (options.signal?.aborted)
        return { out, stopped: true, rows: [], claims: [], report: null, runs: [] };
      // Cells claimed by other processes (or machines): wait for them.
      final = cellStatus(await study.trials(), cells);
      while (final.complete.size < cells.length && final.running > 0 && !options.signal?.aborted) {
        await new Promise((r) => setTimeout(r, 2000));
        await releaseDead(storage, studyId);
        final = cellStatus(await study.trials(), cells);
      }
      if (options.signal?.aborted)
        return { out, stopped: true, rows: [], claims: [], report: null, runs: [] };
      if (final.complete.size === cells.length) break;
      stalled = final.complete.size > status.complete.size ? 0 : stalled + 1;
      if (stalled >= 2) break;
    }
    if (final.complete.size < cells.length) {
      const failed = cells.filter((c) => !final.complete.has(c.index)).map((c) => c.name);
      throw new RunError(
        `compare: ${failed.length} cell(s) did not finish (${failed.join(', ')}); rerun the same command to run them again`,
      );
    }
    return await writeResults(plan, cells, final.complete, out, studyName, !options.unpaired);
  } finally {
    display.close();
    await storage.close();
  }
}

/**
 * Verdicts, table, compare.json, summary.json and report.html from the cells' trials (each
 * trial holds its run's eval.json, so a study shared by several machines has every number here).
 */
async function writeResults(
  plan: ComparePlan,
  cells: CompareCell[],
  complete: Map<number, FrozenTrial>,
  out: string,
  studyName: string,
  paired: boolean,
): Promise<CompareResult> {
  const rows: CompareRow[] = [];
  for (const arm of [...new Set(cells.map((c) => c.arm))]) {
    const perVariant: VariantMetrics[] = [];
    for (const c of cells.filter((x) => x.arm === arm)) {
      const evalJson = (complete.get(c.index)?.userAttrs.eval ?? {}) as Record<string, unknown>;
      let v = perVariant.find((p) => p.variant === c.variant);
      if (!v) {
        v = { variant: c.variant, metrics: [] };
        perVariant.push(v);
      }
      v.metrics.push(runMetrics(evalJson));
    }
    addMce(perVariant);
    rows.push(...abRows(perVariant, arm, paired));
  }
  const claims = paired ? claimsOf(rows, plan.base.task) : [];
  if (claims.length) console.log(`\n${formatVerdicts(claims)}`);
  console.log(`\n${formatTable(rows)}`);
  // Run folders on this machine (or a shared path) go into the report.
  const dirs = cells
    .map((c) => join(out, c.name))
    .filter((d) => existsSync(join(d, 'config.json')));
  const report = join(out, 'report.html');
  await writeFileAtomic(
    report,
    renderReport(dirs.map(readRun), {
      title: `msmoe compare: ${[...new Set(cells.map((c) => c.variant))].join(' vs ')}`,
      topHtml: verdictsHtml(claims),
      extraHtml: tableHtml(rows),
    }),
  );
  await writeFileAtomic(
    join(out, 'compare.json'),
    `${JSON.stringify({ study: studyName, variants: plan.variants, seeds: plan.seeds, stress: plan.stress ?? null, rows }, null, 2)}\n`,
  );
  await writeFileAtomic(
    join(out, 'summary.json'),
    `${JSON.stringify(
      {
        paired,
        task: plan.base.task,
        preset: plan.base.model.preset,
        steps: plan.base.train.steps,
        seeds: plan.seeds.length,
        claims: claims.map(({ verdict, ...c }) => ({ ...c, verdict })),
      },
      null,
      2,
    )}\n`,
  );
  return {
    out,
    stopped: false,
    rows,
    claims,
    report,
    runs: cells.map((c) => ({
      dir: join(out, c.name),
      stopped: false,
      step: plan.base.train.steps,
      finalLoss: Number.NaN,
      eval: (complete.get(c.index)?.userAttrs.eval ?? null) as Record<string, unknown> | null,
    })),
  };
}

/**
 * The result of a cell's run that finished on this machine (its eval.json is written last) when
 * the study does not have it yet: the process was killed between writing eval.json and telling
 * the study. Taken as it is, not trained again; null when the run has not finished.
 */
function finishedRun(dir: string): RunResult | null {
  const file = join(dir, 'eval.json');
  if (!existsSync(file)) return null;
  // eval.json is the run's result, with the step and final loss in front for a run that did not
  // diverge (a diverged run's result is the whole file: step and message included).
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const { step, finalLoss, ...result } = saved;
  return {
    dir,
    stopped: false,
    step: Number(step),
    finalLoss: Number(finalLoss ?? Number.NaN),
    eval: saved.diverged ? saved : result,
  };
}

/** The job of a compare worker process. */
export interface CompareJob {
  kind: 'compare';
  plan: ComparePlan;
  out: string;
  storage: string;
  studyName: string;
  backend?: string;
}

/**
 * A compare worker (one process): claims WAITING cells of the study one at a time until none is
 * left, trains each (resuming its run folder from a checkpoint when one exists), and stores the
 * result (objective: clean validation perplexity or accuracy; the eval.json as user attribute).
 * A cell that a lower-numbered trial already holds is dropped (two processes that enqueued the
 * same cell), so each cell runs once. On abort the current run checkpoints and its trial fails
 * with `interrupted` (the next compare enqueues it again and resumes the run).
 */
export async function compareWorker(
  job: CompareJob,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<void> {
  const cells = planCells(job.plan);
  const key = planKey(job.plan);
  const data = await loadTaskData(job.plan.base, join(job.out, '..', '.cache'));
  const storage = await openStorage(job.storage, { workerId: workerId() });
  try {
    const study = await Study.create({ name: job.studyName, storage, loadIfExists: true });
    const studyId = study.info.studyId;
    while (!signal.aborted) {
      const trial = await storage.claimWaiting(studyId, workerId());
      if (!trial) break;
      const cell = cells[trial.params.cell as number];
      const fail = async (why: string) => {
        await storage.setUserAttr(trial.trialId, 'error', why);
        await storage.setState(trial.trialId, 'FAIL', null);
      };
      if (!cell || trial.userAttrs.plan !== key) {
        await fail(`plan mismatch: this worker runs plan ${key}`);
        continue;
      }
      const holder = (await study.trials()).find(
        (t) =>
          t.params.cell === cell.index &&
          t.number < trial.number &&
          (t.state === 'COMPLETE' || t.state === 'RUNNING'),
      );
      if (holder) {
        await fail(`duplicate of trial ${holder.number}`);
        continue;
      }
      await storage.setUserAttr(trial.trialId, 'worker', workerId());
      await storage.heartbeat(trial.trialId);
      const beat = setInterval(
        () => void storage.heartbeat(trial.trialId).catch(() => {}),
        HEARTBEAT_S * 1000,
      );
      try {
        const dir = join(job.out, cell.name);
        const finished = finishedRun(dir);
        if (finished)
          reporter.info(`${cell.name} had finished (its eval.json is taken, not trained again)`);
        const r =
          finished ??
          (await trainRun(cell.config, {
            out: job.out,
            name: cell.name,
            resume: existsSync(join(dir, 'config.json')) ? dir : undefined,
            data,
            reporter,
            signal,
            backend: job.backend,
          }));
        if (r.stopped) {
          await fail('interrupted');
          break;
        }
        const clean = (r.eval?.clean ?? {}) as Record<string, number>;
        const value = isImageTask(cell.config.task) ? clean.accuracy : clean['valid perplexity'];
        await storage.setUserAttr(trial.trialId, 'eval', r.eval);
        await storage.setUserAttr(trial.trialId, 'run', r.dir);
        // A diverged run is a finished cell with no objective (counted as diverged in the table).
        if (r.eval?.diverged) await storage.setState(trial.trialId, 'COMPLETE', null);
        else await study.tell(trial.number, Number(value));
      } catch (err) {
        await fail(`${(err as Error).name}: ${(err as Error).message}`);
        throw err;
      } finally {
        clearInterval(beat);
      }
    }
  } finally {
    await storage.close();
  }
}
