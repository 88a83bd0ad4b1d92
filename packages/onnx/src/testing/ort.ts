import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A tensor for the onnxruntime-web child process. */
export type OrtTensor = { type: string; dims: number[]; data: number[] };
/** Outputs of one run. */
export type OrtOut = Record<string, { dims: number[]; data: number[] }>;
/** One model and its runs; with `chain`, each run's `next_cache_<i>` feeds the next run's `cache_<i>`. */
export interface OrtJob {
  bytes: Uint8Array;
  runs: Record<string, OrtTensor>[];
  chain?: boolean;
}

/**
 * Runs models in onnxruntime-web in one child Node process (Jest's VM cannot load its wasm glue),
 * with a fixed thread count; returns each job's outputs per run.
 */
export function runOrtJobs(threads: number, jobs: OrtJob[]): OrtOut[][] {
  const dir = mkdtempSync(join(tmpdir(), 'msmoe-ort-'));
  try {
    const request = {
      threads,
      jobs: jobs.map((job, i) => {
        const model = join(dir, `model-${i}.onnx`);
        writeFileSync(model, job.bytes);
        return { model, runs: job.runs, chain: job.chain ?? false };
      }),
    };
    writeFileSync(join(dir, 'req.json'), JSON.stringify(request));
    const out = execFileSync(
      process.execPath,
      [join(__dirname, 'ort-run.mjs'), join(dir, 'req.json')],
      { encoding: 'utf8', maxBuffer: 1 << 30 },
    );
    return JSON.parse(out) as OrtOut[][];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one model (see {@link runOrtJobs}). */
export function runOrt(
  bytes: Uint8Array,
  threads: number,
  runs: Record<string, OrtTensor>[],
  chain = false,
): OrtOut[] {
  return runOrtJobs(threads, [{ bytes, runs, chain }])[0] as OrtOut[];
}
