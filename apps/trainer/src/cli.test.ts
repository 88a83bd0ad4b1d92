import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetadata } from '@msmoe/onnx';
import { readRun, readTfEvents } from '@msmoe/tracking';
import { loggedSteps, NODE_ARGS, ROOT, SMALL } from './testing/cli.js';

function msmoe(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...NODE_ARGS, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
}

let out: string;
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), 'msmoe-cli-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

describe('msmoe CLI errors', () => {
  it.each([
    [
      ['train', '--preset', 'huge'],
      /^msmoe: config: model\.preset: unknown preset for task sotu; allowed: tiny, mini, small, medium, large, glam-medium \(got "huge"\)$/,
    ],
    [['train', '--set', 'train.lrr=1'], /^msmoe: config: train\.lrr: unknown field$/],
    [['train', '--set', 'train.lr=-1'], /^msmoe: config: train\.lr: .*(got -1)/],
    [
      ['train', '--rule', 'lion'],
      /^msmoe: rule: is not a rule; allowed: g\|residual\|SMoE, m\|heavy-ball\|MomentumSMoE, .* \(got "lion"\)$/,
    ],
    [
      ['train', '--rule', '{"rule":"heavy-ball","mu":1.5}'],
      /^msmoe: rule\.mu: .*\(got "\{\\"rule\\":\\"heavy-ball\\",\\"mu\\":1\.5\}"\)$/,
    ],
    [
      ['train', '--set', 'model.overrides.numExperts=1'],
      /^msmoe: config: model\.overrides\.k: must be ≤ numExperts \(1\)/,
    ],
    [
      ['train', '--task', 'wikitext', '--set', 'data.folder=/no/such/folder'],
      /^msmoe: data\.folder: \/no\/such\/folder does not exist$/,
    ],
    [
      ['train', '--config', '/no/such.yaml'],
      /^msmoe: config file \/no\/such\.yaml: cannot be read/,
    ],
    [
      ['train', '--set', '__proto__.polluted=1'],
      /^msmoe: .*"__proto__" is not a config field name/,
    ],
    [
      ['train', '--set', 'constructor.prototype.x=1'],
      /^msmoe: .*"constructor" is not a config field name/,
    ],
    [['compare', '--study', '../../x'], /^msmoe: --study: "\.\.\/\.\.\/x" is not a plain name/],
    [['compare', '--stress-lr', 'fast'], /a positive learning rate or "off" \(got "fast"\)/],
    [
      ['compare', '--stress-lr', 'off', '--stress-seeds', '2'],
      /^msmoe: --stress-seeds: there is no stress arm \(--stress-lr off\); give --stress-lr <x>/,
    ],
    [
      ['compare', '--task', 'mnist-c', '--stress-variants', 'g,m'],
      /^msmoe: --stress-variants: there is no stress arm \(none by default for mnist-c\)/,
    ],
    [
      ['compare', '--seeds', '2', '--stress-seeds', '3'],
      /^msmoe: --stress-seeds 3: at most the 2 seeds of --seeds/,
    ],
    [
      ['train', '--task', 'mnist-c', '--set', 'model.overrides.numExperts=1'],
      /^msmoe: router config: k: must be ≤ numExperts \(1\)/,
    ],
    [
      ['compare', '--set', 'model.overrides.numExperts=1'],
      /^msmoe: config: model\.overrides\.k: must be ≤ numExperts \(1\)/,
    ],
    [
      ['train', '--backend', 'gpu'],
      /argument 'gpu' is invalid\. Allowed choices are auto, wasm, cpu, tensorflow, tensorflow-gpu/,
    ],
  ])(
    '%j → one line, exit 2, nothing written',
    (args, message) => {
      const r = msmoe([...args, '--out', out, '--quiet']);
      expect(r.status).toBe(2);
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l && !l.startsWith('(run with'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(readdirSync(out)).toEqual([]);
      // Nothing reached Object.prototype.
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
    60_000,
  );

  it('--help works for every command', () => {
    for (const cmd of ['train', 'eval', 'compare', 'report', 'dashboard', 'data', 'corrupt']) {
      const r = msmoe([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: msmoe ${cmd}`, 'm'));
    }
  }, 120_000);
});

/** Waits until a predicate holds (polling), or fails after `ms`. */
async function until(pred: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => child.on('exit', (code) => r(code)));
}

describe('msmoe train', () => {
  it('SIGINT writes a checkpoint; --resume reaches the final loss of an uninterrupted run (cpu)', async () => {
    const args = [
      'train',
      '--steps',
      '40',
      '--backend',
      'cpu',
      '--quiet',
      ...SMALL,
      'eval.every=20',
    ];
    const full = msmoe([...args, '--out', join(out, 'a')]);
    expect(full.status).toBe(0);
    const a = readRun(join(out, 'a', 'SMoE-s0'));
    // TensorBoard events parse back, every record's CRC valid, with the logged losses.
    const ev = readdirSync(a.dir).find((f) => f.startsWith('events.out.tfevents.')) as string;
    const tb = readTfEvents(join(a.dir, ev));
    expect(tb.scalars.filter((s) => s.tag === 'train/loss')).toHaveLength(40);
    expect(tb.hparams.variant).toBe('SMoE');

    const runDir = join(out, 'b', 'SMoE-s0');
    const child = spawn(process.execPath, [...NODE_ARGS, ...args, '--out', join(out, 'b')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const steps = () => loggedSteps(runDir);
    await until(() => steps() >= 12, 120_000);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(130);
    expect(stderr).toMatch(/SIGINT: writing a checkpoint and stopping/);
    const cps = readdirSync(join(runDir, 'checkpoints'));
    expect(cps).toHaveLength(1);
    const stoppedAt = Number(/step-(\d+)/.exec(cps[0] as string)?.[1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(12);
    expect(stoppedAt).toBeLessThan(40);
    expect(existsSync(join(runDir, 'eval.json'))).toBe(false);

    const resumed = msmoe(['train', '--resume', runDir, '--backend', 'cpu', '--quiet']);
    expect(resumed.status).toBe(0);
    const b = readRun(runDir);
    const fa = a.eval?.finalLoss as number;
    const fb = b.eval?.finalLoss as number;
    console.log(`final loss: uninterrupted ${fa}, interrupted at ${stoppedAt} and resumed ${fb}`);
    expect(Math.abs(fa - fb)).toBeLessThanOrEqual(1e-6);
    // One step record per step, none doubled by the resume.
    expect(b.metrics.filter((m) => m.kind === 'step').map((m) => m.step)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const ppl = (e: Record<string, unknown> | null) =>
      (e?.clean as { perplexity: number } | undefined)?.perplexity;
    expect(ppl(b.eval)).toBeCloseTo(ppl(a.eval) as number, 3);
  }, 300_000);
});

describe('msmoe train --data-parallel', () => {
  const stepLosses = (dir: string) =>
    readRun(dir)
      .metrics.filter((m) => m.kind === 'step')
      .map((m) => m as unknown as { step: number; loss: number; nll: number });

  it('2 replicas keep identical weights, match one process on the full batch, and stop and resume together (cpu)', async () => {
    const args = [
      'train',
      '--steps',
      '24',
      '--backend',
      'cpu',
      '--quiet',
      ...SMALL,
      'model.overrides.dropout=0',
      'eval.every=0',
    ];
    const one = msmoe([...args, '--out', join(out, 'one')]);
    expect(one.status).toBe(0);
    const two = msmoe([
      ...args,
      '--data-parallel',
      '2',
      '--verify-every',
      '4',
      '--out',
      join(out, 'two'),
    ]);
    expect(two.stderr).toBe('');
    expect(two.status).toBe(0);
    expect(two.stdout).toMatch(/2 replicas: weights identical at 6 check\(s\), last after step 24/);
    const dir = join(out, 'two', 'SMoE-s0');
    const record = JSON.parse(readFileSync(join(dir, 'data-parallel.json'), 'utf8'));
    expect(record.replicas).toBe(2);
    expect(record.checks.map((c: { step: number }) => c.step)).toEqual([4, 8, 12, 16, 20, 24]);
    for (const c of record.checks) expect(c.digests[0]).toBe(c.digests[1]);
    expect(readRun(dir).config.dataParallel).toBe(2);
    // Same initial weights, no dropout: the mean of the two halves' NLL is the full batch's NLL.
    const a = stepLosses(join(out, 'one', 'SMoE-s0'));
    const b = stepLosses(dir);
    expect(b).toHaveLength(24);
    expect(Math.abs((a[0]?.nll as number) - (b[0]?.nll as number))).toBeLessThan(1e-5);
    // Later steps differ only by the load-balancing loss, computed per replica as in PyTorch DDP.
    for (let i = 0; i < 24; i++)
      expect(Math.abs((a[i]?.nll as number) - (b[i]?.nll as number))).toBeLessThan(0.05);

    // Ctrl-C stops both replicas after the same step; --resume (2 replicas, as recorded) ends
    // where the uninterrupted data-parallel run ended.
    const runDir = join(out, 'three', 'SMoE-s0');
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, ...args, '--data-parallel', '2', '--out', join(out, 'three')],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const steps = () => loggedSteps(runDir);
    await until(() => steps() >= 8, 120_000);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(130);
    const main = readdirSync(join(runDir, 'checkpoints')).filter((f) => f.startsWith('step-'));
    const replica = readdirSync(join(runDir, 'checkpoints', 'replica-1'));
    expect(main).toHaveLength(1);
    // Replica 1 saved its own streams' attention caches at the same step.
    expect(replica).toEqual(main);
    const resumed = msmoe(['train', '--resume', runDir, '--backend', 'cpu', '--quiet']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const fa = readRun(dir).eval?.finalLoss as number;
    const fb = readRun(runDir).eval?.finalLoss as number;
    console.log(`data parallel final loss: uninterrupted ${fa}, interrupted and resumed ${fb}`);
    expect(Math.abs(fa - fb)).toBeLessThanOrEqual(1e-6);
  }, 300_000);
});

describe('run folders written before the rule registry', () => {
  it('a folder with `coefficients` and old weight names still evaluates, resumes and exports', async () => {
    const rule = '{"rule":"heavy-ball","mu":{"init":0.6,"learnable":true}}';
    const args = ['--steps', '6', '--backend', 'cpu', '--quiet', '--rule', rule, ...SMALL];
    const r = msmoe(['train', ...args, 'train.checkpointEvery=3', 'eval.every=3', '--out', out]);
    expect(r.status).toBe(0);
    const run = join(out, 'MomentumSMoE-s0');
    const before = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
    // Rewrite the folder as the old layout: the rule chosen twice, weights under `update.*`.
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    const { rule: settings, ...model } = config.model;
    writeFileSync(
      join(run, 'config.json'),
      JSON.stringify({ ...config, model: { ...model, rule: 'm', coefficients: settings } }),
    );
    const old = (n: string) =>
      n === 'rule.mu'
        ? 'update.rule.mu'
        : n.replace(
            /^layers\.(\d+)\.(ln_inner|ln_out)/,
            (_m, i, ln) => `update.layers.${(Number(i) - 1) / 2}.${ln}`,
          );
    const core = await import('@msmoe/core');
    const { CheckpointStore, disposeCheckpoint } = await import('@msmoe/training');
    await core.initBackend({ prefer: 'cpu', fallback: false, env: {} });
    const weights = await core.loadSafetensors(join(run, 'model.safetensors'));
    expect(Object.keys(weights.tensors)).toContain('layers.1.ln_inner.weight');
    await core.saveSafetensors(
      join(run, 'model.safetensors'),
      Object.fromEntries(Object.entries(weights.tensors).map(([n, t]) => [old(n), t])),
      { metadata: weights.metadata },
    );
    const store = new CheckpointStore(join(run, 'checkpoints'));
    const cp = (await store.loadLatest()) as NonNullable<
      Awaited<ReturnType<typeof store.loadLatest>>
    >;
    await store.save({
      ...cp,
      model: Object.fromEntries(Object.entries(cp.model).map(([n, t]) => [old(n), t])),
      optimizer: Object.fromEntries(
        Object.entries(cp.optimizer).map(([k, t]) => [
          /^[mv]\./.test(k) ? `${k.slice(0, 2)}${old(k.slice(2))}` : k,
          t,
        ]),
      ),
    });
    disposeCheckpoint(cp);
    const ev = msmoe(['eval', run, '--backend', 'cpu']);
    expect(ev.stderr).toBe('');
    expect(ev.status).toBe(0);
    const after = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
    expect(after.clean.perplexity).toBeCloseTo(before.clean.perplexity, 4);
    rmSync(join(run, 'model.safetensors'));
    const resumed = msmoe(['train', '--resume', run, '--backend', 'cpu', '--quiet']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(readRun(run).eval?.finalLoss).toBeCloseTo(before.finalLoss, 5);
    // --out defaults to <run>/model.onnx.
    const ex = msmoe(['export', run]);
    expect(ex.status).toBe(0);
    expect(ex.stdout).toMatch(/MomentumSMoE/);
    expect(readFileSync(join(run, 'model.onnx')).length).toBeGreaterThan(1000);
    // A folder that is no run: one line, exit 2 (a usage error, as the README says).
    const none = msmoe(['export', join(out, 'no-such-run')]);
    expect(none.status).toBe(2);
    expect(none.stderr.trim().split('\n')).toEqual([expect.stringMatching(/no config\.json/)]);
  }, 300_000);
});

describe('msmoe compare as a study', () => {
  const cmp = (out: string, extra: string[] = []) => [
    'compare',
    '--task',
    'sotu',
    '--stress-lr',
    'off',
    '--variants',
    'g,m',
    '--seeds',
    '2',
    '--out',
    out,
    '--quiet',
    ...extra,
    ...SMALL,
    'eval.every=10',
    'train.checkpointEvery=10',
  ];

  it('killed mid-way (SIGKILL of the pool), the same command finishes it: no finished cell rerun, the killed ones resumed', async () => {
    const args = cmp(out, ['--steps', '300', '--workers', '2']);
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      cwd: ROOT,
      stdio: 'ignore',
      detached: true,
    });
    const study = () => readdirSync(out).find((d) => d.startsWith('compare-')) as string;
    const runs = () =>
      study() ? readdirSync(join(out, study())).filter((d) => /-s\d$/.test(d)) : [];
    const done = () => runs().filter((r) => existsSync(join(out, study(), r, 'eval.json')));
    const checkpointed = () =>
      runs().filter(
        (r) =>
          !existsSync(join(out, study(), r, 'eval.json')) &&
          existsSync(join(out, study(), r, 'checkpoints')) &&
          readdirSync(join(out, study(), r, 'checkpoints')).length > 0,
      );
    await until(() => done().length >= 1 && checkpointed().length >= 1, 240_000);
    process.kill(-(child.pid as number), 'SIGKILL');
    await exitOf(child);
    const finished = done();
    const before = Object.fromEntries(
      finished.map((r) => [r, readFileSync(join(out, study(), r, 'metrics.jsonl'), 'utf8')]),
    );
    const again = msmoe(args);
    if (again.status !== 0)
      throw new Error(
        `rerun exited ${again.status}: ${again.stderr}\n${readFileSync(
          join(out, study(), 'study.log'),
          'utf8',
        )
          .split('\n')
          .filter((l) => l.includes('"error"'))
          .join('\n')}\n${again.stdout.slice(-3000)}`,
      );
    // The study counts a cell done once its worker told it; a kill between a run's eval.json and
    // that (a moment) leaves one finished run the study does not count yet: it is taken from its
    // eval.json, not trained again (its log below is unchanged).
    const counted = Number(again.stdout.match(/(\d)\/4 cells done, (\d) to run/)?.[1]);
    expect(again.stdout).toMatch(new RegExp(`${counted}/4 cells done, ${4 - counted} to run`));
    expect(counted).toBeLessThanOrEqual(finished.length);
    expect(counted).toBeGreaterThanOrEqual(finished.length - 1);
    for (const r of finished)
      expect(readFileSync(join(out, study(), r, 'metrics.jsonl'), 'utf8')).toBe(before[r]);
    const json = JSON.parse(readFileSync(join(out, study(), 'compare.json'), 'utf8'));
    const clean = json.rows.filter((r: { metric: string }) => r.metric === 'clean perplexity');
    expect(clean.map((r: { values: number[] }) => r.values.length)).toEqual([2, 2]);
    // Every run trained each of its 300 steps once (resumed, not restarted or doubled).
    for (const r of runs())
      expect(
        readRun(join(out, study(), r))
          .metrics.filter((m) => m.kind === 'step')
          .map((m) => m.step),
      ).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  }, 600_000);

  it('a finished run the study never heard of (killed between eval.json and the journal) is taken as it is, not trained again', () => {
    const args = cmp(out, ['--steps', '12', '--workers', '1']);
    const first = msmoe(args);
    expect(first.status).toBe(0);
    const folder = join(out, readdirSync(out).find((d) => d.startsWith('compare-')) as string);
    const runs = readdirSync(folder).filter((d) => /-s\d$/.test(d));
    expect(runs).toHaveLength(4);
    const logs = Object.fromEntries(
      runs.map((r) => [r, readFileSync(join(folder, r, 'metrics.jsonl'), 'utf8')]),
    );
    const rows = JSON.parse(readFileSync(join(folder, 'compare.json'), 'utf8')).rows;
    const evals = runs.map((r) => statSync(join(folder, r, 'eval.json')).ino);
    // The journal lost every cell (as if each worker died right after its run's eval.json).
    rmSync(join(folder, 'study.log'));
    const again = msmoe(args);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/0\/4 cells done, 4 to run/);
    expect(again.stdout.match(/had finished \(its eval\.json is taken/g)).toHaveLength(4);
    expect(again.stdout).not.toMatch(/resuming|eval @/);
    // eval.json is written atomically (a new file): the same inode means no run wrote it again.
    expect(runs.map((r) => statSync(join(folder, r, 'eval.json')).ino)).toEqual(evals);
    for (const r of runs)
      expect(readFileSync(join(folder, r, 'metrics.jsonl'), 'utf8')).toBe(logs[r]);
    expect(JSON.parse(readFileSync(join(folder, 'compare.json'), 'utf8')).rows).toEqual(rows);
  }, 300_000);

  const storages: [string, () => string | null][] = [
    ['SQLite', () => `sqlite:${join(out, 'shared.db')}`],
    ['PostgreSQL', () => process.env.MSMOE_PG_URL ?? null],
  ];
  it.each(storages)(
    'two processes on one %s study run every cell exactly once and both print the table',
    async (_name, url) => {
      const storage = url();
      if (!storage) {
        console.warn('PostgreSQL test skipped: MSMOE_PG_URL is not set (.ci/run starts a server)');
        return;
      }
      const name = `shared-${process.pid}-${Date.now()}`;
      const args = cmp(out, [
        '--steps',
        '12',
        '--workers',
        '1',
        '--storage',
        storage,
        '--study',
        name,
      ]);
      const run = () =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const c = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT });
          let stdout = '';
          let stderr = '';
          c.stdout?.on('data', (d) => {
            stdout += String(d);
          });
          c.stderr?.on('data', (d) => {
            stderr += String(d);
          });
          c.on('close', (code) => resolve({ code, stdout, stderr }));
        });
      const [a, b] = await Promise.all([run(), run()]);
      // On failure, say why: the exit codes with each process's stderr.
      expect(
        [a, b].map((r) => `${r.code}${r.code === 0 ? '' : `: ${r.stderr.slice(-2000)}`}`),
      ).toEqual(['0', '0']);
      for (const r of [a, b]) expect(r.stdout).toMatch(/clean perplexity.*MomentumSMoE/);
      const folder = join(out, name);
      const runs = readdirSync(folder)
        .filter((d) => /-s\d$/.test(d))
        .sort();
      expect(runs).toEqual(['MomentumSMoE-s0', 'MomentumSMoE-s1', 'SMoE-s0', 'SMoE-s1']);
      for (const r of runs)
        expect(readRun(join(folder, r)).metrics.filter((m) => m.kind === 'step')).toHaveLength(12);
      const { openStorage, Study } = await import('@msmoe/tuner');
      const st = await openStorage(storage);
      const study = await Study.create({ name, storage: st, loadIfExists: true });
      const trials = await study.trials();
      const complete = trials
        .filter((t) => t.state === 'COMPLETE')
        .map((t) => t.params.cell)
        .sort();
      expect(complete).toEqual([0, 1, 2, 3]);
      await st.close();
    },
    300_000,
  );
});

describe('msmoe compare and report', () => {
  it('2 variants × 2 seeds + a stress arm on sotu-shift: verdicts, the paired table, summary.json, compare.json and a report with every chart', () => {
    const r = msmoe([
      'compare',
      '--variants',
      'g,m',
      '--seeds',
      '2',
      '--steps',
      '12',
      '--stress-lr',
      '0.02',
      '--stress-seeds',
      '1',
      '--out',
      out,
      '--quiet',
      ...SMALL,
      'eval.every=6',
    ]);
    expect(r.status).toBe(0);
    // The default task of compare is the shift study.
    expect(r.stdout).toMatch(
      /compare SMoE vs MomentumSMoE on sotu-shift \(tiny\), 2 seeds × 12 steps; stress arm SMoE vs MomentumSMoE at lr 0\.02 \(1 seed\)/,
    );
    expect(r.stdout).toMatch(/Verdicts \(paired by seed/);
    for (const title of [
      'Training stability',
      'Clean quality',
      'Robustness to attack',
      'Robustness to shift',
    ])
      expect(r.stdout).toContain(title);
    expect(r.stdout).toMatch(/default.*clean perplexity.*SMoE.*baseline/);
    expect(r.stdout).toMatch(/stress.*stability lossOscillation.*MomentumSMoE/);
    expect(r.stdout).toMatch(/attacked − clean perplexity.*MomentumSMoE/);
    expect(r.stdout).toMatch(/shift perplexity.*MomentumSMoE/);
    const folder = join(/report: (.*)report\.html/.exec(r.stdout)?.[1] as string);
    const summary = JSON.parse(readFileSync(join(folder, 'summary.json'), 'utf8'));
    expect(summary.paired).toBe(true);
    // One claim per claim × variant × arm, each with its numbers and a computed sentence.
    expect(
      summary.claims.map((c: { claim: string; arm: string }) => `${c.arm} ${c.claim}`).sort(),
    ).toEqual(
      ['attack', 'clean', 'shift', 'stability']
        .flatMap((c) => [`default ${c}`, `stress ${c}`])
        .sort(),
    );
    for (const c of summary.claims) {
      // The stress arm ran its first seed only (--stress-seeds 1).
      expect(c).toMatchObject({
        variant: 'MomentumSMoE',
        baseline: 'SMoE',
        n: c.arm === 'stress' ? 1 : 2,
      });
      expect(c.ci).toHaveLength(2);
      expect(typeof c.effectPct).toBe('number');
      expect(r.stdout).toContain(c.verdict);
    }
    const report = /report: (.*report\.html)/.exec(r.stdout)?.[1] as string;
    const html = readFileSync(report, 'utf8');
    expect(
      html.match(/<div class="chart" data-chart="\d+"[^>]*><svg/g)?.length,
    ).toBeGreaterThanOrEqual(7);
    expect(html).toMatch(/A\/B comparison/);
    const study = join(report, '..');
    const json = JSON.parse(readFileSync(join(study, 'compare.json'), 'utf8'));
    expect(new Set(json.rows.map((x: { variant: string }) => x.variant))).toEqual(
      new Set(['SMoE', 'MomentumSMoE']),
    );
    expect(html).toMatch(/<h2>Verdicts<\/h2>/);
    expect(
      readdirSync(study)
        .filter((d) => /-s[01](-stress)?$/.test(d))
        .sort(),
    ).toEqual([
      'MomentumSMoE-s0',
      'MomentumSMoE-s0-stress',
      'MomentumSMoE-s1',
      'SMoE-s0',
      'SMoE-s0-stress',
      'SMoE-s1',
    ]);
    expect(readRun(join(study, 'SMoE-s0-stress')).config).toMatchObject({ train: { lr: 0.02 } });
    // msmoe report over the study folder writes the same kind of page.
    const again = msmoe(['report', study, '--out', join(out, 'r.html')]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/report of 6 run\(s\)/);
    const rebuilt = readFileSync(join(out, 'r.html'), 'utf8');
    expect(rebuilt).toMatch(/A\/B comparison/);
    expect(rebuilt).toMatch(/<h2>Verdicts<\/h2>/); // from summary.json
    expect(rebuilt).toMatch(/<title>msmoe compare: (SMoE|MomentumSMoE)/);
    // msmoe eval reloads model.safetensors and reproduces the run's own evaluation.
    const run = join(study, 'SMoE-s0');
    const before = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
    const ev = msmoe(['eval', run, '--backend', 'wasm']);
    expect(ev.status).toBe(0);
    const after = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
    expect(after.clean.perplexity).toBeCloseTo(before.clean.perplexity, 2);
    expect(after.attacked.perplexity).toBeCloseTo(before.attacked.perplexity, 2);
    // msmoe export writes an ONNX model with the config and vocabulary in its metadata.
    const onnxFile = join(out, 'model.onnx');
    const ex = msmoe(['export', run, '--out', onnxFile]);
    expect(ex.status).toBe(0);
    const meta = readMetadata(new Uint8Array(readFileSync(onnxFile)));
    expect(meta['msmoe.kind']).toBe('lm');
    expect(JSON.parse(meta.vocabulary as string)).toHaveLength(
      JSON.parse(readFileSync(join(run, 'vocab.json'), 'utf8')).tokens.length,
    );
  }, 300_000);

  it('--task mnist-c: ViT-MoE variants with accuracy per MNIST-C corruption and mCE', () => {
    const r = msmoe([
      'compare',
      '--task',
      'mnist-c',
      '--stress-lr',
      'off',
      '--variants',
      'g,m',
      '--seeds',
      '1',
      '--steps',
      '6',
      '--batch-size',
      '16',
      '--out',
      out,
      '--quiet',
      '--set',
      'eval.every=3',
      'eval.blocks=1',
      'data.corruptedLimit=50',
      'data.corruptions=["rotate","fog"]',
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/compare V-MoE vs MomentumV-MoE on mnist-c \(mnist-tiny\)/);
    for (const m of ['clean accuracy', 'accuracy rotate', 'accuracy fog', 'mCE'])
      expect(r.stdout).toContain(m);
    const study = join(/report: (.*)report\.html/.exec(r.stdout)?.[1] as string);
    const e = JSON.parse(readFileSync(join(study, 'MomentumV-MoE-s0', 'eval.json'), 'utf8'));
    expect(Object.keys(e.corruptions)).toEqual(['rotate', 'fog']);
    expect(e.attacked.accuracy).toBeCloseTo(1 - e.meanCorruptedError, 10);
    const vitFile = join(out, 'vit.onnx');
    const ex = msmoe(['export', join(study, 'MomentumV-MoE-s0'), '--out', vitFile]);
    expect(ex.status).toBe(0);
    const meta = readMetadata(new Uint8Array(readFileSync(vitFile)));
    expect(meta['msmoe.kind']).toBe('vit-moe');
    expect(JSON.parse(meta.classes as string)).toHaveLength(10);
  }, 300_000);
});

describe('msmoe tune', () => {
  it('runs trials as run folders on a SQLite study, resumes it, writes study.html; a bad space is one line', () => {
    const space = join(out, 'space.json');
    writeFileSync(
      space,
      JSON.stringify({
        'train.lr': { type: 'float', low: 0.001, high: 0.01, log: true },
        'model.rule.mu': { type: 'float', low: 0.3, high: 0.95 },
      }),
    );
    const db = `sqlite:${join(out, 'study.db')}`;
    const args = [
      'tune',
      '--space',
      space,
      '--rule',
      'm',
      '--trials',
      '3',
      '--workers',
      '2',
      '--steps',
      '8',
      '--storage',
      db,
      '--out',
      out,
      '--quiet',
      ...SMALL,
      'eval.every=4',
    ];
    const r = msmoe(args);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/study tune-sotu-tiny: 3 trials \(3 complete, 0 pruned, 0 fail\)/);
    expect(r.stdout).toMatch(/best: trial \d, value [\d.]+, \{"train\.lr":/);
    const again = msmoe(args);
    expect(again.stdout).toMatch(/study tune-sotu-tiny: 6 trials/);
    const folder = join(out, 'tune-sotu-tiny');
    expect(
      readdirSync(folder)
        .filter((d) => d.startsWith('trial-'))
        .sort(),
    ).toEqual(['trial-0', 'trial-1', 'trial-2', 'trial-3', 'trial-4', 'trial-5']);
    const studyHtml = readFileSync(join(folder, 'study.html'), 'utf8');
    expect(studyHtml).toMatch(/<div class="chart" data-chart="0"[^>]*><svg/);
    expect(studyHtml).toMatch(/<script>/); // ECharts inlined: interactive
    const cfg = JSON.parse(readFileSync(join(folder, 'trial-0', 'config.json'), 'utf8'));
    expect(cfg.model.rule).toMatchObject({ rule: 'heavy-ball', gamma: 1 });
    expect(cfg.model.rule.mu).toBeGreaterThanOrEqual(0.3);
    expect(cfg.modelConfig.rule.mu).toBe(cfg.model.rule.mu); // the sampled μ reaches the model
    writeFileSync(
      space,
      JSON.stringify({ 'train.lrr': { type: 'float', low: 0.001, high: 0.01 } }),
    );
    const bad = msmoe(['tune', '--space', space, '--out', join(out, 'x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^msmoe: config: train\.lrr: unknown field$/);
    writeFileSync(space, JSON.stringify({ 'train.lr': { type: 'float', low: 1, high: 0 } }));
    expect(msmoe(['tune', '--space', space, '--out', join(out, 'x')]).stderr).toMatch(
      /parameter "train\.lr": low \(1\) must be ≤ high \(0\)/,
    );
  }, 300_000);
});

describe('msmoe data and corrupt', () => {
  it('lists and describes datasets, previews images and corruptions', () => {
    const list = msmoe(['data', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^sotu\s+/m);
    // Only what the CLI can train on (CIFAR-10 is read by @msmoe/datasets, not a CLI task).
    expect(list.stdout).not.toMatch(/cifar/i);
    expect(msmoe(['data', 'describe', 'mnist']).stdout).toMatch(/licence:/);
    const bad = msmoe(['data', 'describe', 'imagenet']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /unknown dataset "imagenet"; allowed: sotu, sotu-shift, wikitext-103, mnist/,
    );
    const unknown = msmoe(['corrupt', '--corruption', 'nope']);
    expect(unknown.status).toBe(2);
    const names = /allowed: (.*)$/m.exec(unknown.stderr)?.[1]?.split(', ') ?? [];
    expect(names.length).toBeGreaterThan(20);
    expect(new Set(names).size).toBe(names.length); // each name once
    const png = join(out, 'c.png');
    const c = msmoe(['corrupt', '--corruption', 'fog,rotate', '--out', png]);
    expect(c.status).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    const p = msmoe(['data', 'preview', 'mnist', '--count', '10', '--out', join(out, 'd.png')]);
    expect(p.status).toBe(0);
    expect(existsSync(join(out, 'd.png'))).toBe(true);
    // One digit of each class (the test split starts with zeros: not the first ten images).
    expect(p.stdout).toMatch(/10 mnist test images \(classes 0 1 2 3 4 5 6 7 8 9\)/);
  }, 120_000);
});
