// Root Jest config: one run over every package and app (what `npm test` and CI use). Each project
// also has its own jest.config.cjs, from which Nx infers a per-project `test` target.
const fs = require('node:fs');
const path = require('node:path');

const projects = ['packages', 'apps'].flatMap((group) => {
  const dir = path.join(__dirname, group);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => path.join(dir, name, 'jest.config.cjs'))
    .filter((file) => fs.existsSync(file));
});

module.exports = { projects };
