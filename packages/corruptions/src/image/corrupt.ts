import { Rng } from '@msmoe/core/rng';
import {
  CORRUPTIONS,
  type CorruptionName,
  FROST_TEXTURES,
  PROFILES,
  type Profile,
  profileForSize,
  TABLE,
  ZOOM_STEPS,
} from './constants.js';
import {
  CorruptionError,
  checkImage,
  fromPlanes,
  gray,
  type Image,
  type Planes,
  toPlanes,
} from './image.js';
import { jpegRoundTrip } from './jpeg.js';
import { blur3, canny, distanceTransform, equalizeHist, filter2dU8 } from './opencv.js';
import {
  affineFromPoints,
  boxResize,
  correlate2d,
  diskKernel,
  gaussianFilter,
  motionBlur,
  plasma,
  poisson,
  sampleBilinear,
  warpAffine,
  zoomCrop,
} from './primitives.js';

// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;

/** Options of {@link corrupt}. */
export interface CorruptOptions {
  /** Seed of the random streams (default 0). */
  seed?: number;
  /**
   * Index of the image in its set. Each (seed, index, corruption) has its own random stream, shared
   * by the five severities (common random numbers: severity s and s+1 of one image see the same
   * noise draws, fog pattern, frost texture and blur angle, so a higher severity is a stronger
   * version of the same corruption, not another sample).
   */
  index?: number;
  /** Constant table; default by size (≤ 32 px cifar, ≤ 64 px tiny, else imagenet). */
  profile?: Profile;
  /** `uint8`: floor the output to integers, as CIFAR-10-C stores it (default `none`). */
  quantize?: 'none' | 'uint8';
  /**
   * The ImageNet-C frost photographs, decoded, in the order frost1.png, frost2.png, frost3.png,
   * frost4.jpg, frost5.jpg[, frost6.jpg] (see `loadFrostImages`): frost then follows the
   * reference exactly. Without them frost is procedural.
   */
  frostImages?: readonly Image[];
}

type Ctx = {
  H: number;
  W: number;
  profile: Profile;
  rng: Rng;
  severity: number;
  frostImages?: readonly Image[];
};
type Fn = (p: Planes, params: number | readonly number[], ctx: Ctx) => Planes;

const map = (p: Planes, f: (v: number, i: number, c: number) => number): Planes => ({
  ...p,
  planes: p.planes.map((plane, c) => plane.map((v, i) => f(v, i, c))),
});
const clip = (v: number) => math.min(1, math.max(0, v));
const tuple = (params: number | readonly number[]) => params as readonly number[];

/** Maximum of every plane (the fog normaliser). */
function maxOf(p: Planes): number {
  let m = 0;
  for (const plane of p.planes) for (const v of plane) m = math.max(m, v);
  return m;
}

/** The H×W window of a (rows × cols) plane starting at (top, left). */
function cropPlane(
  plane: Float64Array,
  cols: number,
  top: number,
  left: number,
  H: number,
  W: number,
): Float64Array {
  const out = new Float64Array(H * W);
  for (let y = 0; y < H; y++)
    out.set(plane.subarray((top + y) * cols + left, (top + y) * cols + left + W), y * W);
  return out;
}

function nextPow2(n: number): number {
  return 2 ** math.ceil(math.log2(math.max(2, n)));
}

function glassBlur(p: Planes, params: number | readonly number[], { H, W, rng }: Ctx): Planes {
  const [sigma, delta, iterations] = tuple(params) as [number, number, number];
  const u = p.planes.map((plane) =>
    gaussianFilter(plane, H, W, sigma, 'nearest').map((v) => math.floor(255 * clip(v))),
  );
  const C = u.length;
  for (let it = 0; it < iterations; it++) {
    for (let h = H - delta; h > delta; h--) {
      for (let w = W - delta; w > delta; w--) {
        const dx = rng.int(2 * delta) - delta;
        const dy = rng.int(2 * delta) - delta;
        const src = (h + dy) * W + (w + dx);
        const dst = h * W + w;
        if (C === 1) {
          const plane = u[0] as Float64Array;
          const t = plane[dst] as number;
          plane[dst] = plane[src] as number;
          plane[src] = t; // a true swap on gray arrays
        } else {
          for (const plane of u) plane[dst] = plane[src] as number; // the reference's aliased swap is a copy
        }
      }
    }
  }
  return {
    ...p,
    planes: u.map((plane) =>
      gaussianFilter(
        plane.map((v) => v / 255),
        H,
        W,
        sigma,
        'nearest',
      ).map(clip),
    ),
  };
}

