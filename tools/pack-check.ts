// `npm run check:pack`: the packages as a user installs them. Builds, packs every publishable
// package, installs the tarballs into a fresh project with no workspace links, offline (`npm ci`
// over a lockfile made from the workspace's, see `userProject`), then checks the tarballs'
// contents, one copy of tfjs-core, no SQL driver unless asked for, each package README's example,
// `npx msmoe --help` and `npx msmoe train --preset tiny --steps 3`. Prints a table; exit 1 on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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
import { dirname, join, relative } from 'node:path';

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
type LockEntry = Record<string, unknown> & {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

/**
 * A user's project that depends on the tarballs (and `extra` registry packages), with a lockfile:
 * the tarballs by path and integrity, every other package at the version, integrity and place in
 * the tree that the workspace's package-lock.json gives it. So `npm ci --offline` needs only the
 * package tarballs, which the workspace's `npm ci` put in the npm cache, and no registry metadata
 * (which `npm ci` does not cache: without a lockfile a fresh machine's offline install fails).
 */
function userProject(tarballs: string[], project: string, extra: Record<string, string>) {
  const root = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<
    string,
    LockEntry
  >;
  const packages: Record<string, LockEntry> = {};
  const dependencies: Record<string, string> = { ...extra };
  // Where each workspace package's own nested dependencies sit in the workspace's tree.
  const workspaceOf: Record<string, string> = {};
  for (const t of tarballs) {
    const pkg = JSON.parse(
      execFileSync('tar', ['-xzOf', t, 'package/package.json'], { encoding: 'utf8' }),
    );
    const spec = `file:${relative(project, t)}`;
    dependencies[pkg.name] = spec;
    packages[`node_modules/${pkg.name}`] = {
      version: pkg.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(t)).digest('base64')}`,
      dependencies: pkg.dependencies,
      peerDependencies: pkg.peerDependencies,
      peerDependenciesMeta: pkg.peerDependenciesMeta,
      bin: pkg.bin,
    };
    const ws = Object.keys(root).find(
      (k) => !k.startsWith('node_modules/') && root[k]?.name === pkg.name,
    );
    if (ws) workspaceOf[`node_modules/${pkg.name}`] = ws;
  }
  // Node's resolution over the workspace's tree (a tarball package's place there is its folder):
  // the nearest node_modules/<dep> up from `from`; returns its path there and in the user's tree.
  const resolve = (from: string, dep: string): [string, string] | undefined => {
    const ws = Object.entries(workspaceOf).find(([u]) => from === u || from.startsWith(`${u}/`));
    const toUser = (path: string) =>
      ws && path.startsWith(`${ws[1]}/`) ? ws[0] + path.slice(ws[1].length) : path;
    let at = ws ? ws[1] + from.slice(ws[0].length) : from;
    for (;;) {
      const path = at ? `${at}/node_modules/${dep}` : `node_modules/${dep}`;
      if (root[path] && !root[path]?.link) return [path, toUser(path)];
      if (!at) return undefined;
      const up = at.lastIndexOf('/node_modules/');
      at = up < 0 ? '' : at.slice(0, up);
    }
  };
  const queue: [string, LockEntry][] = [['', { dependencies: extra }], ...Object.entries(packages)];
  while (queue.length > 0) {
    const [from, entry] = queue.shift() as [string, LockEntry];
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (n) => !entry.peerDependenciesMeta?.[n]?.optional,
    );
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...peers,
    ];
    for (const dep of wanted) {
      if (dependencies[dep]?.startsWith('file:')) continue; // one of the tarballs
      const found = resolve(from, dep);
      if (!found) {
        if (entry.optionalDependencies?.[dep]) continue;
        throw new Error(
          `${from || 'the project'} needs ${dep}, which the workspace lockfile lacks`,
        );
      }
      const [source, target] = found;
      if (packages[target]) continue;
      const { dev, devOptional, peer, ...copy } = root[source] as LockEntry;
      packages[target] = copy;
      queue.push([target, copy]);
    }
  }
  const manifest = { name: 'user-project', private: true, type: 'module', dependencies };
  const lockfile = {
    name: 'user-project',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'user-project', dependencies }, ...packages },
  };
  return { manifest, lockfile };
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
      // The ONNX README example runs its model in onnxruntime-web, which a user installs to do so.
      const { manifest, lockfile } = userProject(tarballs, project, {
        'onnxruntime-web': '1.30.0',
      });
      writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
      writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lockfile, null, 2));
      run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
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
