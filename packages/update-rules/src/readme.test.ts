import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example runs: residual diverges, heavy-ball converges, μ is learned', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout).toMatch(/^m heavy-ball: MomentumSMoE$/m);
  expect(res.stdout).toMatch(/^- sam: SAM-MomentumSMoE$/m);
  const residual = Number(res.stdout.match(/^residual: \|x_50\| = (\S+)$/m)?.[1]);
  const heavy = Number(res.stdout.match(/^heavy-ball: \|x_50\| = (\S+)$/m)?.[1]);
  expect(residual).toBeGreaterThan(1e6);
  expect(heavy).toBeLessThan(1e-2);
  const mu = Number(res.stdout.match(/^learned mu = (\S+)$/m)?.[1]);
  expect(mu).toBeGreaterThan(0);
  expect(mu).toBeLessThan(1);
  expect(mu).not.toBeCloseTo(0.7, 3);
});
