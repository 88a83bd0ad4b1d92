import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A tensor for the onnxruntime-web child process. */
export type OrtTensor = { type: string; dims: number[]; data: number[] };
/** Outputs of one run. */
export type OrtOut = Record<string, { dims: number[]; data: number[] }>;

/**
 * Runs a model in onnxruntime-web in a child Node process (Jest's VM cannot load its wasm glue);
 * with `chain`, each run's `next_cache_<i>` feeds the next run's `cache_<i>`.
 */
export function runOrt(
  bytes: Uint8Array,
  threads: number,
  runs: Record<string, OrtTensor>[],
  chain = false,
): OrtOut[] {
  const dir = mkdtempSync(join(tmpdir(), 'msmoe-ort-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), bytes);
    writeFileSync(
      join(dir, 'req.json'),
      JSON.stringify({ model: join(dir, 'model.onnx'), threads, runs, chain }),
    );
    const out = execFileSync(
      process.execPath,
      [join(__dirname, 'ort-run.mjs'), join(dir, 'req.json')],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      },
    );
    return JSON.parse(out) as OrtOut[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