function snow(p: Planes, params: number | readonly number[], { H, W, rng }: Ctx): Planes {
  const [mu, s, z, t, R, S, b] = tuple(params) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  let L: Float64Array = Float64Array.from({ length: H * W }, () => rng.normal(mu, s));
  L = zoomCrop(L, H, W, z);
  for (let i = 0; i < L.length; i++) if ((L[i] as number) < t) L[i] = 0;
  const angle = rng.uniform(-135, -45);
  const blurred = motionBlur(
    L.map((v) => math.floor(255 * clip(v))),
    H,
    W,
    R,
    S,
    angle,
  ).map((v) => v / 255);
  const g = gray(p);
  const out = p.planes.map((plane) =>
    plane.map((x, i) => {
      const x2 = b * x + (1 - b) * math.max(x, 1.5 * (g[i] as number) + 0.5);
      const rot = blurred[H * W - 1 - i] as number; // rot180
      return clip(x2 + (blurred[i] as number) + rot);
    }),
  );
  return { ...p, planes: out };
}

/**
 * Procedural frost (our design; the ImageNet-C frost photographs are not redistributable here):
 * a plasma texture with thin bright streaks, blurred to the reference's correlation length and
 * mapped per channel to the mean and std of one of the five sampled frost images. Label results
 * "procedural frost".
 */
export function proceduralFrost(
  H: number,
  W: number,
  rng: Rng,
  textureIndex?: number,
): Float64Array[] {
  const ref = FROST_TEXTURES[textureIndex ?? rng.int(5)] as (typeof FROST_TEXTURES)[number];
  const N = nextPow2(math.max(H, W) * 2);
  const base = plasma(N, 2.5, rng);
  // Ice streaks: short bright line segments.
  const streaks = new Float64Array(N * N);
  const count = math.ceil((N * N) / 300);
  for (let s = 0; s < count; s++) {
    let y = rng.uniform(0, N);
    let x = rng.uniform(0, N);
    const a = rng.uniform(0, math.PI);
    const len = rng.uniform(3, 12);
    for (let k = 0; k < len; k++) {
      streaks[(math.floor(y) % N) * N + (math.floor(x) % N)] = 1;
      y += math.sin(a);
      x += math.cos(a);
      if (y < 0) y += N;
      if (x < 0) x += N;
    }
  }
  const sigma = math.max(0.5, math.min(ref.corr[0], ref.corr[1]) / 6);
  const tex = gaussianFilter(
    base.map((v, i) => v + 0.6 * (streaks[i] as number)),
    N,
    N,
    sigma,
    'reflect',
  );
  const crop = cropPlane(tex, N, rng.int(N - H + 1), rng.int(N - W + 1), H, W);
  let mean = 0;
  for (const v of crop) mean += v;
  mean /= crop.length;
  let sd = 0;
  for (const v of crop) sd += (v - mean) ** 2;
  sd = math.sqrt(sd / crop.length) || 1;
  return [0, 1, 2].map((c) =>
    crop.map((v) => math.min(255, math.max(0, ref.mean[c]! + ((v - mean) / sd) * ref.std[c]!))),
  );
}

