// Shared primitives of the image corruptions (spec: ../../../../../shared/spec/corruptions.md §2).
import type { Rng } from '@msmoe/core/rng';

// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;

/** Boundary handling: `nearest` = edge repeat, `reflect` = half-sample symmetric (dcba|abcd),
 * `mirror` = OpenCV BORDER_REFLECT_101 (cb|abcd|cb), `constant` = 0. */
export type Boundary = 'nearest' | 'reflect' | 'mirror' | 'constant';

/** Maps an out-of-range index into [0, n) under a boundary rule (−1 for `constant`). */
export function boundaryIndex(i: number, n: number, mode: Boundary): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'nearest':
      return i < 0 ? 0 : n - 1;
    case 'constant':
      return -1;
    case 'reflect': {
      const p = 2 * n;
      let k = ((i % p) + p) % p;
      if (k >= n) k = p - 1 - k;
      return k;
    }
    case 'mirror': {
      if (n === 1) return 0;
      const p = 2 * n - 2;
      let k = ((i % p) + p) % p;
      if (k >= n) k = p - k;
      return k;
    }
  }
}

/** Normalised Gaussian taps exp(−k²/2σ²), k = −r..r, r = floor(truncate·σ + 0.5). */
export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  const r = math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = math.exp((-i * i) / (2 * sigma * sigma));
    k[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
  return k;
}

/** 1-D correlation of a plane along rows (axis 0) or columns (axis 1). */
export function correlate1d(
  plane: Float64Array,
  H: number,
  W: number,
  kernel: Float64Array,
  axis: 0 | 1,
  mode: Boundary,
): Float64Array {
  const out = new Float64Array(plane.length);
  const r = (kernel.length - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let t = -r; t <= r; t++) {
        const w = kernel[t + r] as number;
        if (axis === 0) {
          const yy = boundaryIndex(y + t, H, mode);
          if (yy >= 0) s += w * (plane[yy * W + x] as number);
        } else {
          const xx = boundaryIndex(x + t, W, mode);
          if (xx >= 0) s += w * (plane[y * W + xx] as number);
        }
      }
      out[y * W + x] = s;
    }
  }
  return out;
}

/**
 * P1: Gaussian filter of one plane (skimage/SciPy semantics), separable over rows then columns.
 * `sigma` may differ per axis (`[σ_rows, σ_cols]`); σ = 0 leaves that axis unchanged.
 */
export function gaussianFilter(
  plane: Float64Array,
  H: number,
  W: number,
  sigma: number | [number, number],
  mode: Boundary = 'nearest',
  truncate = 4,
): Float64Array {
  const [sy, sx] = typeof sigma === 'number' ? [sigma, sigma] : sigma;
  let out = plane;
  if (sy > 0) out = correlate1d(out, H, W, gaussianKernel(sy, truncate), 0, mode);
  if (sx > 0) out = correlate1d(out, H, W, gaussianKernel(sx, truncate), 1, mode);
  return out === plane ? plane.slice() : out;
}

/** 2-D correlation anchored at the kernel centre. */
export function correlate2d(
  plane: Float64Array,
  H: number,
  W: number,
  kernel: Float64Array,
  kh: number,
  kw: number,
  mode: Boundary,
): Float64Array {
  const out = new Float64Array(plane.length);
  const ry = (kh - 1) / 2;
  const rx = (kw - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let i = 0; i < kh; i++) {
        const yy = boundaryIndex(y + i - ry, H, mode);
        if (yy < 0) continue;
        for (let j = 0; j < kw; j++) {
          const xx = boundaryIndex(x + j - rx, W, mode);
          if (xx >= 0) s += (kernel[i * kw + j] as number) * (plane[yy * W + xx] as number);
        }
      }
      out[y * W + x] = s;
    }
  }
  return out;
}

