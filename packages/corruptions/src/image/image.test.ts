import { Rng } from '@msmoe/core/rng';
import {
  BENCHMARK_CORRUPTIONS,
  CORRUPTIONS,
  type CorruptionName,
  profileForSize,
  TABLE,
} from './constants.js';
import { corrupt, proceduralFrost } from './corrupt.js';
import { CorruptionError, type Image, psnr } from './image.js';
import { jpegRoundTrip, qualityScale, quantTable } from './jpeg.js';
import {
  boxResize,
  diskKernel,
  gaussianFilter,
  motionBlur,
  plasma,
  poisson,
  zoomCrop,
} from './primitives.js';

function synth(H: number, W: number, C = 3, phase = 0): Image {
  const data = new Float32Array(H * W * C);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * C;
      data[i] = 128 + 100 * Math.sin(x / 5 + phase) * Math.cos(y / 7);
      if (C >= 3) {
        data[i + 1] = 80 + 60 * ((x + y) % 16 < 8 ? 1 : 0) + 40 * (y / H);
        data[i + 2] = 200 - 150 * (x / W) + 20 * Math.sin((x * y) / 50 + phase);
      }
      if (C === 4) data[i + 3] = (x * 7) % 256;
    }
  return { data, height: H, width: W, channels: C };
}
const flat = (H: number, W: number, v: number, C = 3): Image => ({
  data: new Float32Array(H * W * C).fill(v),
  height: H,
  width: W,
  channels: C,
});

describe('every corruption', () => {
  it.each(CORRUPTIONS)(
    '%s keeps shape and range, is seeded, and handles gray, RGB and RGBA',
    (name) => {
      for (const img of [synth(32, 32), synth(28, 28, 1), synth(20, 24, 4), synth(64, 48)]) {
        for (const severity of [1, 3, 5]) {
          const out = corrupt(img, name, severity, { seed: 3, index: 2 });
          expect(out.height).toBe(img.height);
          expect(out.width).toBe(img.width);
          expect(out.channels).toBe(img.channels);
          for (const v of out.data) expect(v >= 0 && v <= 255).toBe(true);
          expect(Array.from(corrupt(img, name, severity, { seed: 3, index: 2 }).data)).toEqual(
            Array.from(out.data),
          );
          if (img.channels === 4)
            for (let i = 3; i < out.data.length; i += 4) expect(out.data[i]).toBe(img.data[i]);
        }
      }
    },
  );

  // PSNR against the clean image, averaged over 4 seeds and two sizes, falls with severity (0.5 dB
  // tolerance) wherever the reference's own constants make the corruption stronger at each step.
  // Not so for: glass_blur (CIFAR σ goes .4 → .25 from s3 to s4), elastic_transform (s1 is a large
  // affine jitter, later severities smaller ones plus a finer field), frost (a falls while b rises:
  // a bright texture adds less at s4 than at s1), saturate (s1–s2 desaturate, s3–s5 oversaturate),
  // defocus_blur at 32 px (s4 r = 1, a = .2 vs s5 r = 1.5, a = .1) and snow and fog at 224 px
  // (s2/s3 and s3–s5 nearly equal), spatter (water drops at s1–s3, mud at s4–s5): those are checked
  // for what the constants do promise.
  const EXCEPTIONS = [
    'glass_blur',
    'elastic_transform',
    'frost',
    'saturate',
    'defocus_blur',
    'snow',
    'fog',
    'spatter',
  ];
  const MONOTONE: CorruptionName[] = CORRUPTIONS.filter((c) => !EXCEPTIONS.includes(c));
  it.each(MONOTONE)('%s: distortion grows with severity', (name) => {
    for (const [H, W] of [
      [32, 32],
      [96, 96],
    ] as const) {
      const mean = [1, 2, 3, 4, 5].map((s) => {
        let acc = 0;
        for (let seed = 0; seed < 4; seed++) {
          const img = synth(H, W, 3, seed);
          acc += psnr(img, corrupt(img, name, s, { seed }));
        }
        return acc / 4;
      });
      for (let s = 1; s < 5; s++) expect(mean[s]!).toBeLessThanOrEqual(mean[s - 1]! + 0.5);
    }
  });

  it('the exceptions still distort and follow their constants', () => {
    const img = synth(32, 32);
    for (const name of EXCEPTIONS as CorruptionName[]) {
      for (let s = 1; s <= 5; s++) expect(psnr(img, corrupt(img, name, s))).toBeLessThan(60);
    }
    const frostB = TABLE.frost.cifar.map((r) => (r as number[])[1]!);
    expect([...frostB].sort((a, b) => a - b)).toEqual(frostB);
    const defocus = [1, 2, 3, 4, 5].map((s) =>
      psnr(synth(96, 96), corrupt(synth(96, 96), 'defocus_blur', s)),
    );
    for (let s = 1; s < 5; s++) expect(defocus[s]!).toBeLessThanOrEqual(defocus[s - 1]! + 0.5); // monotone at ImageNet-style sizes
  });

  it('rejects bad input with one clear error', () => {
    const img = synth(8, 8);
    expect(() => corrupt(img, 'blizzard' as CorruptionName, 1)).toThrow(CorruptionError);
    expect(() => corrupt(img, 'blizzard' as CorruptionName, 1)).toThrow(
      /unknown "blizzard"; allowed: gaussian_noise, shot_noise/,
    );
    expect(() => corrupt(img, 'fog', 6)).toThrow('severity: must be an integer 1..5, got 6');
    expect(() => corrupt({ ...img, channels: 2, data: new Float32Array(128) }, 'fog', 1)).toThrow(
      'channels must be 1, 3 or 4, got 2',
    );
    expect(() => corrupt({ ...img, data: new Float32Array(10) }, 'fog', 1)).toThrow(
      'data has 10 values, shape 8×8×3 needs 192',
    );
    const nan = synth(8, 8);
    nan.data[5] = Number.NaN;
    expect(() => corrupt(nan, 'fog', 1)).toThrow('value at index 5 is NaN');
  });
});