/** OpenCV-style bilinear resize (half-pixel centres) of one 0..255 plane. */
function resizeHalfPixel(
  plane: Float64Array,
  H: number,
  W: number,
  oh: number,
  ow: number,
): Float64Array {
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const fy = math.min(H - 1, math.max(0, (y + 0.5) * (H / oh) - 0.5));
    const y0 = math.floor(fy);
    const y1 = math.min(H - 1, y0 + 1);
    for (let x = 0; x < ow; x++) {
      const fx = math.min(W - 1, math.max(0, (x + 0.5) * (W / ow) - 0.5));
      const x0 = math.floor(fx);
      const x1 = math.min(W - 1, x0 + 1);
      const top =
        (plane[y0 * W + x0] as number) * (1 - (fx - x0)) +
        (plane[y0 * W + x1] as number) * (fx - x0);
      const bot =
        (plane[y1 * W + x0] as number) * (1 - (fx - x0)) +
        (plane[y1 * W + x1] as number) * (fx - x0);
      out[y * ow + x] = top * (1 - (fy - y0)) + bot * (fy - y0);
    }
  }
  return out;
}

/** The reference frost: photograph k = randint(0, 5), scaled for small profiles, cropped at a random offset. */
function frostFromImages(
  images: readonly Image[],
  H: number,
  W: number,
  profile: Profile,
  rng: Rng,
): Float64Array[] {
  if (images.length < 5)
    throw new CorruptionError(
      `frostImages: need the 5 sampled frost photographs (frost1..frost5), got ${images.length}`,
    );
  const img = images[rng.int(5)] as Image;
  const k = profile === 'cifar' ? 0.2 : profile === 'tiny' ? 0.3 : 1;
  let planes: Float64Array[] = [0, 1, 2].map((c) =>
    Float64Array.from(
      { length: img.height * img.width },
      (_, i) => img.data[i * img.channels + (img.channels >= 3 ? c : 0)] as number,
    ),
  );
  let [fh, fw] = [img.height, img.width];
  if (k !== 1) {
    const [oh, ow] = [math.round(fh * k), math.round(fw * k)];
    planes = planes.map((p) => resizeHalfPixel(p, fh, fw, oh, ow));
    [fh, fw] = [oh, ow];
  }
  if (fh < H || fw < W)
    throw new CorruptionError(
      `frostImages: a ${fw}×${fh} frost texture cannot cover a ${W}×${H} image`,
    );
  const top = rng.int(fh - H + 1);
  const left = rng.int(fw - W + 1);
  return planes.map((p) => cropPlane(p, fw, top, left, H, W));
}

function frost(
  p: Planes,
  params: number | readonly number[],
  { H, W, rng, profile, frostImages }: Ctx,
): Planes {
  const [a, b] = tuple(params) as [number, number];
  const F = frostImages
    ? frostFromImages(frostImages, H, W, profile, rng)
    : proceduralFrost(H, W, rng);
  const layers =
    p.planes.length === 1
      ? [
          F[0]!.map(
            (r, i) => 0.2989 * r + 0.587 * (F[1]![i] as number) + 0.114 * (F[2]![i] as number),
          ),
        ]
      : F;
  return {
    ...p,
    planes: p.planes.map((plane, c) =>
      plane.map(
        (x, i) => math.min(255, math.max(0, a * 255 * x + b * (layers[c]![i] as number))) / 255,
      ),
    ),
  };
}

function fog(p: Planes, params: number | readonly number[], { H, W, rng, profile }: Ctx): Planes {
  const [a, d] = tuple(params) as [number, number];
  const m = maxOf(p);
  const N =
    profile === 'imagenet'
      ? math.max(256, nextPow2(math.max(H, W)))
      : profile === 'tiny'
        ? math.max(64, nextPow2(math.max(H, W)))
        : math.max(32, nextPow2(math.max(H, W)));
  const P = plasma(N, d, rng);
  return map(p, (x, i) => {
    const y = math.floor(i / W);
    const c = i % W;
    return clip(((x + a * (P[y * N + c] as number)) * m) / (m + a));
  });
}