/** P2: the defocus disk kernel: disk of radius r (normalised), then OpenCV GaussianBlur (3×3 or 5×5, σ = a, mirror). */
export function diskKernel(
  radius: number,
  aliasBlur: number,
): { kernel: Float64Array; size: number } {
  const L = radius <= 8 ? 8 : math.floor(radius);
  const size = 2 * L + 1;
  const disk = new Float64Array(size * size);
  let sum = 0;
  for (let y = -L; y <= L; y++) {
    for (let x = -L; x <= L; x++) {
      const v = x * x + y * y <= radius * radius ? 1 : 0;
      disk[(y + L) * size + (x + L)] = v;
      sum += v;
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i] = (disk[i] as number) / sum;
  const k = radius <= 8 ? 3 : 5;
  // OpenCV builds a ksize-tap Gaussian from σ (normalised), applied separably with BORDER_REFLECT_101.
  const half = (k - 1) / 2;
  const g = new Float64Array(k);
  let gs = 0;
  for (let i = 0; i < k; i++) {
    g[i] = math.exp(-((i - half) ** 2) / (2 * aliasBlur * aliasBlur));
    gs += g[i] as number;
  }
  for (let i = 0; i < k; i++) g[i] = (g[i] as number) / gs;
  const blurred = correlate1d(
    correlate1d(disk, size, size, g, 0, 'mirror'),
    size,
    size,
    g,
    1,
    'mirror',
  );
  return { kernel: blurred, size };
}

/** Bilinear resize with corner-aligned mapping src = dst·(in−1)/(out−1) (SciPy zoom, order 1). */
export function resizeBilinearAligned(
  plane: Float64Array,
  H: number,
  W: number,
  outH: number,
  outW: number,
): Float64Array {
  const out = new Float64Array(outH * outW);
  const sy = outH > 1 ? (H - 1) / (outH - 1) : 0;
  const sx = outW > 1 ? (W - 1) / (outW - 1) : 0;
  for (let y = 0; y < outH; y++) {
    const fy = y * sy;
    const y0 = math.min(H - 1, math.floor(fy));
    const y1 = math.min(H - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = x * sx;
      const x0 = math.min(W - 1, math.floor(fx));
      const x1 = math.min(W - 1, x0 + 1);
      const wx = fx - x0;
      const a = (plane[y0 * W + x0] as number) * (1 - wx) + (plane[y0 * W + x1] as number) * wx;
      const b = (plane[y1 * W + x0] as number) * (1 - wx) + (plane[y1 * W + x1] as number) * wx;
      out[y * outW + x] = a * (1 - wy) + b * wy;
    }
  }
  return out;
}

/** Round half to even (numpy's `round`). */
export function roundHalfEven(v: number): number {
  const r = math.round(v);
  return math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** P3: clipped zoom: crop the centre 1/z of the plane, bilinear up by z, keep the centre H×W. */
export function zoomCrop(plane: Float64Array, H: number, W: number, z: number): Float64Array {
  const ch = math.ceil(H / z);
  const cw = math.ceil(W / z);
  const top = math.floor((H - ch) / 2);
  const left = math.floor((W - cw) / 2);
  const crop = new Float64Array(ch * cw);
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++) crop[y * cw + x] = plane[(top + y) * W + (left + x)] as number;
  const oh = roundHalfEven(ch * z);
  const ow = roundHalfEven(cw * z);
  const up = resizeBilinearAligned(crop, ch, cw, oh, ow);
  const t = math.floor((oh - H) / 2);
  const l = math.floor((ow - W) / 2);
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) out[y * W + x] = up[(t + y) * ow + (l + x)] as number;
  return out;
}

