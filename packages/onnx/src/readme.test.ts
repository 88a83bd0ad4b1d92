import path from 'node:path';

const { runReadmeExample } = require('../../../tools/testing/readme-example.cjs') as {
  runReadmeExample: (dir: string) => { status: number | null; stdout: string; stderr: string };
};

it('the README example exports a model and onnxruntime-web agrees with tfjs', () => {
  const res = runReadmeExample(path.join(__dirname, '..'));
  if (res.status !== 0) throw new Error(`README example failed:\n${res.stderr}`);
  expect(res.stdout).toMatch(/^exported [\d.]+ MB, kind lm$/m);
  const m = res.stdout.match(/^max \|onnx − tfjs\| = ([\d.e+-]+)$/m);
  expect(Number(m?.[1])).toBeLessThanOrEqual(1e-4);
}, 60_000);
