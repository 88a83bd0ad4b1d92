// A pool of worker processes, one tfjs (wasm) instance each: tfjs-wasm runs one thread per
// process in Node, so a second core pays off by running a second job. Workers are this same CLI
// started with the hidden `_worker` command; they take their job over IPC and report progress
// back; the parent draws one line per worker and an overall ETA, and forwards Ctrl-C.
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { MultiBar, Presets } from 'cli-progress';
import { out as pc } from './colors.js';
import type { Reporter } from './progress.js';

/** What a worker tells its parent. */
export type WorkerMessage =
  | { type: 'start'; label: string; total: number; from: number }
  | {
      type: 'step';
      step: number;
      loss: number;
      perplexity: number;
      itemsPerSec: number;
      unit: string;
    }
  | { type: 'info'; message: string; warn?: boolean }
  | { type: 'stop' };

/** `auto` (the cores of this machine) or a count. */
export function workerCount(value: string | number | undefined): number {
  if (value === undefined || value === 'auto') return Math.max(1, availableParallelism());
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--workers: "${value}" is not a positive integer or "auto"`);
  return n;
}

/** A Reporter in a worker (process or thread): everything goes to the parent as {@link WorkerMessage}s. */
export class ParentReporter implements Reporter {
  /** `send`: how a message reaches the parent (default: the process's IPC channel). */
  constructor(private readonly send: (m: WorkerMessage) => void = (m) => process.send?.(m)) {}
  start(label: string, total: number, from: number): void {
    this.send({ type: 'start', label, total, from });
  }
  step(
    step: number,
    v: { loss: number; perplexity: number; itemsPerSec: number; unit: string },
  ): void {
    this.send({ type: 'step', step, ...v });
  }
  info(message: string): void {
    this.send({ type: 'info', message });
  }
  warn(message: string): void {
    this.send({ type: 'info', message, warn: true });
  }
  stop(): void {
    this.send({ type: 'stop' });
  }
  private phase = '';
  /** A line when a phase (the final evaluation) starts. */
  progress(label: string, _done: number, total: number, unit: string): void {
    if (label === this.phase) return;
    this.phase = label;
    this.send({ type: 'info', message: `  ${label}: ${total} ${unit}` });
  }
}

/** Where the parent shows its workers: a bar each on a TTY, else plain lines (every 10%). */
export interface PoolDisplay {
  message(worker: number, m: WorkerMessage): void;
  log(line: string): void;
  close(): void;
}

/** Progress of the whole pool: work units done out of a total, for the overall ETA. */
export class PoolProgress {
  private readonly t0 = performance.now();
  private done = 0;
  constructor(readonly total: number) {}
  /** Adds finished work (steps, over all runs). */
  add(units: number): void {
    this.done += units;
  }
  /** `12% | ETA 4 min` of the whole pool. */
  text(): string {
    const pct = this.total ? (100 * this.done) / this.total : 100;
    const elapsed = (performance.now() - this.t0) / 1000;
    const eta = this.done ? ((this.total - this.done) * elapsed) / this.done : Number.NaN;
    const fmt = (s: number) =>
      !Number.isFinite(s) ? '–' : s > 90 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`;
    return `all: ${pct.toFixed(0)}% | ETA ${fmt(eta)}`;
  }
}

/** A bar per worker (TTY). */
export function barDisplay(workers: number, progress: PoolProgress): PoolDisplay {
  const multi = new MultiBar(
    {
      format: `{label} {bar} {value}/{total} | {rate} {unit} | loss {loss} | {all}`,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 20,
    },
    Presets.shades_grey,
  );
  const bars = Array.from({ length: workers }, (_, i) =>
    multi.create(1, 0, {
      label: pc.dim(`worker ${i + 1}: idle`),
      rate: '–',
      unit: '',
      loss: '–',
      all: '',
    }),
  );
  const last = new Map<number, number>();
  return {
    message(worker, m) {
      const bar = bars[worker];
      if (!bar) return;
      if (m.type === 'start') {
        bar.setTotal(m.total);
        bar.update(m.from, { label: pc.bold(m.label.padEnd(24)), rate: '–', loss: '–' });
        last.set(worker, m.from);
      } else if (m.type === 'step') {
        progress.add(m.step - (last.get(worker) ?? m.step - 1));
        last.set(worker, m.step);
        bar.update(m.step, {
          rate: m.itemsPerSec.toFixed(0),
          unit: m.unit,
          loss: Number.isFinite(m.loss) ? m.loss.toFixed(3) : String(m.loss),
          all: progress.text(),
        });
      } else if (m.type === 'info') multi.log(`${m.message}\n`);
    },
    log: (line) => multi.log(`${line}\n`),
    close: () => multi.stop(),
  };
}

/** Lines (logs, no TTY): a line per run every 10% of its steps, evaluations and messages. */
export function lineDisplay(progress: PoolProgress, quiet: boolean): PoolDisplay {
  const runs = new Map<number, { label: string; total: number; next: number; last: number }>();
  return {
    message(worker, m) {
      if (m.type === 'start') {
        runs.set(worker, {
          label: m.label,
          total: m.total,
          next: m.from + Math.max(1, Math.round(m.total / 10)),
          last: m.from,
        });
        if (!quiet) console.log(`[w${worker + 1}] ${m.label}: steps ${m.from + 1}–${m.total}`);
      } else if (m.type === 'step') {
        const r = runs.get(worker);
        if (!r) return;
        progress.add(m.step - r.last);
        r.last = m.step;
        if (quiet || (m.step < r.next && m.step !== r.total)) return;
        r.next = m.step + Math.max(1, Math.round(r.total / 10));
        console.log(
          `[w${worker + 1}] ${r.label} ${m.step}/${r.total} | ${m.itemsPerSec.toFixed(0)} ${m.unit} | loss ${m.loss.toFixed(3)} | ${progress.text()}`,
        );
      } else if (m.type === 'info')
        (m.warn ? console.warn : console.log)(`[w${worker + 1}] ${m.message}`);
    },
    log: (line) => console.log(line),
    close: () => {},
  };
}

/**
 * Starts `n` workers on a job (`_worker` command, the job sent over IPC) and resolves with their
 * exit codes once all have exited. `signal` aborting forwards SIGINT: each worker checkpoints its
 * run and exits 130.
 */
export async function runPool(
  n: number,
  job: (worker: number) => unknown,
  display: PoolDisplay,
  signal?: AbortSignal,
): Promise<number[]> {
  const script = process.argv[1] as string;
  const children: ChildProcess[] = [];
  const exits = Array.from(
    { length: n },
    (_, i) =>
      new Promise<number>((resolve) => {
        const child = fork(script, ['_worker'], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          env: { ...process.env, MSMOE_WORKER: String(i + 1) },
        });
        children.push(child);
        child.on('message', (m: WorkerMessage) => display.message(i, m));
        child.on('exit', (code, sig) => resolve(code ?? (sig ? 130 : 1)));
        child.send({ type: 'job', job: job(i) });
      }),
  );
  const stop = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
  };
  signal?.addEventListener('abort', stop);
  try {
    return await Promise.all(exits);
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

/** In a worker: the job the parent sent. */
export function receiveJob<T>(): Promise<T> {
  return new Promise((resolve) => {
    process.once('message', (m: { type: string; job: T }) => {
      if (m.type === 'job') resolve(m.job);
    });
  });
}
