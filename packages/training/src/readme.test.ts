import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example trains the toy LM and its perplexity falls', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout.match(/^step \d+: expert load \[/gm)).toHaveLength(3);
  const m = res.stdout.match(/^perplexity ([\d.]+) → ([\d.]+) after 60 updates$/m);
  expect(m).not.toBeNull();
  expect(Number(m![2])).toBeLessThan(Number(m![1]) / 2);
}, 60_000);