/** P4: diamond-square plasma fractal on an N×N torus (N a power of two), normalised to [0, 1]. */
export function plasma(N: number, decay: number, rng: Rng): Float64Array {
  if (!Number.isInteger(math.log2(N)))
    throw new Error(`plasma: N must be a power of two, got ${N}`);
  const A = new Float64Array(N * N);
  const at = (i: number, j: number) => A[(((i % N) + N) % N) * N + (((j % N) + N) % N)] as number;
  let s = N;
  let w = 100;
  while (s >= 2) {
    const h = s / 2;
    const m = N / s;
    const noise = () => w * rng.uniform(-w, w);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        const is = i * s;
        const js = j * s;
        A[(is + h) * N + (js + h)] =
          (at(is, js) + at(is + s, js) + at(is, js + s) + at(is + s, js + s)) / 4 + noise();
      }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        const is = i * s;
        const js = j * s;
        A[is * N + (js + h)] =
          (at(is + h, js + h) + at(is - h, js + h) + at(is, js) + at(is, js + s)) / 4 + noise();
      }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        const is = i * s;
        const js = j * s;
        A[(is + h) * N + js] =
          (at(is + h, js + h) + at(is + h, js - h) + at(is, js) + at(is + s, js)) / 4 + noise();
      }
    s = h;
    w /= decay;
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of A) {
    lo = math.min(lo, v);
    hi = math.max(hi, v);
  }
  for (let i = 0; i < A.length; i++) A[i] = ((A[i] as number) - lo) / (hi - lo || 1);
  return A;
}

/**
 * P5: ImageMagick's motion blur on 0..255 planes: K = 2·ceil(R) + 1 one-sided taps with weights
 * exp(−i²/2S²) (normalised), offsets (ceil(i·cosθ − 0.5), ceil(i·sinθ − 0.5)) in (column, row),
 * coordinates clamped to the image; rounded to uint8.
 */
export function motionBlur(
  plane255: Float64Array,
  H: number,
  W: number,
  radius: number,
  sigma: number,
  angleDeg: number,
): Float64Array {
  const K = 2 * math.ceil(radius) + 1;
  const theta = (angleDeg * math.PI) / 180;
  const weights: number[] = [];
  const dx: number[] = [];
  const dy: number[] = [];
  let sum = 0;
  for (let i = 0; i < K; i++) {
    const ox = math.ceil(i * math.cos(theta) - 0.5);
    const oy = math.ceil(i * math.sin(theta) - 0.5);
    if (math.abs(ox) >= W || math.abs(oy) >= H) break; // [IC]: stop at the first tap outside the image
    const w = math.exp((-i * i) / (2 * sigma * sigma));
    weights.push(w);
    dx.push(ox);
    dy.push(oy);
    sum += w;
  }
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let i = 0; i < weights.length; i++) {
        const yy = math.min(H - 1, math.max(0, y + (dy[i] as number)));
        const xx = math.min(W - 1, math.max(0, x + (dx[i] as number)));
        s += (weights[i] as number) * (plane255[yy * W + xx] as number);
      }
      out[y * W + x] = math.min(255, math.max(0, math.round(s / sum)));
    }
  }
  return out;
}

/** P7: PIL's BOX resize of a 0..255 plane (separable, horizontal then vertical, each rounded to uint8). */
export function boxResize(
  plane255: Float64Array,
  H: number,
  W: number,
  outH: number,
  outW: number,
): Float64Array {
  const pass = (
    src: Float64Array,
    n: number,
    m: number,
    inLen: number,
    outLen: number,
    horizontal: boolean,
  ) => {
    // n lines of inLen samples → n lines of outLen samples
    const s = inLen / outLen;
    const f = math.max(s, 1);
    const out = new Float64Array(n * outLen);
    for (let i = 0; i < outLen; i++) {
      const c = (i + 0.5) * s;
      let j0 = math.ceil(c - f / 2 - 0.5);
      let j1 = math.ceil(c + f / 2 - 0.5); // centres j + 0.5 in [c − f/2, c + f/2)
      j0 = math.max(0, j0);
      j1 = math.min(inLen, math.max(j1, j0 + 1));
      for (let line = 0; line < n; line++) {
        let acc = 0;
        for (let j = j0; j < j1; j++)
          acc += horizontal ? (src[line * m + j] as number) : (src[j * m + line] as number);
        const v = math.min(255, math.max(0, math.round(acc / (j1 - j0))));
        if (horizontal) out[line * outLen + i] = v;
        else out[i * m + line] = v;
      }
    }
    return out;
  };
  const h = pass(plane255, H, W, W, outW, true); // H × outW
  return pass(h, outW, outW, H, outH, false); // outH × outW
}

