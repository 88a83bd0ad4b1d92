import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatDistribution } from './distributions.js';
import { RandomSampler } from './samplers/tpe.js';
import { JournalFileStorage } from './storage/journal.js';
import { openStorage } from './storage/open.js';
import { parsePyJson, pyJson } from './storage/pyjson.js';
import { Study } from './study.js';

const ROOT = join(__dirname, '..', '..', '..');
const WORKER = join(__dirname, 'testing', 'worker.ts');
const PG = process.env.MSMOE_PG_URL;
if (!PG && process.env.CI)
  throw new Error('CI: MSMOE_PG_URL must point at the PostgreSQL that .ci/run starts');
if (!PG)
  console.warn(
    'PostgreSQL tests skipped: set MSMOE_PG_URL (e.g. postgres://msmoe:msmoe@127.0.0.1:5432/msmoe_test)',
  );
/** Debian's python3 with python3-optuna 3.1, when installed. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => {
  try {
    execFileSync(p, ['-c', 'import optuna'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!PYTHON)
  console.warn(
    'Optuna round-trip tests skipped: python3-optuna is not installed (apt-get install python3-optuna)',
  );

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'msmoe-tuner-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function worker(url: string, study: string, trials: number, mode = 'normal'): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@msmoe/source', WORKER, url, study, String(trials), mode],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}
function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  return new Promise((r) => child.on('exit', (code) => r({ code, out, err })));
}

const storages = () => [
  ['journal file', `journal:${join(dir, 'study.log')}`],
  ['SQLite', `sqlite:${join(dir, 'study.db')}`],
  ...(PG ? [['PostgreSQL', PG]] : []),
];
const uniq = () => `s${Date.now()}${Math.random().toString(36).slice(2, 6)}`;

describe.each(['journal file', 'SQLite', 'PostgreSQL'])('%s storage', (kind) => {
  const url = () => storages().find(([k]) => k === kind)?.[1];
  const maybe = (name: string, fn: () => Promise<void>, timeout?: number) =>
    kind === 'PostgreSQL' && !PG ? it.skip(name, fn) : it(name, fn, timeout);

  maybe('a study name or attribute that looks like SQL is stored as data', async () => {
    const name = `${uniq()}'); DROP TABLE trials; --`;
    const s1 = await openStorage(url() as string);
    const study = await Study.create({ name, storage: s1, sampler: new RandomSampler() });
    const t = await study.ask();
    await t.setUserAttr("x'; DELETE FROM studies; --", "'); DROP TABLE studies; --");
    await study.tell(t, 1);
    await s1.close();
    const s2 = await openStorage(url() as string);
    const again = await Study.create({ name, storage: s2, loadIfExists: true });
    const [trial] = await again.trials();
    expect(again.info.name).toBe(name);
    expect(trial?.userAttrs).toEqual({
      "x'; DELETE FROM studies; --": "'); DROP TABLE studies; --",
    });
    await s2.close();
  });

  maybe(
    'keeps trials, params, values, states, intermediate values and attrs across reopen',
    async () => {
      const name = uniq();
      const s1 = await openStorage(url() as string);
      const study = await Study.create({
        name,
        storage: s1,
        sampler: new RandomSampler(),
        direction: 'maximize',
      });
      await study.optimize(
        async (t) => {
          const x = await t.suggestFloat('x', 0, 1);
          const c = await t.suggestCategorical('c', ['a', null, 3]);
          await t.report(x / 2, 1);
          await t.setUserAttr('note', { c });
          if (t.number === 2) return Number.POSITIVE_INFINITY;
          return x;
        },
        { trials: 4 },
      );
      const before = await study.trials();
      await s1.close();
      const s2 = await openStorage(url() as string);
      const again = await Study.create({ name, storage: s2, loadIfExists: true });
      const after = await again.trials();
      expect(after.map(({ datetimeStart: _a, datetimeComplete: _b, ...t }) => t)).toEqual(
        before.map(({ datetimeStart: _a, datetimeComplete: _b, ...t }) => t),
      );
      expect(after[2]?.value).toBe(Number.POSITIVE_INFINITY);
      expect(again.direction).toBe('maximize');
      await expect(Study.create({ name, storage: s2 })).rejects.toThrow('already exists');
      // Every study is listed (what the dashboard shows), this one with its direction.
      await Study.create({ name: `${name}-2`, storage: s2 });
      const listed = (await s2.getAllStudies()).filter((x) => x.name.startsWith(name));
      expect(listed.map((x) => [x.name, x.direction])).toEqual([
        [name, 'maximize'],
        [`${name}-2`, 'minimize'],
      ]);
      await s2.close();
    },
    30_000,
  );

  maybe(
    '2 worker processes complete exactly the requested trials, none lost or duplicated',
    async () => {
      const name = uniq();
      const [a, b] = await Promise.all([
        finished(worker(url() as string, name, 12)),
        finished(worker(url() as string, name, 12)),
      ]);
      expect([a.code, b.code, a.err + b.err]).toEqual([0, 0, '']);
      const s = await openStorage(url() as string);
      const study = await Study.create({ name, storage: s, loadIfExists: true });
      const ts = await study.trials();
      expect(ts.map((t) => t.number).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 24 }, (_, i) => i),
      );
      expect(ts.every((t) => t.state === 'COMPLETE' && 'x' in t.params && 'y' in t.params)).toBe(
        true,
      );
      await s.close();
    },
    120_000,
  );

  maybe(
    'a worker killed mid-trial: its trial is failed after the heartbeat grace, retried, and the study finishes',
    async () => {
      const name = uniq();
      const hung = worker(url() as string, name, 1, 'hang');
      const started = await new Promise<number>((resolve) => {
        hung.stdout?.on('data', (d) => {
          const m = /started (\d+)/.exec(String(d));
          if (m) resolve(Number(m[1]));
        });
      });
      hung.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1500)); // > 2 × heartbeat interval (0.5 s)
      const b = await finished(worker(url() as string, name, 5));
      expect(b.code).toBe(0);
      const s = await openStorage(url() as string);
      const ts = await (await Study.create({ name, storage: s, loadIfExists: true })).trials();
      const failed = ts.find((t) => t.number === started);
      expect(failed?.state).toBe('FAIL');
      // Retried (RetryFailedTrialCallback): a copy with the same parameters ran and completed.
      const retried = ts.find((t) => t.systemAttrs.failed_trial === started);
      expect(retried?.state).toBe('COMPLETE');
      expect(retried?.params.x).toBe(failed?.params.x);
      expect(retried?.systemAttrs.retry_history).toEqual([started]);
      expect(ts.filter((t) => t.state === 'COMPLETE')).toHaveLength(5);
      expect(ts.some((t) => t.state === 'RUNNING')).toBe(false);
      await s.close();
    },
    120_000,
  );
});

describe('optional SQL drivers', () => {
  it('a missing driver is a clear error naming the package to install', async () => {
    const { optionalDriver } = await import('./storage/rdb.js');
    await expect(optionalDriver('no-such-sql-driver-x', 'sqlite:')).rejects.toThrow(
      /sqlite: storages need the optional package no-such-sql-driver-x: npm i no-such-sql-driver-x \(the journal:<file> storage needs nothing\)/,
    );
  });
});

describe('journal format', () => {
  it('writes Python’s NaN/Infinity tokens and float forms, and reads them back', () => {
    const line = pyJson({
      op_code: 6,
      worker_id: 'w',
      trial_id: 0,
      state: 1,
      values: [3],
      intermediate_value: Number.NaN,
    });
    expect(line).toBe(
      '{"op_code":6,"worker_id":"w","trial_id":0,"state":1,"values":[3.0],"intermediate_value":NaN}',
    );
    expect(parsePyJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN"}')).toEqual({
      a: Number.NaN,
      b: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      c: 'NaN',
    });
  });

  it('reads an Optuna 3.1 journal (", " separators, naive times) and tolerates a half-written last line', async () => {
    const path = join(dir, 'optuna.log');
    const lines = [
      '{"op_code": 0, "worker_id": "u-1", "study_name": "s", "directions": [1]}',
      '{"op_code": 4, "worker_id": "u-1", "study_id": 0, "datetime_start": "2026-11-28T10:00:00.000001"}',
      '{"op_code": 5, "worker_id": "u-1", "trial_id": 0, "param_name": "x", "param_value_internal": 0.25, "distribution": "{\\"name\\": \\"FloatDistribution\\", \\"attributes\\": {\\"step\\": null, \\"low\\": 0.0, \\"high\\": 1.0, \\"log\\": false}}"}',
      '{"op_code": 7, "worker_id": "u-1", "trial_id": 0, "step": 0, "intermediate_value": NaN}',
      '{"op_code": 6, "worker_id": "u-1", "trial_id": 0, "state": 1, "values": [0.5], "datetime_complete": "2026-11-28T10:00:01.000000"}',
      '{"op_code": 4, "worker_id": "u-1", "study_id": 0, "datetime_start": null, "state": 4, "value": null, "distributions": {}, "params": {}, "user_attrs": {}, "system_attrs": {}, "intermediate_values": {}}',
      '{"op_code": 6, "worker_id": "u-1", "trial_',
    ];
    writeFileSync(path, lines.join('\n'));
    const s = new JournalFileStorage(path);
    const study = await Study.create({ name: 's', storage: s, loadIfExists: true });
    const ts = await study.trials();
    expect(ts.map((t) => [t.number, t.state, t.value])).toEqual([
      [0, 'COMPLETE', 0.5],
      [1, 'WAITING', null],
    ]);
    expect(Number.isNaN(ts[0]?.intermediate[0])).toBe(true);
    expect(Study.paramsOf(ts[0] as never)).toEqual({ x: 0.25 });
  });

  it('a trial enqueued by Optuna (WAITING, system_attrs.fixed_params) is claimed by ask() and keeps its values', async () => {
    const path = join(dir, 'enqueued.log');
    writeFileSync(
      path,
      [
        '{"op_code": 0, "worker_id": "u-1", "study_name": "e", "directions": [1]}',
        '{"op_code": 4, "worker_id": "u-1", "study_id": 0, "datetime_start": null, "state": 4, "value": null, "distributions": {}, "params": {}, "user_attrs": {}, "system_attrs": {"fixed_params": {"x": 0.25, "act": "gelu", "n": 3}}, "intermediate_values": {}}',
        '',
      ].join('\n'),
    );
    const study = await Study.create({
      name: 'e',
      storage: new JournalFileStorage(path),
      sampler: new RandomSampler(),
      loadIfExists: true,
    });
    const t = await study.ask();
    expect(t.number).toBe(0);
    expect(await t.suggestFloat('x', 0, 1)).toBe(0.25);
    expect(await t.suggestCategorical('act', ['relu', 'gelu'])).toBe('gelu');
    expect(await t.suggestInt('n', 1, 8)).toBe(3);
    // A parameter the enqueue did not fix is sampled as usual.
    const y = await t.suggestFloat('y', 0, 1);
    expect(y).toBeGreaterThanOrEqual(0);
    await study.tell(t, 1);
    const [done] = await study.trials();
    expect(Study.paramsOf(done as never)).toMatchObject({ x: 0.25, act: 'gelu', n: 3 });
  });

  it('a record torn at any byte (a crash mid-write) is ignored: the study opens and continues', async () => {
    const path = join(dir, 'torn.log');
    const study = await Study.create({
      name: 't',
      storage: new JournalFileStorage(path),
      sampler: new RandomSampler(),
    });
    await study.optimize(async (t) => t.suggestFloat('x', 0, 1), { trials: 2 });
    const whole = readFileSync(path, 'utf8');
    const lines = whole.trimEnd().split('\n');
    const head = `${lines.slice(0, -1).join('\n')}\n`;
    const last = lines.at(-1) as string;
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      for (let k = 0; k <= last.length; k++) {
        writeFileSync(path, head + last.slice(0, k));
        const s = new JournalFileStorage(path);
        const again = await Study.create({ name: 't', storage: s, loadIfExists: true });
        const before = await again.trials();
        // The torn record (the last trial's completion) is not applied: no newline, not written.
        expect(before).toHaveLength(2);
        expect(before[1]?.state).toBe('RUNNING');
        // It continues: a new trial is appended on a fresh line (which ends the torn record: a
        // whole one then counts, a fragment is skipped) and reads back from a new process.
        const t = await again.ask();
        await again.tell(t.number, 0.5);
        expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
        const reread = await (
          await Study.create({
            name: 't',
            storage: new JournalFileStorage(path),
            loadIfExists: true,
          })
        ).trials();
        expect(reread.map((x) => x.state)).toEqual([
          'COMPLETE',
          k === last.length ? 'COMPLETE' : 'RUNNING',
          'COMPLETE',
        ]);
      }
    } finally {
      warn.mockRestore();
    }
  });

  (PYTHON ? it : it.skip)(
    'Optuna 3.1 loads a journal we wrote, and we load one Optuna wrote',
    async () => {
      const path = join(dir, 'ours.log');
      const study = await Study.create({
        name: 'ours',
        storage: new JournalFileStorage(path),
        sampler: new RandomSampler(),
      });
      await study.enqueue({ lr: 0.01 }, { lr: floatDistribution('lr', 1e-4, 1, { log: true }) });
      await study.optimize(
        async (t) => {
          const lr = await t.suggestFloat('lr', 1e-4, 1, { log: true });
          const n = await t.suggestInt('n', 1, 8);
          const c = await t.suggestCategorical('c', ['relu', 'gelu']);
          await t.report(lr * n, 0);
          if (t.number === 3) throw new Error('boom');
          return lr * n + (c === 'gelu' ? 1 : 0);
        },
        { trials: 5 },
      );
      const script = `
import json, sys, optuna
from optuna.storages import JournalStorage, JournalFileStorage
optuna.logging.set_verbosity(optuna.logging.ERROR)
st = JournalStorage(JournalFileStorage(sys.argv[1]))
s = optuna.load_study(study_name="ours", storage=st)
print(json.dumps([[t.number, t.state.name, t.value, t.params, {str(k): v for k, v in t.intermediate_values.items()}] for t in s.trials]))
s2 = optuna.create_study(study_name="theirs", storage=JournalStorage(JournalFileStorage(sys.argv[2])), direction="maximize")
s2.optimize(lambda t: t.suggest_float("x", -1, 1) + t.suggest_int("k", 0, 3), n_trials=4)
`;
      const out = execFileSync(PYTHON as string, ['-c', script, path, join(dir, 'theirs.log')], {
        encoding: 'utf8',
      });
      const theirs = JSON.parse(out) as [
        number,
        string,
        number | null,
        Record<string, unknown>,
        Record<string, number>,
      ][];
      const ours = await study.trials();
      expect(theirs.map((t) => [t[0], t[1]])).toEqual(ours.map((t) => [t.number, t.state]));
      ours.forEach((t, i) => {
        expect(theirs[i]?.[2] ?? null).toEqual(t.value);
        expect(theirs[i]?.[3]).toEqual(Study.paramsOf(t));
        expect(theirs[i]?.[4]).toEqual({ '0': t.intermediate[0] });
      });
      const back = await Study.create({
        name: 'theirs',
        storage: new JournalFileStorage(join(dir, 'theirs.log')),
        loadIfExists: true,
      });
      const bt = await back.trials();
      expect(back.direction).toBe('maximize');
      expect(bt).toHaveLength(4);
      expect(
        bt.every((t) => t.state === 'COMPLETE' && typeof Study.paramsOf(t).k === 'number'),
      ).toBe(true);
      expect(existsSync(`${path}.lock`)).toBe(false);
      expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    },
    60_000,
  );
});

describe('openStorage', () => {
  it('names the allowed forms of a bad URL', async () => {
    await expect(openStorage('mysql://x')).rejects.toThrow(
      /unknown; allowed: memory, journal:<file>.*sqlite:<file>, postgres:/,
    );
  });
});
