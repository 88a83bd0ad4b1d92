// npm run bench:tuner [-- --quick] — Branin and Hartmann-6, 20 seeds × 100 trials: random search vs
// our TPE (presets hyperopt, optuna-3.1, optuna-5) (`--seeds N` for more seeds, `--out name` for the JSON name) and, where Debian's python3-optuna is installed,
// Optuna's own TPESampler side by side; median best regret per sampler; and the time of one
// suggestion with 1,000 completed trials. Writes bench/results/tuner.json.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  floatDistribution,
  InMemoryStorage,
  RandomSampler,
  type Sampler,
  Study,
  TpeSampler,
  type Trial,
} from '@msmoe/tuner';
import { printTable, writeResults } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seeds: { type: 'string' },
    out: { type: 'string', default: 'tuner' },
  },
});
const SEEDS = values.seeds ? Number(values.seeds) : values.quick ? 5 : 20;
const TRIALS = 100;

const A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];
const ALPHA = [1.0, 1.2, 3.0, 3.2];

const FUNCTIONS: { name: string; optimum: number; f: (t: Trial) => Promise<number> }[] = [
  {
    name: 'branin',
    optimum: 0.397887,
    f: async (t) => {
      const x1 = await t.suggestFloat('x1', -5, 10);
      const x2 = await t.suggestFloat('x2', 0, 15);
      const b = 5.1 / (4 * Math.PI ** 2);
      return (
        (x2 - b * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 +
        10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) +
        10
      );
    },
  },
  {
    name: 'hartmann6',
    optimum: -3.32237,
    f: async (t) => {
      const x: number[] = [];
      for (let j = 0; j < 6; j++) x.push(await t.suggestFloat(`x${j}`, 0, 1));
      let s = 0;
      for (let i = 0; i < 4; i++) {
        let e = 0;
        for (let j = 0; j < 6; j++)
          e += (A[i]![j] as number) * ((x[j] as number) - (P[i]![j] as number) * 1e-4) ** 2;
        s += (ALPHA[i] as number) * Math.exp(-e);
      }
      return -s;
    },
  },
];

const SAMPLERS: [string, () => Sampler][] = [
  ['random', () => new RandomSampler()],
  ['tpe:hyperopt', () => new TpeSampler({ preset: 'hyperopt' })],
  ['tpe:optuna-3.1', () => new TpeSampler({ preset: 'optuna-3.1' })],
  ['tpe:optuna-5', () => new TpeSampler({ preset: 'optuna-5' })],
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const rows: {
  name: string;
  sampler: string;
  medianRegret: number;
  seeds: number;
  trials: number;
  ms?: number;
}[] = [];
for (const fn of FUNCTIONS) {
  for (const [name, make] of SAMPLERS) {
    const t0 = performance.now();
    const regrets: number[] = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      const study = await Study.create({ sampler: make(), seed });
      await study.optimize(fn.f, { trials: TRIALS });
      regrets.push(((await study.bestTrial())?.value as number) - fn.optimum);
    }
    rows.push({
      name: fn.name,
      sampler: name,
      medianRegret: median(regrets),
      seeds: SEEDS,
      trials: TRIALS,
      ms: (performance.now() - t0) / SEEDS,
    });
    console.log(`${fn.name} ${name}: median regret ${median(regrets).toPrecision(4)}`);
  }
}

// Optuna side by side (Debian python3-optuna), when present.
const python = ['/usr/bin/python3', 'python3'].find((p) => {
  try {
    execFileSync(p, ['-c', 'import optuna'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
let optunaVersion: string | null = null;
if (python) {
  const out = JSON.parse(
    execFileSync(python, ['bench/python/optuna_tpe.py', String(SEEDS), String(TRIALS)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    }),
  ) as { optuna: string; functions: { name: string; regrets: number[] }[] };
  optunaVersion = out.optuna;
  for (const f of out.functions)
    rows.push({
      name: f.name,
      sampler: `optuna ${out.optuna} TPESampler`,
      medianRegret: median(f.regrets),
      seeds: SEEDS,
      trials: TRIALS,
    });
} else
  console.log(
    '\nOptuna column skipped: python3-optuna is not installed (apt-get install python3-optuna).',
  );

// Suggestion time with 1,000 completed trials (2 parameters, memory storage).
async function suggestMs(make: () => Sampler): Promise<number> {
  const storage = new InMemoryStorage();
  const study = await Study.create({ sampler: make(), storage, seed: 1 });
  const d = { x1: floatDistribution('x1', -5, 10), x2: floatDistribution('x2', 0, 15) };
  const info = study.info;
  for (let i = 0; i < 1000; i++) {
    const t = await storage.createTrial(info.studyId);
    await storage.setParam(t.trialId, 'x1', -5 + ((i * 7919) % 1500) / 100, d.x1);
    await storage.setParam(t.trialId, 'x2', ((i * 104729) % 1500) / 100, d.x2);
    await storage.setState(t.trialId, 'COMPLETE', (i * 31) % 97);
  }
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    const trial = await study.ask();
    await trial.suggestFloat('x1', -5, 10);
    await trial.suggestFloat('x2', 0, 15);
    times.push(performance.now() - t0);
    await study.tell(trial, 1);
  }
  return median(times);
}
const suggestMsAt1000: Record<string, number> = {};
for (const [name, make] of SAMPLERS.slice(1)) suggestMsAt1000[name] = await suggestMs(make);

const table = rows.map((r) => {
  const random = rows.find((x) => x.name === r.name && x.sampler === 'random')
    ?.medianRegret as number;
  const opt = rows.find((x) => x.name === r.name && x.sampler.startsWith('optuna '))?.medianRegret;
  return {
    function: r.name,
    sampler: r.sampler,
    'median regret': r.medianRegret,
    '× random': r.medianRegret / random,
    '× Optuna': opt === undefined ? 'n/a' : r.medianRegret / opt,
    'ms / study': r.ms === undefined ? '' : r.ms,
  };
});
printTable(`Median best regret, ${SEEDS} seeds × ${TRIALS} trials`, table, [
  'function',
  'sampler',
  'median regret',
  '× random',
  '× Optuna',
  'ms / study',
]);
printTable(
  'Suggestion time at 1,000 completed trials (ask + 2 parameters, median of 7)',
  Object.entries(suggestMsAt1000).map(([sampler, ms]) => ({ sampler, ms })),
  ['sampler', 'ms'],
);
writeResults(values.out as string, {
  functions: rows.map(({ ms: _ms, ...r }) => r),
  suggestMsAt1000: Math.max(...Object.values(suggestMsAt1000)),
  suggestMsAt1000BySampler: suggestMsAt1000,
  optuna: optunaVersion,
});
