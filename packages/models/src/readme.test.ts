import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example runs', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout).toMatch(/^tiny MomentumSMoE LM: \d+ parameters$/m);
  expect(res.stdout.match(/^block \d: nll \d+\.\d+/gm)).toHaveLength(3);
});
