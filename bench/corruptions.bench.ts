// npm run bench:corruptions — time per 1,000 images of every corruption (severity 3) at 28 px
// (MNIST digits, gray) and 224 px (RGB, ImageNet-C size). Measured on a sample and scaled.
import { CORRUPTIONS, corrupt, type Image } from '@msmoe/corruptions';
import { imageAt, loadMnist } from '@msmoe/datasets';
import { printTable, writeResults } from './lib/harness.js';

const quick = process.argv.includes('--quick');
const mnist = await loadMnist();
const digits: Image[] = Array.from({ length: quick ? 10 : 50 }, (_, i) => ({
  data: imageAt(mnist.test, i),
  height: 28,
  width: 28,
  channels: 1,
}));
const photo = (seed: number): Image => {
  const data = new Float32Array(224 * 224 * 3);
  for (let y = 0; y < 224; y++)
    for (let x = 0; x < 224; x++)
      for (let c = 0; c < 3; c++)
        data[(y * 224 + x) * 3 + c] =
          128 + 100 * Math.sin((x + 13 * c + seed) / 9) * Math.cos((y - 7 * c) / 11);
  return { data, height: 224, width: 224, channels: 3 };
};
const large = Array.from({ length: quick ? 2 : 5 }, (_, i) => photo(i));

const cases: { corruption: string; size: number; msPer1000: number }[] = [];
for (const name of CORRUPTIONS) {
  for (const [size, images] of [
    [28, digits],
    [224, large],
  ] as const) {
    corrupt(images[0]!, name, 3); // warm-up
    const t0 = performance.now();
    images.forEach((img, index) => {
      corrupt(img, name, 3, { index });
    });
    cases.push({
      corruption: name,
      size,
      msPer1000: ((performance.now() - t0) / images.length) * 1000,
    });
  }
}
printTable('corruption time per 1,000 images (severity 3)', cases, [
  'corruption',
  'size',
  'msPer1000',
]);
writeResults('corruptions', { cases });
