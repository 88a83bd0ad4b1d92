// Data-parallel training of one run: `size` replicas, each a worker thread with its own tfjs
// instance, each training on its share of every batch. Their gradients are averaged at every step
// through shared memory (SharedAllReduce: no copies through the event loop), so every replica
// applies the same update; this thread compares digests of their weights to check that they stay
// identical, shows replica 0's progress and turns Ctrl-C into a stop at the same step everywhere.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MessagePort, Worker } from 'node:worker_threads';
import { writeFileAtomic } from '@msmoe/core';
import type { DataParallel } from '@msmoe/training';
import { initCompute } from './compute.js';
import type { RunConfig } from './config.js';
import { ParentReporter, type PoolDisplay, type WorkerMessage } from './pool.js';
import type { Reporter } from './progress.js';
import { type RunResult, trainRun } from './run.js';
import {
  abortAll,
  askStop,
  newBuffers,
  newControl,
  SharedAllReduce,
  type SharedBuffers,
} from './shared-reduce.js';

/** Backends a replica thread can run (tfjs-node's native binding is one per process). */
export const REPLICA_BACKENDS = ['wasm', 'cpu'] as const;

/** What a replica thread is given. */
export interface ReplicaJob {
  config: RunConfig;
  rank: number;
  size: number;
  out: string;
  name?: string;
  resume?: string;
  backend: (typeof REPLICA_BACKENDS)[number];
  verifyEvery: number;
  control: SharedArrayBuffer;
}

/** What replicas tell the coordinator, and what it answers. */
type ReplicaMessage =
  | { kind: 'report'; message: WorkerMessage }
  | { kind: 'length'; length: number }
  | { kind: 'digest'; step: number; digest: string }
  | { kind: 'result'; result: RunResult };
type CoordinatorMessage = { kind: 'buffers'; buffers: SharedBuffers };

/** One comparison of the replicas' weight digests. */
export interface DigestCheck {
  step: number;
  identical: boolean;
  digests: string[];
}

/** How a data-parallel run ended. */
export interface DataParallelResult {
  /** Replica 0's result (null when it failed). */
  result: RunResult | null;
  /** The first replica failure (null when none). */
  error: string | null;
  /** Every weight comparison of this invocation. */
  checks: DigestCheck[];
}

/** Options of {@link trainDataParallel}. */
export interface DataParallelOptions {
  out: string;
  name?: string;
  resume?: string;
  backend: (typeof REPLICA_BACKENDS)[number];
  /** Replicas (worker threads). */
  size: number;
  /** Steps between weight comparisons (0: only at the end). */
  verifyEvery?: number;
  display: PoolDisplay;
  /** Ctrl-C: every replica stops after the same step and replica 0 checkpoints. */
  signal?: AbortSignal;
}

