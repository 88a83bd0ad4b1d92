// npm run preview:corruptions — the grids shown in packages/corruptions/README.md: all 19
// corruptions × (clean, severities 1–5) on an MNIST digit and on a real photograph resized as
// ImageNet-C does (shorter side 256, centre crop 224).
import { createRequire } from 'node:module';
import { type Image, preview, resizeBilinearAligned } from '@msmoe/corruptions';
import { imageAt, loadMnist } from '@msmoe/datasets';
import jpeg from 'jpeg-js';

const require = createRequire(import.meta.url);

function photo(): Image {
  const bytes = (require('@stdlib/datasets-img-acanthus-mollis') as () => Uint8Array)();
  const raw = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  const { width: W0, height: H0 } = raw;
  const s = 256 / Math.min(W0, H0);
  const H1 = Math.round(H0 * s);
  const W1 = Math.round(W0 * s);
  const planes = [0, 1, 2].map((c) =>
    resizeBilinearAligned(
      Float64Array.from({ length: H0 * W0 }, (_, i) => raw.data[i * 3 + c] as number),
      H0,
      W0,
      H1,
      W1,
    ),
  );
  const top = Math.floor((H1 - 224) / 2);
  const left = Math.floor((W1 - 224) / 2);
  const data = new Float32Array(224 * 224 * 3);
  for (let y = 0; y < 224; y++)
    for (let x = 0; x < 224; x++)
      for (let c = 0; c < 3; c++)
        data[(y * 224 + x) * 3 + c] = planes[c]![(top + y) * W1 + left + x]!;
  return { data, height: 224, width: 224, channels: 3 };
}

const mnist = await loadMnist();
await preview(
  { data: imageAt(mnist.test, 0), height: 28, width: 28, channels: 1 },
  'docs/images/corruptions-mnist.png',
  { scale: 3, seed: 1 },
);
console.log('wrote docs/images/corruptions-mnist.png');
await preview(photo(), 'docs/images/corruptions-photo.png', { seed: 1, scale: 0.5 });
console.log('wrote docs/images/corruptions-photo.png');