function hsvBrightness(p: Planes, c: number): Planes {
  if (p.planes.length === 1) return map(p, (x) => clip(x + c));
  const [R, G, B] = p.planes as [Float64Array, Float64Array, Float64Array];
  const out = [new Float64Array(R.length), new Float64Array(R.length), new Float64Array(R.length)];
  for (let i = 0; i < R.length; i++) {
    const V = math.max(R[i] as number, G[i] as number, B[i] as number);
    const V2 = math.min(V + c, 1);
    for (let k = 0; k < 3; k++) {
      const x = (p.planes[k] as Float64Array)[i] as number;
      (out[k] as Float64Array)[i] = V > 0 ? (x * V2) / V : V2;
    }
  }
  return { ...p, planes: out };
}

function saturate(p: Planes, params: number | readonly number[]): Planes {
  const [a, b] = tuple(params) as [number, number];
  const rgb = p.planes.length === 1 ? [p.planes[0]!, p.planes[0]!, p.planes[0]!] : p.planes;
  const n = rgb[0]!.length;
  const out = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    const r = rgb[0]![i] as number;
    const g = rgb[1]![i] as number;
    const bl = rgb[2]![i] as number;
    const V = math.max(r, g, bl);
    const mn = math.min(r, g, bl);
    const S = V > 0 ? (V - mn) / V : 0;
    const S2 = clip(S * a + b);
    if (S > 0) {
      out[0]![i] = V - ((V - r) * S2) / S;
      out[1]![i] = V - ((V - g) * S2) / S;
      out[2]![i] = V - ((V - bl) * S2) / S;
    } else {
      out[0]![i] = V;
      out[1]![i] = V * (1 - S2);
      out[2]![i] = V * (1 - S2);
    }
  }
  return {
    ...p,
    planes: p.planes.length === 1 ? [out[0]!.map(clip)] : out.map((o) => o.map(clip)),
  };
}

function elastic(
  p: Planes,
  params: number | readonly number[],
  { H, W, rng, profile, severity }: Ctx,
): Planes {
  let planes = p.planes;
  let alpha: number;
  let sigmaY: number;
  let sigmaX: number;
  let D = 1;
  if (profile === 'imagenet') {
    // [IC] formulation: no affine step, per-axis σ, displacement field in ±D.
    alpha = 250 * ([0.05, 0.065, 0.085, 0.1, 0.12][severity - 1] as number);
    sigmaY = 0.01 * H;
    sigmaX = 0.01 * W;
    D = 0.005 * H;
  } else {
    const native = profile === 'tiny' ? 64 : 32;
    const scale = math.min(H, W) / native;
    const [a0, s0, A0] = tuple(params) as [number, number, number];
    alpha = a0 * scale;
    sigmaY = s0 * scale;
    sigmaX = sigmaY;
    const A = A0 * scale;
    const c0 = math.floor(W / 2);
    const c1 = math.floor(H / 2);
    const s = math.floor(math.min(H, W) / 3);
    const P1: [number, number][] = [
      [c0 + s, c1 + s],
      [c0 + s, c1 - s],
      [c0 - s, c1 - s],
    ];
    const P2 = P1.map(
      ([x, y]) => [x + rng.uniform(-A, A), y + rng.uniform(-A, A)] as [number, number],
    );
    const M = affineFromPoints(P1, P2);
    planes = planes.map((plane) => warpAffine(plane, H, W, M));
  }
  const field = () => {
    const u = Float64Array.from({ length: H * W }, () => rng.uniform(-D, D));
    return gaussianFilter(u, H, W, [sigmaY, sigmaX], 'reflect', 3).map((v) => v * alpha);
  };
  if (alpha === 0) return { ...p, planes: planes.map((pl) => pl.map(clip)) };
  const dx = field();
  const dy = field();
  return {
    ...p,
    planes: planes.map((plane) =>
      plane.map((_, i) => {
        const r = math.floor(i / W);
        const c = i % W;
        return clip(
          sampleBilinear(plane, H, W, r + (dy[i] as number), c + (dx[i] as number), 'reflect'),
        );
      }),
    ),
  };
}

