// MNIST-C (Mu & Gilmer, 2019): the 15 corruptions of google-research/mnist-c on 28×28 gray digits,
// one fixed severity each (spec §5). x in [0, 1]; outputs 0..255.
import { Rng } from '@msmoe/core/rng';
import { type ImageSet, stratifiedIndices } from '@msmoe/datasets';
import { CorruptionError, checkImage, type Image } from './image.js';
import {
  boundaryIndex,
  correlate1d,
  gaussianFilter,
  gaussianKernel,
  motionBlur,
  plasma,
  poisson,
} from './primitives.js';

// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;

/** MNIST-C's corruptions (its `CORRUPTIONS` list without identity). */
export const MNIST_C_CORRUPTIONS = [
  'shot_noise',
  'impulse_noise',
  'glass_blur',
  'motion_blur',
  'shear',
  'scale',
  'rotate',
  'brightness',
  'translate',
  'stripe',
  'fog',
  'spatter',
  'dotted_line',
  'zigzag',
  'canny_edges',
] as const;
/** One of {@link MNIST_C_CORRUPTIONS}. */
export type MnistCCorruption = (typeof MNIST_C_CORRUPTIONS)[number];

const N = 28;
const clip = (v: number) => math.min(1, math.max(0, v));

/** skimage `warp` with an inverse affine map A (2×3): output (col, row) samples the input at A·(col, row, 1), bilinear, zero outside. */
export function warpInverse(x: Float64Array, A: number[][]): Float64Array {
  const out = new Float64Array(N * N);
  const [a, b, c] = A[0] as number[];
  const [d, e, f] = A[1] as number[];
  for (let r = 0; r < N; r++) {
    for (let col = 0; col < N; col++) {
      const sc = (a as number) * col + (b as number) * r + (c as number);
      const sr = (d as number) * col + (e as number) * r + (f as number);
      const r0 = math.floor(sr);
      const c0 = math.floor(sc);
      const fr = sr - r0;
      const fc = sc - c0;
      const get = (y: number, xx: number) =>
        y < 0 || y >= N || xx < 0 || xx >= N ? 0 : (x[y * N + xx] as number);
      out[r * N + col] = clip(
        (get(r0, c0) * (1 - fc) + get(r0, c0 + 1) * fc) * (1 - fr) +
          (get(r0 + 1, c0) * (1 - fc) + get(r0 + 1, c0 + 1) * fc) * fr,
      );
    }
  }
  return out;
}

/** MNIST-C's anti-aliased line from (c0, r0) to (c1, r1): value clip01(1 + ln(1 − d/2.3)) by distance d. */
export function line(c0: number, r0: number, c1: number, r1: number): Float64Array {
  const out = new Float64Array(N * N);
  if (c1 === c0) return out;
  const m = (r1 - r0) / (c1 - c0);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < N; c++) {
      if (c < math.floor(c0) || c >= math.ceil(c1)) continue;
      const d = math.min(math.abs(r - (m * (c - c0) + r0)), 2.3 - 1e-10);
      out[r * N + c] = clip(1 + math.log(1 - d / 2.3));
    }
  }
  return out;
}

function addLine(x: Float64Array, l: Float64Array): Float64Array {
  return x.map((v, i) => clip(v + (l[i] as number)));
}

