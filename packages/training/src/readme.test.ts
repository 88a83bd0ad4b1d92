import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example runs and converges near w = 1', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  const m = res.stdout.match(/^w = (-?[\d.]+), (-?[\d.]+) after 200 steps$/m);
  expect(m).not.toBeNull();
  expect(Math.abs(Number(m![1]) - 1)).toBeLessThan(0.1);
  expect(Math.abs(Number(m![2]) - 1)).toBeLessThan(0.1);
});
