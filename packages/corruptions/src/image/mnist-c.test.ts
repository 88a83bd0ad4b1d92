import { imageAt, loadMnist } from '@msmoe/datasets';
import { CorruptionError, type Image, psnr } from './image.js';
import { corruptMnistC, MNIST_C_CORRUPTIONS, mnistCSet } from './mnist-c.js';

let digit: Image;
beforeAll(async () => {
  const m = await loadMnist();
  digit = { data: imageAt(m.test, 3), height: 28, width: 28, channels: 1 };
});

const mass = (img: Image) => Array.from(img.data).reduce((a, b) => a + b, 0);
const centre = (img: Image) => {
  let s = 0;
  let cx = 0;
  let cy = 0;
  Array.from(img.data).forEach((v, i) => {
    s += v;
    cx += v * (i % 28);
    cy += v * Math.floor(i / 28);
  });
  return [cx / s, cy / s];
};

describe('MNIST-C', () => {
  it.each(MNIST_C_CORRUPTIONS)('%s: 28×28 in range, changes the digit, seeded', (name) => {
    const out = corruptMnistC(digit, name, { seed: 2, index: 1 });
    expect(out.data.length).toBe(784);
    for (const v of out.data) expect(v >= 0 && v <= 255).toBe(true);
    expect(psnr(digit, out)).toBeLessThan(45);
    expect(Array.from(corruptMnistC(digit, name, { seed: 2, index: 1 }).data)).toEqual(
      Array.from(out.data),
    );
  });

  it('geometric corruptions do what they say', () => {
    const [cx, cy] = centre(digit);
    const moved = corruptMnistC(digit, 'translate', { seed: 0 });
    const [mx, my] = centre(moved);
    expect(Math.abs(Math.abs(mx! - cx!) - 3)).toBeLessThan(0.6);
    expect(Math.abs(Math.abs(my! - cy!) - 3)).toBeLessThan(0.6);
    expect(mass(corruptMnistC(digit, 'scale')) / mass(digit)).toBeCloseTo(0.49, 1); // 70 % per side
    expect(mass(corruptMnistC(digit, 'rotate')) / mass(digit)).toBeCloseTo(1, 1);
    const stripe = corruptMnistC(digit, 'stripe');
    expect(stripe.data[0]).toBe(255 - digit.data[0]!);
    expect(stripe.data[14]).toBe(digit.data[14]);
    expect(Math.min(...corruptMnistC(digit, 'brightness').data)).toBeCloseTo(127.5, 3);
    const edges = corruptMnistC(digit, 'canny_edges');
    expect(new Set(edges.data).size).toBe(2); // binary edge map
    expect(mass(corruptMnistC(digit, 'dotted_line'))).toBeGreaterThan(mass(digit));
  });

  it('builds a corrupted set and rejects wrong input', async () => {
    const m = await loadMnist();
    const set = mnistCSet(m.test, 'fog', { limit: 5 });
    expect(set.count).toBe(5);
    expect(() =>
      corruptMnistC({ data: new Float32Array(32 * 32), height: 32, width: 32, channels: 1 }, 'fog'),
    ).toThrow(CorruptionError);
    expect(() => corruptMnistC(digit, 'blur' as never)).toThrow(
      /unknown "blur"; allowed: shot_noise/,
    );
  });
});