/** skimage-style Canny (σ 1 with mask normalisation, Sobel, hypot, NMS, hysteresis .1/.2, border removed). */
function skimageCanny(x: Float64Array): Float64Array {
  const ones = new Float64Array(N * N).fill(1);
  const k = gaussianKernel(1);
  const smooth = (p: Float64Array) =>
    correlate1d(correlate1d(p, N, N, k, 0, 'constant'), N, N, k, 1, 'constant');
  const s = smooth(x);
  const w = smooth(ones);
  const g = s.map((v, i) => v / (w[i] as number));
  const px = (r: number, c: number) =>
    g[boundaryIndex(r, N, 'reflect') * N + boundaryIndex(c, N, 'reflect')] as number;
  const gx = new Float64Array(N * N);
  const gy = new Float64Array(N * N);
  const mag = new Float64Array(N * N);
  for (let r = 0; r < N; r++)
    for (let c = 0; c < N; c++) {
      const sx =
        px(r - 1, c + 1) +
        2 * px(r, c + 1) +
        px(r + 1, c + 1) -
        px(r - 1, c - 1) -
        2 * px(r, c - 1) -
        px(r + 1, c - 1);
      const sy =
        px(r + 1, c - 1) +
        2 * px(r + 1, c) +
        px(r + 1, c + 1) -
        px(r - 1, c - 1) -
        2 * px(r - 1, c) -
        px(r - 1, c + 1);
      gx[r * N + c] = sx;
      gy[r * N + c] = sy;
      mag[r * N + c] = math.hypot(sx, sy);
    }
  const strong = new Uint8Array(N * N);
  const weak = new Uint8Array(N * N);
  const TAN22 = math.tan(math.PI / 8);
  for (let r = 1; r < N - 1; r++)
    for (let c = 1; c < N - 1; c++) {
      const i = r * N + c;
      const v = mag[i] as number;
      if (v < 0.1) continue;
      const ax = math.abs(gx[i] as number);
      const ay = math.abs(gy[i] as number);
      let n1: number;
      let n2: number;
      if (ay <= ax * TAN22) [n1, n2] = [mag[i - 1] as number, mag[i + 1] as number];
      else if (ay >= ax / TAN22) [n1, n2] = [mag[i - N] as number, mag[i + N] as number];
      else if ((gx[i] as number) * (gy[i] as number) > 0)
        [n1, n2] = [mag[i - N - 1] as number, mag[i + N + 1] as number];
      else [n1, n2] = [mag[i - N + 1] as number, mag[i + N - 1] as number];
      if (v >= n1 && v >= n2) {
        if (v >= 0.2) strong[i] = 1;
        else weak[i] = 1;
      }
    }
  const out = new Float64Array(N * N);
  const stack: number[] = [];
  strong.forEach((s2, i) => {
    if (s2) stack.push(i);
  });
  while (stack.length) {
    const i = stack.pop() as number;
    if (out[i]) continue;
    out[i] = 1;
    const r = math.floor(i / N);
    const c = i % N;
    for (let dr = -1; dr <= 1; dr++)
      for (let dc = -1; dc <= 1; dc++) {
        const rr = r + dr;
        const cc = c + dc;
        if (rr < 1 || rr >= N - 1 || cc < 1 || cc >= N - 1) continue;
        const j = rr * N + cc;
        if ((strong[j] || weak[j]) && !out[j]) stack.push(j);
      }
  }
  return out;
}

type Fn = (x: Float64Array, rng: Rng) => Float64Array;

const sign = (rng: Rng) => (rng.random() < 0.5 ? -1 : 1);

const FUNCTIONS: Record<MnistCCorruption, Fn> = {
  shot_noise: (x, rng) => x.map((v) => clip(poisson(3 * v, rng) / 3)),
  impulse_noise: (x, rng) => {
    const flip = Array.from(x, () => rng.random() < 0.17);
    const salt = Array.from(x, () => rng.random() < 0.5);
    return x.map((v, i) => (flip[i] ? (salt[i] ? 1 : 0) : v));
  },
  glass_blur: (x, rng) => {
    // Blur along axis 0 only (σ = (0.7, 0)), scan 27 → 2, each position on a coin flip, true swap, offsets in {−1, 0}.
    const u = gaussianFilter(x, N, N, [0.7, 0], 'nearest').map((v) => math.floor(255 * clip(v)));
    for (let it = 0; it < 2; it++)
      for (let h = 27; h >= 2; h--)
        for (let w = 27; w >= 2; w--) {
          if (rng.random() < 0.5) continue;
          const dx = rng.int(2) - 1;
          const dy = rng.int(2) - 1;
          const a = h * N + w;
          const b = (h + dy) * N + (w + dx);
          const t = u[a] as number;
          u[a] = u[b] as number;
          u[b] = t;
        }
    return gaussianFilter(
      u.map((v) => v / 255),
      N,
      N,
      [0.7, 0],
      'nearest',
    ).map(clip);
  },
  motion_blur: (x, rng) =>
    motionBlur(
      x.map((v) => math.round(255 * v)),
      N,
      N,
      10,
      3,
      rng.uniform(-45, 45),
    ).map((v) => v / 255),
  shear: (x, rng) => {
    const s = 0.4 * sign(rng);
    return warpInverse(x, [
      [1, -math.sin(s), 13.5 * math.sin(s)],
      [0, math.cos(s), 13.5 * (1 - math.cos(s))],
    ]);
  },
  scale: (x) => {
    const k = 1 / 0.7;
    return warpInverse(x, [
      [k, 0, 13.5 * (1 - k)],
      [0, k, 13.5 * (1 - k)],
    ]);
  },
  rotate: (x, rng) => {
    const t = 0.4 * sign(rng);
    const [c, s] = [math.cos(t), math.sin(t)];
    return warpInverse(x, [
      [c, -s, 13.5 * (1 - c + s)],
      [s, c, 13.5 * (1 - s - c)],
    ]);
  },
  brightness: (x) => x.map((v) => math.min(v + 0.5, 1)),
  translate: (x, rng) => {
    const dx = 3 * sign(rng);
    const dy = 3 * sign(rng);
    return warpInverse(x, [
      [1, 0, dx],
      [0, 1, dy],
    ]);
  },
  stripe: (x) => x.map((v, i) => (i % N < 7 || i % N >= 21 ? 1 - v : v)),
  fog: (x, rng) => {
    const m = math.max(...x);
    const P = plasma(256, 1.4, rng);
    return x.map((v, i) =>
      clip(((v + 3 * (P[math.floor(i / N) * 256 + (i % N)] as number)) * m) / (m + 3)),
    );
  },
  spatter: (x, rng) => {
    const L = gaussianFilter(
      Float64Array.from(x, () => rng.normal(0.65, 0.3)),
      N,
      N,
      1,
      'nearest',
    );
    const mask = gaussianFilter(
      L.map((v) => (v > 0.65 ? 1 : 0)),
      N,
      N,
      1.5,
      'nearest',
    ).map((v) => (v < 0.8 ? 0 : v));
    return x.map((v, i) => clip(v * (1 - (mask[i] as number)) + (mask[i] as number) * (63 / 255)));
  },
  dotted_line: (x, rng) => {
    const r0 = rng.int(28);
    const r1 = rng.int(28);
    const l = line(0, r0, 27, r1);
    for (let r = 0; r < N; r++)
      for (let j = 0; j < 7; j++) for (let c = 4 * j; c < 4 * j + 2; c++) l[r * N + c] = 0;
    return addLine(x, l);
  },
  zigzag: (x, rng) => {
    const a = 2;
    const b = 2;
    const c0 = 2;
    const c1 = 25;
    const r0 = rng.int(28);
    const r1 = r0 + rng.int(11) - 5;
    const theta = math.atan((r1 - r0) / (c1 - c0));
    const d = (c1 - c0) / math.cos(theta);
    const pts: [number, number][] = [[0, 0]];
    let last = b;
    for (let i = 0; i <= math.floor((d - a) / (2 * a)); i++) {
      last = (-1) ** i * b;
      pts.push([(2 * i + 1) * a, last]);
    }
    const mm = 2 * a * math.floor(d / (2 * a));
    if (d !== mm) pts.push([d, last / (2 * (d - mm))]);
    const rot = pts.map(
      ([px, py]) =>
        [
          px * math.cos(theta) - py * math.sin(theta) + c0,
          px * math.sin(theta) + py * math.cos(theta) + r0,
        ] as [number, number],
    );
    let out = x;
    for (let i = 0; i + 1 < rot.length; i++) {
      const [ca, ra] = rot[i] as [number, number];
      const [cb, rb] = rot[i + 1] as [number, number];
      out = addLine(out, ca <= cb ? line(ca, ra, cb, rb) : line(cb, rb, ca, ra));
    }
    return out;
  },
  canny_edges: (x) => skimageCanny(x),
};

