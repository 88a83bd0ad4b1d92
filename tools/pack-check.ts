// `npm run check:pack`: the packages as a user installs them. Builds, packs every publishable
// package, installs the tarballs into a fresh project with no workspace links, offline (the
// tarballs and the npm cache that `npm ci` filled), then checks the tarballs'
// contents, one copy of tfjs-core, no SQL driver unless asked for, each package README's example,
// `npx msmoe --help` and `npx msmoe train --preset tiny --steps 3`. Prints a table; exit 1 on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const PUBLISHED = [
  ...readdirSync(join(ROOT, 'packages')).map((n) => join('packages', n)),
  join('apps', 'trainer'),
];
const work = mkdtempSync(join(tmpdir(), 'msmoe-pack-'));
const results: [string, string, string][] = [];
let failed = 0;

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).slice(-1500)}`,
    );
  return r.stdout;
}
let setupFailed = false;
/** Runs one check; after a failed setup step (build, pack, install) the rest are skipped. */
function check(name: string, fn: () => string, setup = false): void {
  if (setupFailed) {
    results.push([name, 'skipped', '']);
    return;
  }
  const t0 = performance.now();
  try {
    const note = fn();
    results.push([name, 'ok', `${((performance.now() - t0) / 1000).toFixed(1)} s ${note}`]);
  } catch (err) {
    failed += 1;
    if (setup) setupFailed = true;
    results.push([name, 'FAILED', (err as Error).message.split('\n').slice(0, 3).join(' ')]);
  }
}

try {
  const packs = join(work, 'tarballs');
  const project = join(work, 'project');
  let tarballs: string[] = [];
  check(
    'build (tsc -b) and npm pack',
    () => {
      run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], ROOT);
      mkdirSync(packs, { recursive: true });
      for (const dir of PUBLISHED)
        run('npm', ['pack', '--silent', '--pack-destination', packs], join(ROOT, dir));
      tarballs = readdirSync(packs).map((f) => join(packs, f));
      const kb = tarballs.map(
        (t) =>
          `${t
            .split('/')
            .at(-1)
            ?.replace(/^msmoe-|-0\.1\.0\.tgz$/g, '')} ${(statSync(t).size / 1024).toFixed(0)} kB`,
      );
      return kb.join(', ');
    },
    true,
  );
  check(
    'tarball contents',
    () => {
      for (const t of tarballs) {
        const files = execFileSync('tar', ['-tzf', t], { encoding: 'utf8' }).split('\n');
        for (const must of ['package/LICENSE', 'package/README.md'])
          if (!files.includes(must)) throw new Error(`${t}: no ${must}`);
        const bad = files.filter((f) => /tsbuildinfo|\.test\.|\/testing\//.test(f));
        if (bad.length) throw new Error(`${t}: ships ${bad.slice(0, 3).join(', ')}`);
        const pkg = JSON.parse(
          execFileSync('tar', ['-xzOf', t, 'package/package.json'], { encoding: 'utf8' }),
        );
        if (pkg.private || pkg.publishConfig?.access !== 'public')
          throw new Error(`${t}: not publishable`);
        if (pkg.dependencies?.['@tensorflow/tfjs'])
          throw new Error(`${t}: tfjs is a dependency, not a peer`);
      }
      return `${tarballs.length} tarballs`;
    },
    true,
  );
  check(
    'install into a fresh project',
    () => {
      mkdirSync(project, { recursive: true });
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({ name: 'user-project', private: true, type: 'module' }),
      );
      // Offline: the tarballs, and every dependency from the npm cache `npm ci` filled. The ONNX
      // README example runs its model in onnxruntime-web, which a user installs to do so.
      run(
        'npm',
        [
          'install',
          '--offline',
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
          ...tarballs,
          'onnxruntime-web@1.30.0',
        ],
        project,
      );
      return execFileSync('du', ['-sh', join(project, 'node_modules')], { encoding: 'utf8' }).split(
        '\t',
      )[0] as string;
    },
    true,
  );
  check('one tfjs-core, no SQL driver', () => {
    const copies = new Set(
      run('npm', ['ls', '@tensorflow/tfjs-core', '--all', '--parseable'], project)
        .trim()
        .split('\n'),
    );
    if (copies.size !== 1)
      throw new Error(`${copies.size} copies of tfjs-core: ${[...copies].join(', ')}`);
    if (/better-sqlite3|libsql|\/pg$/m.test(run('npm', ['ls', '--all', '--parseable'], project)))
      throw new Error('an SQL driver was installed');
    return '1 copy';
  });
  for (const dir of PUBLISHED.filter((d) => d.startsWith('packages')))
    check(`README example: ${dir}`, () => {
      const code = /```ts\n([\s\S]*?)```/.exec(
        readFileSync(join(ROOT, dir, 'README.md'), 'utf8'),
      )?.[1];
      if (!code) throw new Error('no ```ts block');
      const file = join(project, `example-${dir.replace(/\W/g, '-')}.mts`);
      writeFileSync(file, code);
      run(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file], project);
      return '';
    });
  check('npx msmoe --help', () => {
    if (!/Usage: msmoe/.test(run('npx', ['--offline', 'msmoe', '--help'], project)))
      throw new Error('no usage');
    return '';
  });
  check('npx msmoe train --preset tiny --steps 3', () => {
    const out = run(
      'npx',
      [
        '--offline',
        'msmoe',
        'train',
        '--preset',
        'tiny',
        '--steps',
        '3',
        '--quiet',
        '--out',
        'runs',
      ],
      project,
    );
    const m = /run .*: 3 steps, final loss (\S+)/.exec(out);
    if (!m) throw new Error(out.slice(-500));
    return `final loss ${m[1]}`;
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
const w = Math.max(...results.map((r) => r[0].length));
for (const [name, status, note] of results)
  console.log(`${name.padEnd(w)}  ${status.padEnd(6)}  ${note}`);
// `--json <file>` (the test writes under reports/); default bench/results/pack-check.json.
const at = process.argv.indexOf('--json');
const jsonFile =
  at > 0 ? (process.argv[at + 1] as string) : join(ROOT, 'bench', 'results', 'pack-check.json');
mkdirSync(dirname(jsonFile), { recursive: true });
writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
process.exit(failed ? 1 : 0);
