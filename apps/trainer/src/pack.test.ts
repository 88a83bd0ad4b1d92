// The packages as a user installs them (issue 18): `tools/pack-check.ts` builds and packs every
// publishable package, installs the tarballs into a fresh project offline (no workspace links;
// a lockfile with the workspace's locked versions, so only cached tarballs are needed, no registry
// metadata, which a fresh machine's npm cache lacks), and there runs each package README's example,
// `npx msmoe --help` and `npx msmoe train --preset tiny --steps 3`, and checks that exactly one
// copy of tfjs-core is installed and no SQL driver. About 2 minutes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

it('every package packs, installs offline into a fresh project and runs there', () => {
  const json = join(ROOT, 'reports', 'pack-check.json');
  rmSync(json, { force: true });
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'tools/pack-check.ts', '--json', json],
    { cwd: ROOT, encoding: 'utf8', timeout: 900_000 },
  );
  if (!existsSync(json)) throw new Error(`pack-check wrote no report:\n${r.stdout}\n${r.stderr}`);
  const rows = JSON.parse(readFileSync(json, 'utf8')) as [string, string, string][];
  const failed = rows.filter(([, status]) => status !== 'ok');
  expect({ failed, exit: r.status }).toEqual({ failed: [], exit: 0 });
  const names = rows.map(([name]) => name);
  for (const must of [
    'install into a fresh project',
    'one tfjs-core, no SQL driver',
    'npx msmoe --help',
    'npx msmoe train --preset tiny --steps 3',
  ])
    expect(names).toContain(must);
  expect(names.filter((n) => n.startsWith('README example:')).length).toBeGreaterThanOrEqual(11);
}, 900_000);
