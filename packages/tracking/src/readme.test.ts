import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example writes runs and renders a report', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  const p = res.stdout.match(/^Welch p = ([\d.]+)$/m);
  expect(Number(p?.[1])).toBeLessThan(0.05);
  expect(res.stdout).toMatch(/^report: \d{4,} bytes of HTML$/m);
}, 60_000);
