import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, sep } from 'node:path';
import { writeFileAtomic } from '@msmoe/core/fs';
import { TfEventsWriter } from './tfevents.js';

/** One line of `metrics.jsonl`. `kind` says which: a training step, routing statistics, an evaluation. */
/** A folder that is not a run folder (no config.json), or cannot be read as one. */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

export type MetricRecord =
  | ({ kind: 'step'; step: number; time: number } & Record<string, unknown>)
  | ({ kind: 'stats'; step: number; time: number } & Record<string, unknown>)
  | { kind: 'eval'; step: number; time: number; metrics: Record<string, number> }
  | ({ kind: 'event'; step: number; time: number; message: string } & Record<string, unknown>);

/** Everything a run folder holds, read back. */
export interface RunData {
  /** Folder. */
  dir: string;
  /** `config.json` (complete, resolved). */
  config: Record<string, unknown>;
  /** `metrics.jsonl`, in order (a torn last line from a crash is ignored). */
  metrics: MetricRecord[];
  /** `eval.json`, or null while the run has not finished. */
  eval: Record<string, unknown> | null;
}

/**
 * Writes a run folder: `config.json` (atomically, at creation), `metrics.jsonl` (one JSON object
 * per line, appended), TensorBoard `events.out.tfevents.<time>.<host>` (every numeric field of
 * step and eval records as scalars, hparams from the config) and `eval.json` (atomically).
 * Re-opening an existing folder (resume) appends to its logs.
 */
export class RunWriter {
  private readonly tb: TfEventsWriter;

  private constructor(readonly dir: string) {
    // A new event file per writer (a resume never appends to the previous one's file).
    const base = `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}`;
    let name = base;
    for (let i = 1; existsSync(join(dir, name)); i++) name = `${base}.${i}`;
    this.tb = new TfEventsWriter(join(dir, name));
  }

  /** Creates a run folder with its config; `hparams` go to TensorBoard's HPARAMS tab. */
  static async create(
    dir: string,
    config: Record<string, unknown>,
    hparams: Record<string, string | number | boolean> = {},
  ): Promise<RunWriter> {
    await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const w = new RunWriter(dir);
    w.tb.hparams(hparams, String(config.name ?? ''));
    return w;
  }

  /**
   * Opens an existing run folder to append (resume). With `resumedAt` (the checkpoint's step), the
   * new event file starts with a restart marker at the next step, so TensorBoard drops the steps
   * the crashed process logged after that checkpoint (metrics.jsonl is trimmed by the caller).
   */
  static open(dir: string, resumedAt?: number): RunWriter {
    if (!existsSync(join(dir, 'config.json')))
      throw new RunFolderError(`run folder ${dir}: no config.json (not a run folder)`);
    const w = new RunWriter(dir);
    if (resumedAt !== undefined) w.tb.restart(resumedAt + 1);
    return w;
  }

