// npm run bench:parallel [-- --quick] — aggregate training tokens/s of `msmoe compare` on the
// tiny preset with 1 and 2 worker processes: the same 4 cells (2 rules × 2 seeds), periodic
// evaluation off, wall time of the whole command (process start, data, training, the short final
// evaluation). Then one run trained data-parallel (`msmoe train --data-parallel 1|2`, tiny and
// mini): training tokens/s from the step records' timestamps (data loading and evaluation
// excluded). Writes bench/results/parallel.json as {"cases":[{"workers","tokensPerSec"}, …],
// "dataParallel":[{"preset","replicas","tokensPerSec"}, …]}.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { printTable, writeResults } from './lib/harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const STEPS = values.quick ? 40 : 300;
const CELLS = 4;
const TOKENS_PER_STEP = 8 * 32; // tiny: 8 streams × 32 tokens

/** `node` arguments that run the msmoe CLI from its sources (as `npm run msmoe`). */
const MSMOE = ['--import', 'tsx', '--conditions=@msmoe/source', 'apps/trainer/src/main.ts'];

const cases: { workers: number; tokensPerSec: number; seconds: number }[] = [];
for (const workers of [1, 2]) {
  const out = mkdtempSync(join(tmpdir(), 'msmoe-parallel-'));
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      ...MSMOE,
      'compare',
      '--stress-lr',
      'off', // the 4 cells below only (compare adds a stress arm by default)
      '--variants',
      'g,m',
      '--seeds',
      '2',
      '--steps',
      String(STEPS),
      '--workers',
      String(workers),
      '--out',
      out,
      '--quiet',
      '--set',
      'eval.every=0',
      'eval.finalBlocks=2',
    ],
    { encoding: 'utf8' },
  );
  const seconds = (performance.now() - t0) / 1000;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`compare with ${workers} worker(s) failed:\n${r.stderr}`);
  const tokensPerSec = (CELLS * STEPS * TOKENS_PER_STEP) / seconds;
  cases.push({ workers, tokensPerSec, seconds });
  console.log(`${workers} worker(s): ${seconds.toFixed(1)} s, ${tokensPerSec.toFixed(0)} tokens/s`);
}
const speedup = (cases[1]?.tokensPerSec ?? 0) / (cases[0]?.tokensPerSec ?? 1);

// One run over 1 or 2 data-parallel replicas.
const PRESETS = { tiny: { tokens: 8 * 32, steps: 150 }, mini: { tokens: 8 * 64, steps: 60 } };
const dataParallel: {
  preset: string;
  replicas: number;
  tokensPerSec: number;
  msPerStep: number;
}[] = [];
for (const [preset, p] of Object.entries(PRESETS)) {
  const steps = values.quick ? 20 : p.steps;
  for (const replicas of [1, 2]) {
    const out = mkdtempSync(join(tmpdir(), 'msmoe-dp-'));
    const r = spawnSync(
      process.execPath,
      [
        ...MSMOE,
        'train',
        '--preset',
        preset,
        '--steps',
        String(steps),
        '--data-parallel',
        String(replicas),
        '--out',
        out,
        '--quiet',
        '--set',
        'eval.every=0',
        'eval.finalBlocks=1',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`train --data-parallel ${replicas} failed:\n${r.stderr}`);
    const times = readFileSync(join(out, 'SMoE-s0', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; time: number })
      .filter((m) => m.kind === 'step')
      .map((m) => m.time);
    rmSync(out, { recursive: true, force: true });
    // Steps after the first five (warm-up), between their timestamps.
    const from = Math.min(5, times.length - 2);
    const msPerStep =
      ((times.at(-1) as number) - (times[from] as number)) / (times.length - 1 - from);
    dataParallel.push({ preset, replicas, msPerStep, tokensPerSec: (p.tokens / msPerStep) * 1000 });
    console.log(`${preset}, ${replicas} replica(s): ${msPerStep.toFixed(1)} ms/step`);
  }
}
printTable(
  `msmoe compare, tiny, ${CELLS} cells × ${STEPS} steps: aggregate tokens/s (2 workers: ${speedup.toFixed(2)}×)`,
  cases,
  ['workers', 'seconds', 'tokensPerSec'],
);
printTable('msmoe train --data-parallel: one run, training tokens/s', dataParallel, [
  'preset',
  'replicas',
  'msPerStep',
  'tokensPerSec',
]);
writeResults('parallel', { cases, speedup, steps: STEPS, cells: CELLS, dataParallel });
