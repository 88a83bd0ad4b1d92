// Shared Jest settings for every package: TypeScript through @swc/jest (no type-check at test
// time: `npm run lint` type-checks), ESM-style `.js` import suffixes mapped back to the `.ts`
// sources, and `@msmoe/<name>` resolved to the sibling package's sources so tests never need a
// prior build.
const path = require('node:path');

const root = __dirname;

/** @param {string} displayName @param {string} dir */
module.exports = function jestPreset(displayName, dir) {
  return {
    displayName,
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts'],
    // ESM-only dependencies (fast-png and its iobuffer) are compiled to CommonJS like our sources.
    transformIgnorePatterns: ['/node_modules/(?!(fast-png|iobuffer)/)'],
    transform: {
      '^.+\\.(ts|js)$': [
        require.resolve('@swc/jest'),
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'commonjs' },
          sourceMaps: 'inline',
        },
      ],
    },
    moduleNameMapper: {
      '^@msmoe/([a-z-]+)$': path.join(root, 'packages/$1/src/index.ts'),
      '^@msmoe/([a-z-]+)/([a-z-]+)$': path.join(root, 'packages/$1/src/$2.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
      // ECharts' one-file ES module build (what the sources import) as its CommonJS build: the
      // same library for tests compiled to CommonJS.
      '^echarts/dist/echarts\\.esm\\.min$': 'echarts',
    },
    testTimeout: 120000,
  };
};