/** A worker thread running `entry` (a TypeScript entry is loaded through tsx, as in development). */
function startThread(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Trains one run as `size` data-parallel replicas and coordinates them: gradients averaged every
 * step, weights compared every `verifyEvery` steps and at the end (a difference stops the run), a
 * replica that fails stops the others. Replica 0 writes the run folder; its `data-parallel.json`
 * records the replicas and every weight comparison.
 */
export async function trainDataParallel(
  config: RunConfig,
  options: DataParallelOptions,
): Promise<DataParallelResult> {
  const { size } = options;
  const control = newControl();
  const digests = new Map<number, string[]>();
  const checks: DigestCheck[] = [];
  let buffers: SharedBuffers | null = null;
  let result: RunResult | null = null;
  let error: string | null = null;
  const fail = (message: string) => {
    error ??= message;
    abortAll(control);
  };
  const onAbort = () => askStop(control);
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();

  const entry = new URL(
    `./replica-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  const threads = Array.from({ length: size }, (_, rank) =>
    startThread(entry, {
      config,
      rank,
      size,
      out: options.out,
      ...(options.name ? { name: options.name } : {}),
      ...(options.resume ? { resume: options.resume } : {}),
      backend: options.backend,
      verifyEvery: options.verifyEvery ?? 50,
      control,
    } satisfies ReplicaJob),
  );
  const ended = threads.map(
    (thread, rank) =>
      new Promise<void>((resolve) => {
        thread.on('message', (m: ReplicaMessage) => {
          if (m.kind === 'report') options.display.message(0, m.message);
          else if (m.kind === 'length') {
            if (!buffers) {
              buffers = newBuffers(control, size, m.length);
              for (const t of threads)
                t.postMessage({ kind: 'buffers', buffers } satisfies CoordinatorMessage);
            } else if (buffers.mean.byteLength !== m.length * 4)
              fail(
                `data parallel: replica ${rank} has ${m.length} numbers to average, replica 0 ${buffers.mean.byteLength / 4}`,
              );
          } else if (m.kind === 'digest') {
            const list = digests.get(m.step) ?? Array.from({ length: size }, () => '');
            list[rank] = m.digest;
            digests.set(m.step, list);
            if (list.every((d) => d !== '')) {
              digests.delete(m.step);
              const identical = list.every((d) => d === list[0]);
              checks.push({ step: m.step, identical, digests: list });
              if (!identical)
                fail(
                  `data parallel: the replicas' weights differ after step ${m.step} (${list.join(' ')})`,
                );
            }
          } else if (m.kind === 'result' && rank === 0) result = m.result;
        });
        thread.on('error', (err) => fail(`data parallel: replica ${rank} failed: ${err.message}`));
        thread.on('exit', (code) => {
          if (code !== 0) fail(`data parallel: replica ${rank} exited with code ${code}`);
          resolve();
        });
      }),
  );
  try {
    await Promise.all(ended);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const finished = result as RunResult | null;
  if (finished) {
    // The record of this run's replicas and weight checks, appended to across resumes.
    const path = join(finished.dir, 'data-parallel.json');
    const before = existsSync(path)
      ? (JSON.parse(readFileSync(path, 'utf8')) as { checks?: DigestCheck[] })
      : {};
    await writeFileAtomic(
      path,
      `${JSON.stringify({ replicas: size, checks: [...(before.checks ?? []), ...checks] }, null, 2)}\n`,
    );
  }
  return { result: finished, error, checks };
}

/** A reporter that says nothing (replicas other than 0). */
const silent: Reporter = { start() {}, step() {}, info() {}, warn() {}, stop() {} };

/** Runs one replica (the body of a replica thread; `port` is its link to the coordinator). */
export async function runReplica(job: ReplicaJob, port: MessagePort): Promise<void> {
  await initCompute(job.backend);
  const post = (m: ReplicaMessage) => port.postMessage(m);
  let reduce: SharedAllReduce | null = null;
  let arrived: ((b: SharedBuffers) => void) | null = null;
  const ready = new Promise<SharedBuffers>((resolve) => {
    arrived = resolve;
  });
  const listener = (m: CoordinatorMessage) => {
    if (m.kind === 'buffers') arrived?.(m.buffers);
  };
  port.on('message', listener);
  const replica: DataParallel = {
    rank: job.rank,
    size: job.size,
    verifyEvery: job.verifyEvery,
    async allReduce(buffer) {
      if (!reduce) {
        post({ kind: 'length', length: buffer.length });
        reduce = new SharedAllReduce(await ready, job.rank, job.size, buffer.length);
      }
      return reduce.reduce(buffer);
    },
    verify: (step, digest) => post({ kind: 'digest', step, digest }),
  };
  try {
    const result = await trainRun(job.config, {
      out: job.out,
      ...(job.name ? { name: job.name } : {}),
      ...(job.resume ? { resume: job.resume } : {}),
      backend: job.backend,
      reporter:
        job.rank === 0
          ? new ParentReporter((message) => post({ kind: 'report', message }))
          : silent,
      replica,
    });
    post({ kind: 'result', result });
  } finally {
    port.off('message', listener);
  }
}
