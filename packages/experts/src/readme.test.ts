import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example runs and trains', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout).toMatch(/^loss \d+\.\d+ -> \d+\.\d+$/m);
  expect(res.stdout).toMatch(/^tokens per expert( \d+){8}$/m);
  expect(res.stdout).toContain('weights w1, b1, w2, b2');
});
