import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example finds Branin’s minimum', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  const m = res.stdout.match(/^best value ([\d.]+) with \{.*"kind":"plain"\}$/m);
  expect(m).not.toBeNull();
  expect(Number(m![1])).toBeLessThan(0.6);
}, 60_000);