function spatter(p: Planes, params: number | readonly number[], { H, W, rng }: Ctx): Planes {
  const [mu, s, sigma, t, k, mode] = tuple(params) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const L = gaussianFilter(
    Float64Array.from({ length: H * W }, () => rng.normal(mu, s)),
    H,
    W,
    sigma,
    'nearest',
  );
  for (let i = 0; i < L.length; i++) if ((L[i] as number) < t) L[i] = 0;
  const colorize = (m: Float64Array, colour: number[], mud: boolean): Planes => {
    const rgbAdd = (x: number, i: number, c: number) => {
      const mv = m[i] as number;
      return mud
        ? clip(x * (1 - mv) + mv * (colour[c] as number))
        : clip(x + mv * (colour[c] as number));
    };
    if (p.planes.length === 1) {
      const gcol =
        0.299 * (colour[0] as number) +
        0.587 * (colour[1] as number) +
        0.114 * (colour[2] as number);
      return map(p, (x, i) => {
        const mv = m[i] as number;
        return mud ? clip(x * (1 - mv) + mv * gcol) : clip(x + mv * gcol);
      });
    }
    return map(p, rgbAdd);
  };
  if (mode === 0) {
    const E = canny(
      L.map((v) => math.min(255, math.floor(255 * v))),
      H,
      W,
      50,
      150,
    );
    let Dm: Float64Array = distanceTransform(
      E.map((v) => 255 - v),
      H,
      W,
    ).map((v) => math.min(v, 20));
    Dm = blur3(Dm, H, W).map(math.floor);
    Dm = equalizeHist(Dm);
    Dm = filter2dU8(Dm, H, W, [-2, -1, 0, -1, 1, 1, 0, 1, 2], 3);
    Dm = blur3(Dm, H, W).map((v) => math.min(255, math.max(0, math.round(v))));
    const m = L.map((v, i) => v * (Dm[i] as number));
    let mx = 0;
    for (const v of m) mx = math.max(mx, v);
    const mm = mx > 0 ? m.map((v) => (k * v) / mx) : m.map(() => 0);
    return colorize(mm, [175 / 255, 238 / 255, 238 / 255], false);
  }
  const mask = gaussianFilter(
    L.map((v) => (v > t ? 1 : 0)),
    H,
    W,
    k,
    'nearest',
  ).map((v) => (v < 0.8 ? 0 : v));
  return colorize(mask, [63 / 255, 42 / 255, 20 / 255], true);
}

