/**
 * The MNIST test digits bundled with apps/demo (`apps/demo/public/data/mnist-test.json`): a
 * seeded class-stratified sample (the test split starts with zeros), ordered so that browsing
 * shows 0, 1, 2, … 9, then the next digit of each class. `tsx tools/demo-digits.ts` rewrites the
 * file on its own; `npm run demo:models` writes it with the models.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ImageSet, loadMnist, stratifiedIndices } from '@msmoe/datasets';

/** `n` digits of a 28×28 test set: labels and 0..255 pixels, classes in turn. */
export function demoDigits(test: ImageSet, n = 64): { labels: number[]; images: number[][] } {
  const label = (i: number) => test.labels[i] as number;
  const picked = stratifiedIndices(test.labels, n, 0).sort((a, b) => a - b);
  const rank = new Map<number, number>();
  const seen = new Map<number, number>();
  for (const i of picked) {
    const r = seen.get(label(i)) ?? 0;
    rank.set(i, r);
    seen.set(label(i), r + 1);
  }
  picked.sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number) || label(a) - label(b));
  const size = test.height * test.width * test.channels;
  return {
    labels: picked.map(label),
    images: picked.map((i) =>
      Array.from(test.images.subarray(i * size, (i + 1) * size), Math.round),
    ),
  };
}

/** Writes the demo's digits file under `out` (the demo's public folder). */
export function writeDemoDigits(test: ImageSet, out: string, n = 64): void {
  writeFileSync(join(out, 'data', 'mnist-test.json'), JSON.stringify(demoDigits(test, n)));
  console.log(`data/mnist-test.json: ${n} digits`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  writeDemoDigits((await loadMnist()).test, join('apps', 'demo', 'public'));
