// Shared benchmark plumbing: timing, a printed table, JSON results under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';

/** Folder the JSON results are written to. */
export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Timing of one case: median and spread over the measured repetitions, in milliseconds. */
export interface Timing {
  medianMs: number;
  minMs: number;
  reps: number;
}

/**
 * Runs `fn` `warmup` times, then repeatedly until `minTotalMs` have passed and at least `minReps`
 * runs were made (at most `maxReps`); returns the median time.
 */
export function timeIt(
  fn: () => void,
  { warmup = 2, minReps = 5, maxReps = 200, minTotalMs = 1500 } = {},
): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < maxReps &&
    (times.length < minReps || performance.now() - start < minTotalMs)
  ) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    medianMs: times[Math.floor(times.length / 2)] as number,
    minMs: times[0] as number,
    reps: times.length,
  };
}

/** Prints rows as a table with the given column order. */
export function printTable(
  title: string,
  rows: Record<string, unknown>[],
  columns: string[],
): void {
  const table = new Table({ head: columns, style: { head: [], border: [] } });
  for (const row of rows) table.push(columns.map((c) => formatCell(row[c])));
  console.log(`\n${title}\n${table.toString()}`);
}

function formatCell(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  return String(v ?? '');
}

/** Machine facts stored with every result file. */
export function environment(): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

/** Writes `bench/results/<name>.json` and says where. */
export function writeResults(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ ...data, environment: environment() }, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  return file;
}
