// Fault injection: a training run killed with SIGKILL at 20 seeded random moments (during startup,
// training, evaluation and checkpoint writes, which happen every step here) and resumed each time
// ends with the weights of an uninterrupted run, bit for bit, and leaves no temp file behind.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@msmoe/core';
import { loggedSteps, NODE_ARGS, ROOT, SMALL } from './testing/cli.js';

const out = mkdtempSync(join(tmpdir(), 'msmoe-faults-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const RUN = [
  '--steps',
  '150',
  '--backend',
  'cpu',
  '--quiet',
  ...SMALL,
  'eval.every=10',
  'train.checkpointEvery=1',
  'train.keepCheckpoints=2',
];

/** Every file under a folder (relative paths). */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

describe('fault injection', () => {
  it('killed (SIGKILL) at 20 random moments and resumed each time: the weights of an uninterrupted run, no orphans', async () => {
    const ref = spawnSync(
      process.execPath,
      [...NODE_ARGS, 'train', ...RUN, '--out', join(out, 'ref')],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(ref.status).toBe(0);
    const refRun = join(out, 'ref', 'SMoE-s0');
    const runDir = join(out, 'faulty', 'SMoE-s0');
    const rng = new Rng(2026);
    const kills: { after: number | string; step: number }[] = [];
    for (let k = 0; k < 20; k++) {
      const args = existsSync(join(runDir, 'config.json'))
        ? ['train', '--resume', runDir, '--backend', 'cpu', '--quiet']
        : ['train', ...RUN, '--out', join(out, 'faulty')];
      const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, ...args], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      // The moment: every fifth kill lands at a random time in startup; the others a few steps
      // (0–7) into training plus a random 0–60 ms, which with a checkpoint every step often falls
      // inside a checkpoint write.
      const logged = () => loggedSteps(runDir);
      const startup = k % 5 === 0;
      const target = logged() + rng.int(8) + 1;
      const jitter = rng.int(60);
      const after = startup ? 300 + rng.int(2500) : jitter;
      const t0 = Date.now();
      let done = false;
      const exit = new Promise((r) =>
        child.on('exit', () => {
          done = true;
          r(null);
        }),
      );
      if (startup) await new Promise((r) => setTimeout(r, after));
      else {
        while (!done && logged() < target && Date.now() - t0 < 60_000)
          await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, jitter));
      }
      const exited = done;
      if (exited) break; // finished before its kill
      child.kill('SIGKILL');
      await exit;
      const steps = loggedSteps(runDir);
      kills.push({ after: startup ? `${after} ms` : `step ${target}+${jitter} ms`, step: steps });
    }
    console.log(
      `kills (moment → steps logged): ${kills.map((k) => `${k.after}→${k.step}`).join(', ')}`,
    );
    expect(kills).toHaveLength(20);
    // Finish it.
    if (!existsSync(join(runDir, 'eval.json'))) {
      const last = spawnSync(
        process.execPath,
        [...NODE_ARGS, 'train', '--resume', runDir, '--backend', 'cpu', '--quiet'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(last.status).toBe(0);
    }
    expect(
      readFileSync(join(runDir, 'model.safetensors')).equals(
        readFileSync(join(refRun, 'model.safetensors')),
      ),
    ).toBe(true);
    // Every step logged once, in order.
    const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"step"'))
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    // No temp file of an interrupted write is left anywhere in the run folder.
    expect(files(runDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 900_000);
});
