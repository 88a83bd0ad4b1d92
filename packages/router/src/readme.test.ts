import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example runs', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout).toMatch(/^capacity \d+ dropped \d+$/m);
  expect(res.stdout).toMatch(/^tokens per expert( \d+){8}$/m);
  expect(res.stdout).toMatch(/"importance":[\d.e-]+,"load":[\d.e-]+/);
  expect(res.stdout).toContain('routing change 0');
});