/** Sample from Poisson(λ): Knuth's product method for small λ, PTRS (Hörmann 1993) for λ ≥ 10. */
export function poisson(lambda: number, rng: Rng): number {
  if (lambda <= 0) return 0;
  if (lambda < 10) {
    const L = math.exp(-lambda);
    let k = 0;
    let p = rng.random();
    while (p > L) {
      k++;
      p *= rng.random();
    }
    return k;
  }
  const slam = math.sqrt(lambda);
  const loglam = math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = rng.random() - 0.5;
    const V = rng.random();
    const us = 0.5 - math.abs(U);
    const k = math.floor(((2 * a) / us + b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    const lhs = math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b);
    const rhs = -lambda + k * loglam - logGamma(k + 1);
    if (lhs <= rhs) return k;
  }
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return math.log(math.PI / math.sin(math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let a = c[0] as number;
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (xx + i);
  return 0.5 * math.log(2 * math.PI) + (xx + 0.5) * math.log(t) - t + math.log(a);
}

/**
 * P10 (SciPy `map_coordinates`, order 1, mode reflect): samples a plane at fractional (row, col).
 */
export function sampleBilinear(
  plane: Float64Array,
  H: number,
  W: number,
  r: number,
  c: number,
  mode: Boundary,
): number {
  const r0 = math.floor(r);
  const c0 = math.floor(c);
  const fr = r - r0;
  const fc = c - c0;
  const get = (y: number, x: number) => {
    const yy = boundaryIndex(y, H, mode);
    const xx = boundaryIndex(x, W, mode);
    return yy < 0 || xx < 0 ? 0 : (plane[yy * W + xx] as number);
  };
  return (
    (get(r0, c0) * (1 - fc) + get(r0, c0 + 1) * fc) * (1 - fr) +
    (get(r0 + 1, c0) * (1 - fc) + get(r0 + 1, c0 + 1) * fc) * fr
  );
}

/** Solves the affine map taking three points P1 onto P2 (OpenCV getAffineTransform): [[a, b, c], [d, e, f]]. */
export function affineFromPoints(p1: [number, number][], p2: [number, number][]): number[] {
  // Solve for x' = a x + b y + c and y' = d x + e y + f.
  const [[x1, y1], [x2, y2], [x3, y3]] = p1 as [
    [number, number],
    [number, number],
    [number, number],
  ];
  const det = x1 * (y2 - y3) - y1 * (x2 - x3) + (x2 * y3 - x3 * y2);
  const solve = (v1: number, v2: number, v3: number) => {
    const a = (v1 * (y2 - y3) - y1 * (v2 - v3) + (v2 * y3 - v3 * y2)) / det;
    const b = (x1 * (v2 - v3) - v1 * (x2 - x3) + (x2 * v3 - x3 * v2)) / det;
    const c =
      (x1 * (y2 * v3 - y3 * v2) - y1 * (x2 * v3 - x3 * v2) + v1 * (x2 * y3 - x3 * y2)) / det;
    return [a, b, c];
  };
  const q = p2 as [[number, number], [number, number], [number, number]];
  return [...solve(q[0][0], q[1][0], q[2][0]), ...solve(q[0][1], q[1][1], q[2][1])];
}

/** OpenCV warpAffine (dst(p) = src(M⁻¹p), bilinear, border mirror) of one plane. */
export function warpAffine(plane: Float64Array, H: number, W: number, M: number[]): Float64Array {
  const [a, b, c, d, e, f] = M as [number, number, number, number, number, number];
  const det = a * e - b * d;
  // Inverse map.
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  const ic = -(ia * c + ib * f);
  const iff = -(id * c + ie * f);
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = ia * x + ib * y + ic;
      const sy = id * x + ie * y + iff;
      out[y * W + x] = sampleBilinear(plane, H, W, sy, sx, 'mirror');
    }
  }
  return out;
}