describe('constants and profiles', () => {
  it('picks the profile by size and holds the spec’s table', () => {
    expect([
      profileForSize(32, 32),
      profileForSize(28, 28),
      profileForSize(64, 40),
      profileForSize(224, 224),
    ]).toEqual(['cifar', 'cifar', 'tiny', 'imagenet']);
    expect(TABLE.gaussian_noise.imagenet).toEqual([0.08, 0.12, 0.18, 0.26, 0.38]);
    expect(TABLE.shot_noise.cifar).toEqual([500, 250, 100, 75, 50]);
    expect(TABLE.motion_blur.imagenet[4]).toEqual([20, 15]);
    expect(TABLE.snow.cifar[0]).toEqual([0.1, 0.2, 1, 0.6, 8, 3, 0.95]);
    (TABLE.elastic_transform.imagenet[0] as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo([244 * 2, 244 * 0.7, 244 * 0.1][i]!, 10);
    });
    expect(TABLE.jpeg_compression.tiny).toEqual([65, 58, 50, 40, 25]);
    expect(TABLE.spatter.imagenet[4]).toEqual([0.67, 0.4, 1, 0.65, 1.5, 1]);
    expect(TABLE.saturate.tiny[4]).toEqual([30, 0.2]);
    expect(BENCHMARK_CORRUPTIONS).toHaveLength(15);
    expect(CORRUPTIONS).toHaveLength(19);
  });
});

