import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@msmoe/core/fs';
import { TfEventsWriter } from './tfevents.js';

/** One line of `metrics.jsonl`. `kind` says which: a training step, routing statistics, an evaluation. */
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
    this.tb = new TfEventsWriter(
      join(dir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}`),
    );
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

  /** Opens an existing run folder to append (resume). */
  static open(dir: string): RunWriter {
    if (!existsSync(join(dir, 'config.json')))
      throw new Error(`run folder ${dir}: no config.json (not a run folder)`);
    return new RunWriter(dir);
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
    }
  }

  /** Writes eval.json (atomically). */
  async writeEval(result: Record<string, unknown>): Promise<void> {
    await writeFileAtomic(join(this.dir, 'eval.json'), `${JSON.stringify(result, null, 2)}\n`);
  }
}

/** Reads a run folder; a missing or malformed config.json is an error naming the folder. */
export function readRun(dir: string): RunData {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`run folder ${dir}: no config.json`);
  const config = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  const metrics: MetricRecord[] = [];
  const mPath = join(dir, 'metrics.jsonl');
  if (existsSync(mPath)) {
    for (const line of readFileSync(mPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        metrics.push(JSON.parse(line) as MetricRecord);
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

/** Run folders under a folder (itself, its children and grandchildren holding a config.json), sorted. */
export function findRuns(folder: string): string[] {
  const out: string[] = [];
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
      if (statSync(p).isDirectory()) visit(p, depth - 1);
    }
  };
  visit(folder, 2);
  return out;
}
