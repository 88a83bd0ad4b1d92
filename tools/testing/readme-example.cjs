// Runs the first ```ts block of a package README as a real program (through tsx, resolving
// @msmoe/* to their sources), so README examples cannot silently rot.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');

/**
 * @param {string} packageDir absolute path of the package folder holding README.md
 * @returns {{ status: number | null, stdout: string, stderr: string }}
 */
function runReadmeExample(packageDir) {
  const readme = fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  const match = readme.match(/```ts\n([\s\S]*?)```/);
  if (!match) throw new Error(`${packageDir}/README.md has no \`\`\`ts example block`);
  const file = path.join(packageDir, `.readme-example-${process.pid}.mts`);
  fs.writeFileSync(file, match[1]);
  try {
    const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const res = spawnSync(process.execPath, [tsx, '--conditions=@msmoe/source', file], {
      cwd: packageDir,
      encoding: 'utf8',
      env: { ...process.env, MSMOE_BACKEND: '' },
      timeout: 120000,
    });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

module.exports = { runReadmeExample };