describe('identities and statistics', () => {
  it('σ = 0 blur, z = 1 zoom are no-ops; contrast, brightness, saturate reduce to identities at neutral values', () => {
    const p = Float64Array.from({ length: 64 }, (_, i) => (i % 7) / 7);
    expect(Array.from(gaussianFilter(p, 8, 8, 0))).toEqual(Array.from(p));
    const z = zoomCrop(p, 8, 8, 1);
    for (let i = 0; i < 64; i++) expect(z[i]).toBeCloseTo(p[i]!, 12);
  });

  it('noise has the reference statistics on a flat 0.5 image', () => {
    const img = flat(200, 200, 127.5, 3);
    const stats = (out: Image) => {
      let s = 0;
      let q = 0;
      for (const v of out.data) {
        s += v;
        q += v * v;
      }
      const m = s / out.data.length;
      return { mean: m, std: Math.sqrt(q / out.data.length - m * m) };
    };
    expect(stats(corrupt(img, 'gaussian_noise', 1, { profile: 'imagenet' })).std).toBeCloseTo(
      0.08 * 255,
      0,
    );
    expect(
      stats(corrupt(img, 'speckle_noise', 1, { profile: 'imagenet' })).std / (0.5 * 0.15 * 255),
    ).toBeCloseTo(1, 1);
    const shot = stats(corrupt(img, 'shot_noise', 2, { profile: 'imagenet' }));
    expect(Math.abs(shot.mean - 127.5)).toBeLessThan(1);
    const imp = corrupt(img, 'impulse_noise', 2, { profile: 'imagenet' });
    const flipped =
      Array.from(imp.data).filter((v) => v === 0 || v === 255).length / imp.data.length;
    expect(flipped).toBeCloseTo(0.06, 2);
  });

  it('Poisson sampling has mean and variance λ (small and large λ)', () => {
    const rng = new Rng(4);
    for (const lam of [3, 30, 300]) {
      const xs = Array.from({ length: 20000 }, () => poisson(lam, rng));
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
      expect(Math.abs(m - lam) / lam).toBeLessThan(0.03);
      expect(Math.abs(v - lam) / lam).toBeLessThan(0.08);
    }
  });
});

describe('primitives', () => {
  it('P5 motion blur gathers from +offsets: a white pixel spreads over the 21 pixels on its left (θ = 0)', () => {
    const W = 40;
    const plane = new Float64Array(W);
    plane[30] = 255;
    const out = motionBlur(plane, 1, W, 10, 3, 0);
    const touched = Array.from(out)
      .map((v, i) => (v > 0 ? i : -1))
      .filter((i) => i >= 0);
    expect(Math.min(...touched)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...touched)).toBe(30);
    expect(out[30]).toBeGreaterThan(out[29]!);
    const up = motionBlur(
      Float64Array.from({ length: 40 }, (_, i) => (i === 30 ? 255 : 0)),
      40,
      1,
      10,
      3,
      90,
    );
    expect(up[30]! > 0 && up[31] === 0 && up[25]! > 0).toBe(true); // θ = 90 spreads upwards
  });

  it('P4 plasma spans [0, 1]; a larger decay is smoother', () => {
    const energy = (d: number) => {
      const p = plasma(64, d, new Rng(1));
      let e = 0;
      for (let y = 0; y < 64; y++)
        for (let x = 0; x < 63; x++) e += (p[y * 64 + x + 1]! - p[y * 64 + x]!) ** 2;
      expect(Math.min(...p)).toBe(0);
      expect(Math.max(...p)).toBe(1);
      return e;
    };
    expect(energy(3)).toBeLessThan(energy(1.4));
  });

  it('P2 disk kernel sums to ~1; P7 box resize halves by averaging', () => {
    const { kernel } = diskKernel(3, 0.1);
    expect(kernel.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(Array.from(boxResize(Float64Array.from([0, 10, 20, 30]), 1, 4, 1, 2))).toEqual([5, 25]);
  });

  it('P8 JPEG: quality scaling, a flat image survives within ±1, error grows as quality falls', () => {
    expect([25, 18, 15, 10, 7, 85, 80, 65, 58, 50, 40].map(qualityScale)).toEqual([
      200, 277, 333, 500, 714, 30, 40, 70, 84, 100, 125,
    ]);
    expect(quantTable([16, 11], 50)).toEqual([16, 11]);
    const flatPlanes = [0, 1, 2].map(() => new Float64Array(24 * 24).fill(100));
    for (const p of jpegRoundTrip(flatPlanes, 24, 24, 85))
      for (const v of p) expect(Math.abs(v - 100)).toBeLessThanOrEqual(1);
    const img = synth(48, 48);
    const errs = [25, 15, 10, 7].map((q) => psnr(img, { ...img, data: jpegOf(img, q) }));
    for (let i = 1; i < errs.length; i++) expect(errs[i]!).toBeLessThan(errs[i - 1]!);
  });

  it('procedural frost matches the reference texture statistics (B > G > R, mean and std)', () => {
    for (let t = 0; t < 5; t++) {
      const F = proceduralFrost(64, 64, new Rng(t), t);
      const stats = F.map((p) => {
        const m = p.reduce((a, b) => a + b, 0) / p.length;
        return { m, s: Math.sqrt(p.reduce((a, b) => a + (b - m) ** 2, 0) / p.length) };
      });
      expect(stats[2]!.m).toBeGreaterThan(stats[1]!.m);
      expect(stats[1]!.m).toBeGreaterThan(stats[0]!.m);
    }
  });
});