const FUNCTIONS: Record<CorruptionName, Fn> = {
  gaussian_noise: (p, s, { rng }) => map(p, (x) => clip(x + rng.normal(0, s as number))),
  shot_noise: (p, c, { rng }) =>
    map(p, (x) => clip(poisson((c as number) * x, rng) / (c as number))),
  impulse_noise: (p, a, { rng }) => {
    const n = p.planes.length * p.planes[0]!.length;
    const flip = Uint8Array.from({ length: n }, () => (rng.random() < (a as number) ? 1 : 0));
    const salt = Uint8Array.from({ length: n }, () => (rng.random() < 0.5 ? 1 : 0));
    const C = p.planes.length;
    return map(p, (x, i, c) => {
      const j = i * C + c;
      return flip[j] ? (salt[j] ? 1 : 0) : x;
    });
  },
  speckle_noise: (p, s, { rng }) => map(p, (x) => clip(x + x * rng.normal(0, s as number))),
  gaussian_blur: (p, s, { H, W }) => ({
    ...p,
    planes: p.planes.map((pl) => gaussianFilter(pl, H, W, s as number, 'nearest').map(clip)),
  }),
  glass_blur: glassBlur,
  defocus_blur: (p, params, { H, W }) => {
    const [r, a] = tuple(params) as [number, number];
    const { kernel, size } = diskKernel(r, a);
    return {
      ...p,
      planes: p.planes.map((pl) => correlate2d(pl, H, W, kernel, size, size, 'mirror').map(clip)),
    };
  },
  motion_blur: (p, params, { H, W, rng }) => {
    const [R, S] = tuple(params) as [number, number];
    const angle = rng.uniform(-45, 45);
    return {
      ...p,
      planes: p.planes.map((pl) =>
        motionBlur(
          pl.map((v) => math.round(255 * v)),
          H,
          W,
          R,
          S,
          angle,
        ).map((v) => v / 255),
      ),
    };
  },
  zoom_blur: (p, count, { H, W, profile, severity }) => {
    const step = ZOOM_STEPS[profile][severity - 1] as number;
    const zs = Array.from({ length: count as number }, (_, k) => 1 + step * k);
    return {
      ...p,
      planes: p.planes.map((pl) => {
        const acc = pl.slice();
        for (const z of zs) {
          const zc = zoomCrop(pl, H, W, z);
          for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (zc[i] as number);
        }
        return acc.map((v) => clip(v / (zs.length + 1)));
      }),
    };
  },
  snow,
  frost,
  fog,
  brightness: (p, c) => hsvBrightness(p, c as number),
  contrast: (p, c) => ({
    ...p,
    planes: p.planes.map((pl) => {
      let mean = 0;
      for (const v of pl) mean += v;
      mean /= pl.length;
      return pl.map((x) => clip((x - mean) * (c as number) + mean));
    }),
  }),
  elastic_transform: elastic,
  pixelate: (p, c, { H, W }) => {
    const w = math.max(1, math.floor(W * (c as number)));
    const h = math.max(1, math.floor(H * (c as number)));
    return {
      ...p,
      planes: p.planes.map((pl) =>
        boxResize(
          boxResize(
            pl.map((v) => math.round(255 * v)),
            H,
            W,
            h,
            w,
          ),
          h,
          w,
          H,
          W,
        ).map((v) => v / 255),
      ),
    };
  },
  jpeg_compression: (p, q, { H, W }) => ({
    ...p,
    planes: jpegRoundTrip(
      p.planes.map((pl) => pl.map((v) => 255 * v)),
      H,
      W,
      q as number,
    ).map((pl) => pl.map((v) => v / 255)),
  }),
  spatter,
  saturate,
};

/**
 * Applies one of the 19 ImageNet-C corruptions at severity 1–5 to an `[H, W, C]` image in
 * 0..255 (C = 1, 3, or 4 with alpha passed through), following the reference step by step with
 * the constants of the image's profile. Deterministic for a given seed and image index.
 *
 * @throws CorruptionError for a bad image, an unknown corruption or a severity outside 1..5.
 */
export function corrupt(
  img: Image,
  name: CorruptionName,
  severity: number,
  options: CorruptOptions = {},
): Image {
  checkImage(img);
  if (!(CORRUPTIONS as readonly string[]).includes(name)) {
    throw new CorruptionError(`corruption: unknown "${name}"; allowed: ${CORRUPTIONS.join(', ')}`);
  }
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) {
    throw new CorruptionError(`severity: must be an integer 1..5, got ${severity}`);
  }
  const profile = options.profile ?? profileForSize(img.height, img.width);
  if (!(PROFILES as readonly string[]).includes(profile)) {
    throw new CorruptionError(`profile: unknown "${profile}"; allowed: ${PROFILES.join(', ')}`);
  }
  const rng = new Rng(options.seed ?? 0).fork(`${options.index ?? 0}:${name}`);
  const { planes, alpha } = toPlanes(img);
  const params = TABLE[name][profile][severity - 1] as number | readonly number[];
  const out = fromPlanes(
    FUNCTIONS[name](planes, params, {
      H: img.height,
      W: img.width,
      profile,
      rng,
      severity,
      frostImages: options.frostImages,
    }),
    alpha,
  );
  if (options.quantize === 'uint8')
    for (let i = 0; i < out.data.length; i++) out.data[i] = math.floor(out.data[i] as number);
  return out;
}
