import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@msmoe/core';
import { esc, fmt, readRun, renderReport, summarize, welch } from '@msmoe/tracking';
import { type FrozenTrial, intDistribution, openStorage, type Storage, Study } from '@msmoe/tuner';
import type { RuleConfig } from '@msmoe/update-rules';
import Table from 'cli-table3';
import { isImageTask, type RunConfig, runName, variantName } from './config.js';
import { loadTaskData } from './data.js';
import { type PoolDisplay, runPool } from './pool.js';
import type { Reporter } from './progress.js';
import { RunError, type RunResult, trainRun } from './run.js';

/** One row of the A/B table: a metric of a variant over seeds, and its difference from the baseline. */
export interface CompareRow {
  variant: string;
  metric: string;
  values: number[];
  mean: number;
  std: number;
  ci95: [number, number];
  /** Welch's p-value against the baseline (first variant); null for the baseline itself. */
  p: number | null;
  significant: boolean;
}

/** The result of {@link compare}. */
export interface CompareResult {
  out: string;
  stopped: boolean;
  rows: CompareRow[];
  report: string | null;
  runs: RunResult[];
}

/** Numbers per metric of one run's eval.json (flattened: `clean perplexity`, `attacked − clean perplexity`, …). */
export function runMetrics(e: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const clean = (e.clean ?? {}) as Record<string, number>;
  const attacked = (e.attacked ?? {}) as Record<string, number>;
  for (const [k, v] of Object.entries(clean)) out[`clean ${k}`] = v;
  for (const [k, v] of Object.entries(attacked)) out[`attacked ${k}`] = v;
  for (const k of Object.keys(clean))
    if (k in attacked)
      out[`attacked − clean ${k}`] = (attacked[k] as number) - (clean[k] as number);
  for (const [k, v] of Object.entries((e.corruptions ?? {}) as Record<string, number>))
    out[`accuracy ${k}`] = v;
  return out;
}

/** Builds the A/B rows: mean ± std, 95% interval, Welch's test against the first variant. */
export function abRows(
  perVariant: { variant: string; metrics: Record<string, number>[] }[],
): CompareRow[] {
  const rows: CompareRow[] = [];
  const base = perVariant[0];
  if (!base) return rows;
  const names = Object.keys(base.metrics[0] ?? {});
  for (const metric of names)
    for (const [i, v] of perVariant.entries()) {
      const values = v.metrics
        .map((m) => m[metric])
        .filter((x): x is number => typeof x === 'number');
      const s = summarize(values);
      const baseValues = base.metrics.map((m) => m[metric] as number);
      const p = i === 0 ? null : welch(values, baseValues).p;
      rows.push({
        variant: v.variant,
        metric,
        values,
        mean: s.mean,
        std: s.std,
        ci95: s.ci95,
        p,
        significant: p !== null && Number.isFinite(p) && p < 0.05,
      });
    }
  return rows;
}

/** mCE per run against the baseline variant's mean corruption errors (MNIST-C: one severity per corruption). */
function addMce(perVariant: { variant: string; metrics: Record<string, number>[] }[]): void {
  const base = perVariant[0];
  if (!base) return;
  const corruptions = Object.keys(base.metrics[0] ?? {}).filter((k) => k.startsWith('accuracy '));
  if (!corruptions.length) return;
  const baseErr = Object.fromEntries(
    corruptions.map((c) => [
      c,
      base.metrics.reduce((s, m) => s + (1 - (m[c] as number)), 0) / base.metrics.length,
    ]),
  );
  for (const v of perVariant)
    for (const m of v.metrics)
      m.mCE =
        corruptions.reduce(
          (s, c) => s + (1 - (m[c] as number)) / Math.max(1e-9, baseErr[c] as number),
          0,
        ) / corruptions.length;
}

/** The A/B table as text. */
export function formatTable(rows: CompareRow[]): string {
  const t = new Table({
    head: ['metric', 'variant', 'mean ± std', '95% interval', 'n', 'p vs baseline', 'significant'],
    style: { head: [], border: [] },
  });
  for (const r of rows)
    t.push([
      r.metric,
      r.variant,
      `${fmt(r.mean)} ± ${fmt(r.std)}`,
      `[${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]`,
      String(r.values.length),
      r.p === null ? 'baseline' : Number.isFinite(r.p) ? r.p.toFixed(4) : 'n/a',
      r.p === null ? '' : r.significant ? 'yes (p < 0.05)' : 'no',
    ]);
  return t.toString();
}