function jpegOf(img: Image, q: number): Float32Array {
  const planes = [0, 1, 2].map((c) =>
    Float64Array.from({ length: img.height * img.width }, (_, i) => img.data[i * 3 + c]!),
  );
  const out = jpegRoundTrip(planes, img.height, img.width, q);
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < img.height * img.width; i++)
    for (let c = 0; c < 3; c++) data[i * 3 + c] = out[c]![i]!;
  return data;
}

describe('frost from the reference photographs', () => {
  it('uses provided textures (scaled for small profiles, randomly cropped) and reads them from a folder', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { encode } = await import('fast-png');
    const { loadFrostImages } = await import('./frost-files.js');
    // Five flat "photographs" of distinct colours, 200×200 (40×40 after the CIFAR ×0.2 scaling).
    const colours = [
      [10, 20, 30],
      [40, 50, 60],
      [70, 80, 90],
      [100, 110, 120],
      [130, 140, 150],
    ];
    const textures = colours.map((col) => ({
      data: Float32Array.from({ length: 200 * 200 * 3 }, (_, i) => col[i % 3]!),
      height: 200,
      width: 200,
      channels: 3,
    }));
    const img = flat(32, 32, 0, 3);
    const out = corrupt(img, 'frost', 1, { frostImages: textures, profile: 'cifar' });
    // a·0 + b·F with b = 0.2: one of the colours, scaled by 0.2.
    const first = [out.data[0]!, out.data[1]!, out.data[2]!].map((v) => Math.round(v / 0.2));
    expect(colours.map((c) => c.join())).toContain(first.join());
    expect(() => corrupt(img, 'frost', 1, { frostImages: textures.slice(0, 3) })).toThrow(
      /need the 5 sampled frost photographs/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'msmoe-frost-'));
    const bytes = (t: (typeof textures)[number]) =>
      encode({ width: 200, height: 200, data: Uint8Array.from(t.data), channels: 3, depth: 8 });
    ['frost1.png', 'frost2.png', 'frost3.png'].forEach((n, i) => {
      writeFileSync(join(dir, n), bytes(textures[i]!));
    });
    await expect(loadFrostImages(dir)).rejects.toThrow(/lacks frost4.jpg/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('MNIST-C sets', () => {
  it('a limited set is a stratified sample (every digit) whose images equal the full set’s', async () => {
    const { loadMnist, stratifiedIndices } = await import('@msmoe/datasets');
    const { mnistCSet } = await import('./mnist-c.js');
    const { test } = await loadMnist();
    const limited = mnistCSet(test, 'brightness', { seed: 0, limit: 60 });
    expect(limited.count).toBe(60);
    expect(new Set(limited.labels).size).toBe(10);
    // Each sampled image is corrupted with its own index's stream: equal to the full set's image.
    const picked = stratifiedIndices(test.labels, 60, 0);
    const full = mnistCSet(test, 'brightness', { seed: 0 });
    for (const [k, i] of picked.entries()) {
      expect(limited.labels[k]).toBe(test.labels[i]);
      expect(limited.images.subarray(k * 784, (k + 1) * 784)).toEqual(
        full.images.subarray(i * 784, (i + 1) * 784),
      );
    }
  });
});