/**
 * Applies one MNIST-C corruption (at its fixed severity) to a 28×28 gray digit in 0..255.
 * Seeded per (seed, index, corruption).
 */
export function corruptMnistC(
  img: Image,
  name: MnistCCorruption,
  options: { seed?: number; index?: number } = {},
): Image {
  checkImage(img, 'MNIST-C image');
  if (img.height !== N || img.width !== N || img.channels !== 1) {
    throw new CorruptionError(
      `MNIST-C image: must be 28×28×1, got ${img.height}×${img.width}×${img.channels}`,
    );
  }
  const fn = FUNCTIONS[name];
  if (!fn)
    throw new CorruptionError(
      `MNIST-C corruption: unknown "${name}"; allowed: ${MNIST_C_CORRUPTIONS.join(', ')}`,
    );
  const rng = new Rng(options.seed ?? 0).fork(`${options.index ?? 0}:mnist-c:${name}`);
  const x = Float64Array.from(img.data, (v) => (v as number) / 255);
  const y = fn(x, rng);
  return { data: Float32Array.from(y, (v) => 255 * clip(v)), height: N, width: N, channels: 1 };
}

/**
 * An MNIST-C test set: the images of `set` under one corruption (labels unchanged). With
 * `limit`, a seeded class-stratified sample of that many images (every digit present), not the
 * first ones (MNIST's test split is ordered by digit). Each image is corrupted with the stream of
 * its index in `set`, so a sample's images equal the same images of the full corrupted set.
 */
export function mnistCSet(
  set: ImageSet,
  name: MnistCCorruption,
  options: { seed?: number; limit?: number } = {},
): ImageSet {
  const picked =
    options.limit !== undefined && options.limit < set.count
      ? stratifiedIndices(set.labels, options.limit, options.seed ?? 0)
      : Array.from({ length: set.count }, (_, i) => i);
  const count = picked.length;
  const images = new Float32Array(count * N * N);
  const labels = new Uint8Array(count);
  for (const [k, i] of picked.entries()) {
    const out = corruptMnistC(
      { data: set.images.subarray(i * N * N, (i + 1) * N * N), height: N, width: N, channels: 1 },
      name,
      { seed: options.seed, index: i },
    );
    images.set(out.data, k * N * N);
    labels[k] = set.labels[i] as number;
  }
  return { ...set, images, labels, count };
}
