// Keeps the publishing fields of every package.json the same (run after adding a package):
// repository, homepage, bugs, keywords, publishConfig, files (dist without build info or tests,
// the sources the source maps point into, README, LICENSE).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const REPO = 'https://github.com/msmoe/msmoe';
const dirs = ['packages', 'apps'].flatMap((g) => readdirSync(join(root, g)).map((n) => join(g, n)));
for (const dir of dirs) {
  const file = join(root, dir, 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  if (dir === 'apps/demo') continue; // a web app, never published
  pkg.repository = { type: 'git', url: `git+${REPO}.git`, directory: dir };
  pkg.homepage = `${REPO}/tree/main/${dir}#readme`;
  pkg.bugs = { url: `${REPO}/issues` };
  pkg.keywords = [
    ...new Set(['mixture-of-experts', 'moe', 'momentum', 'tensorflowjs', ...(pkg.keywords ?? [])]),
  ];
  pkg.publishConfig = { access: 'public' };
  // The repository's LICENSE goes into each tarball (npm packs a package folder's own LICENSE).
  pkg.scripts = {
    ...(pkg.scripts ?? {}),
    prepack: "node -e \"require('node:fs').copyFileSync('../../LICENSE', 'LICENSE')\"",
  };
  if (dir === 'apps/trainer') delete pkg.private;
  pkg.files = [
    'dist',
    '!dist/**/*.tsbuildinfo',
    '!dist/**/*.test.*',
    '!dist/**/testing',
    'src',
    '!src/**/*.test.ts',
    '!src/**/testing',
    'README.md',
    'LICENSE',
  ];
  writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
}
console.log(`updated ${dirs.length - 1} package.json files`);