/** The A/B table as HTML (for report.html). */
export function tableHtml(rows: CompareRow[]): string {
  return `<h2>A/B comparison (Welch's t-test against the first variant)</h2><table><thead><tr><th>metric</th><th>variant</th><th>mean ± std</th><th>95% interval</th><th>n</th><th>p</th><th>significant</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr><td>${esc(r.metric)}</td><td>${esc(r.variant)}</td><td>${fmt(r.mean)} ± ${fmt(r.std)}</td><td>[${fmt(r.ci95[0])}, ${fmt(r.ci95[1])}]</td><td>${r.values.length}</td><td>${r.p === null ? 'baseline' : Number.isFinite(r.p) ? r.p.toFixed(4) : 'n/a'}</td><td>${r.p === null ? '' : r.significant ? '<b>yes</b>' : 'no'}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/** What a compare trains: the base config, the rules (the first the baseline) and the seeds. */
export interface ComparePlan {
  base: RunConfig;
  variants: RuleConfig[];
  seeds: number[];
}

/** One cell of a compare: a (variant, seed) run. */
export interface CompareCell {
  index: number;
  variant: string;
  seed: number;
  /** Run folder name (`<variant>-s<seed>`). */
  name: string;
  config: RunConfig;
}

/** The cells of a plan, variant-major (every seed of the baseline first). */
export function planCells(plan: ComparePlan): CompareCell[] {
  const { base } = plan;
  return plan.variants.flatMap((rule, v) => {
    const variant = variantName({ task: base.task, model: { ...base.model, rule } });
    return plan.seeds.map((seed, s) => {
      const config: RunConfig = {
        ...base,
        name: undefined,
        variant,
        seed,
        model: { ...base.model, rule },
      };
      return { index: v * plan.seeds.length + s, variant, seed, name: runName(config), config };
    });
  });
}

/** A short fingerprint of a plan: processes sharing a study must run the same one. */
export function planKey(plan: ComparePlan): string {
  const { name: _n, variant: _v, ...base } = plan.base;
  return createHash('sha256')
    .update(JSON.stringify({ base, variants: plan.variants, seeds: plan.seeds }))
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
    } catch {
      alive = false;
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
    await releaseDead(storage, studyId);
    const status = cellStatus(await study.trials(), cells);
    const distributions = { cell: intDistribution('cell', 0, cells.length - 1) };
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
    display.log(
      `study ${studyName} (${storageUrl}): ${status.complete.size}/${cells.length} cells done, ${todo} to run${status.running ? `, ${status.running} running elsewhere` : ''}`,
    );
    const workers = Math.min(options.workers, Math.max(1, todo));
    if (todo > 0) {
      const job: CompareJob = {
        kind: 'compare',
        plan,
        out,
        storage: storageUrl,
        studyName,
        backend: options.backend,
      };
      await runPool(workers, () => job, display, options.signal);
    }
    if (options.signal?.aborted) return { out, stopped: true, rows: [], report: null, runs: [] };
    // Cells claimed by other processes (or machines): wait for them.
    let final = cellStatus(await study.trials(), cells);
    while (final.complete.size < cells.length && final.running > 0 && !options.signal?.aborted) {
      await new Promise((r) => setTimeout(r, 2000));
      await releaseDead(storage, studyId);
      final = cellStatus(await study.trials(), cells);
    }
    if (final.complete.size < cells.length) {
      const failed = cells.filter((c) => !final.complete.has(c.index)).map((c) => c.name);
      throw new RunError(
        `compare: ${failed.length} cell(s) did not finish (${failed.join(', ')}); rerun the same command to run them again`,
      );
    }
    return await writeResults(plan, cells, final.complete, out, studyName);
  } finally {
    display.close();
    await storage.close();
  }
}

/** Table, compare.json and report.html from the cells' trials (eval.json in each trial). */
async function writeResults(
  plan: ComparePlan,
  cells: CompareCell[],
  complete: Map<number, FrozenTrial>,
  out: string,
  studyName: string,
): Promise<CompareResult> {
  const perVariant: { variant: string; metrics: Record<string, number>[] }[] = [];
  for (const c of cells) {
    const evalJson = (complete.get(c.index)?.userAttrs.eval ?? {}) as Record<string, unknown>;
    let v = perVariant.find((p) => p.variant === c.variant);
    if (!v) {
      v = { variant: c.variant, metrics: [] };
      perVariant.push(v);
    }
    v.metrics.push(runMetrics(evalJson));
  }
  addMce(perVariant);
  const rows = abRows(perVariant);
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
      extraHtml: tableHtml(rows),
    }),
  );
  await writeFileAtomic(
    join(out, 'compare.json'),
    `${JSON.stringify({ study: studyName, variants: plan.variants, seeds: plan.seeds, rows }, null, 2)}\n`,
  );
  return {
    out,
    stopped: false,
    rows,
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
        const r = await trainRun(cell.config, {
          out: job.out,
          name: cell.name,
          resume: existsSync(join(dir, 'config.json')) ? dir : undefined,
          data,
          reporter,
          signal,
          backend: job.backend,
        });
        if (r.stopped) {
          await fail('interrupted');
          break;
        }
        const clean = (r.eval?.clean ?? {}) as Record<string, number>;
        const value = isImageTask(cell.config.task) ? clean.accuracy : clean['valid perplexity'];
        await storage.setUserAttr(trial.trialId, 'eval', r.eval);
        await storage.setUserAttr(trial.trialId, 'run', r.dir);
        await study.tell(trial.number, Number(value));
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
