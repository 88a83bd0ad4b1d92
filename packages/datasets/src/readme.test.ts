import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example runs', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout).toMatch(/^sotu: State of the Union/m);
  expect(res.stdout).toMatch(/^lines \d+\/\d+\/\d+, vocabulary \d+, train tokens \d+$/m);
  expect(res.stdout).toMatch(/^first block: Fellow-Citizens of the Senate/m);
  expect(res.stdout).toContain('mnist train 8500, test 1500, 28x28x1');
});