  /** Appends a record to metrics.jsonl (and its numbers to TensorBoard). */
  log(record: MetricRecord): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
    if (record.kind === 'step') {
      const scalars: Record<string, number> = {};
      for (const [k, v] of Object.entries(record))
        if (typeof v === 'number' && k !== 'step' && k !== 'time') scalars[`train/${k}`] = v;
      this.tb.scalars(record.step, scalars, record.time / 1000);
    } else if (record.kind === 'eval') {
      const scalars: Record<string, number> = {};
      for (const [k, v] of Object.entries(record.metrics)) scalars[`eval/${k}`] = v;
      this.tb.scalars(record.step, scalars, record.time / 1000);
    } else if (record.kind === 'stats') {
      // Routing (load per expert and layer, entropy) and the rule's coefficients (learnable μ, γ…).
      const r = record as unknown as {
        expertLoad?: number[][];
        routingEntropy?: number[];
        coefficients?: Record<string, number | number[]>;
      };
      const scalars: Record<string, number> = {};
      for (const [l, loads] of (r.expertLoad ?? []).entries())
        for (const [e, v] of loads.entries()) scalars[`routing/layer${l}/load expert ${e}`] = v;
      for (const [l, v] of (r.routingEntropy ?? []).entries())
        scalars[`routing/layer${l}/entropy`] = v;
      for (const [k, v] of Object.entries(r.coefficients ?? {}))
        if (Array.isArray(v)) for (const [i, x] of v.entries()) scalars[`rule/${k}/${i}`] = x;
        else if (typeof v === 'number') scalars[`rule/${k}`] = v;
      this.tb.scalars(record.step, scalars, record.time / 1000);
    }
  }

  /**
   * Writes eval.json (atomically), and its numbers to TensorBoard as `final/…` scalars with the
   * hparams session's end, so the HPARAMS tab can show test and attacked perplexity per run.
   */
  async writeEval(result: Record<string, unknown>): Promise<void> {
    await writeFileAtomic(join(this.dir, 'eval.json'), `${JSON.stringify(result, null, 2)}\n`);
    const scalars: Record<string, number> = {};
    const walk = (o: unknown, path: string) => {
      if (typeof o === 'number') scalars[`final/${path}`] = o;
      else if (o && typeof o === 'object' && !Array.isArray(o))
        for (const [k, v] of Object.entries(o)) walk(v, path ? `${path}/${k}` : k);
    };
    walk(result, '');
    const step = typeof result.step === 'number' ? result.step : 0;
    this.tb.scalars(step, scalars);
    this.tb.sessionEnd(result.diverged ? 'failure' : 'success');
  }
}

/** Reads a run folder; a missing or malformed config.json is an error naming the folder. */
export function readRun(dir: string): RunData {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new RunFolderError(`run folder ${dir}: no config.json`);
  const config = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  const metrics: MetricRecord[] = [];
  const mPath = join(dir, 'metrics.jsonl');
  if (existsSync(mPath)) {
    for (const line of readFileSync(mPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const record = JSON.parse(line) as MetricRecord | null;
        // Only records: a torn line or a stray `null` is skipped, never passed on.
        if (record && typeof record === 'object' && typeof record.kind === 'string')
          metrics.push(record);
      } catch {
        // A torn last line (the process died mid-write): skip it.
      }
    }
  }
  const ePath = join(dir, 'eval.json');
  const evalResult = existsSync(ePath)
    ? (JSON.parse(readFileSync(ePath, 'utf8')) as Record<string, unknown>)
    : null;
  return { dir, config, metrics, eval: evalResult };
}

/**
 * Reads the run folders it can and lists the ones it cannot (torn config.json or eval.json, a
 * dangling link) with the reason, so one broken run does not hide the others.
 */
export function readRuns(dirs: string[]): {
  runs: RunData[];
  broken: { dir: string; error: string }[];
} {
  const runs: RunData[] = [];
  const broken: { dir: string; error: string }[] = [];
  for (const dir of dirs)
    try {
      runs.push(readRun(dir));
    } catch (err) {
      broken.push({ dir, error: (err as Error).message.split('\n')[0] as string });
    }
  return { runs, broken };
}

/**
 * Run folders under a folder (itself, its children and grandchildren holding a config.json),
 * sorted. Links are followed only where they stay inside the folder: a link to a folder elsewhere
 * is not a run of this folder (the dashboard serves what this lists).
 */
export function findRuns(folder: string): string[] {
  const out: string[] = [];
  let root: string;
  try {
    root = realpathSync(folder);
  } catch {
    return out;
  }
  const inside = (p: string) => {
    try {
      const real = realpathSync(p);
      return real === root || real.startsWith(root + sep);
    } catch {
      return false; // a dangling link
    }
  };
  const visit = (dir: string, depth: number) => {
    if (existsSync(join(dir, 'config.json'))) {
      out.push(dir);
      return;
    }
    if (depth === 0) return;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(dir, n);
      let folder = false;
      try {
        folder = statSync(p).isDirectory();
      } catch {
        // a dangling link or an unreadable entry
      }
      if (folder && inside(p)) visit(p, depth - 1);
    }
  };
  visit(folder, 2);
  return out;
}
