import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example runs', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout.split('\n')[0]).toMatch(/AAA/);
  for (const name of ['gaussian_noise', 'fog', 'jpeg_compression']) {
    const m = res.stdout.match(
      new RegExp(`^${name}: PSNR ([\\d.]+) / ([\\d.]+) / ([\\d.]+) dB`, 'm'),
    );
    expect(m).not.toBeNull();
    expect(Number(m![3])).toBeLessThan(Number(m![1]));
  }
  expect(res.stdout).toContain('contrast s5 block: 100 images');
  expect(res.stdout).toContain('CE(contrast) vs my-baseline: 0.527');
});
