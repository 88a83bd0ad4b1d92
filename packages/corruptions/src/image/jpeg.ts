// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;
// P8: a JPEG round trip as Pillow/libjpeg does it (baseline, 4:2:0 chroma, IJG tables, fancy
// upsampling), simulated without writing a bitstream. Expect ±1 LSB against libjpeg's integer DCT.

const LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
  92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  99,
  99,
  99,
  99,
  99,
  ...new Array(32).fill(99),
];

/** IJG quality scaling: sf = 5000/q (integer division) below 50, else 200 − 2q. */
export function qualityScale(quality: number): number {
  if (!(quality >= 1 && quality <= 100))
    throw new Error(`jpeg: quality must be in 1..100, got ${quality}`);
  const q = math.round(quality);
  return q < 50 ? math.floor(5000 / q) : 200 - 2 * q;
}

/** The quantisation table of a base table at a quality: clamp(floor((B·sf + 50)/100), 1, 255). */
export function quantTable(base: readonly number[], quality: number): number[] {
  const sf = qualityScale(quality);
  return base.map((b) => math.min(255, math.max(1, math.floor((b * sf + 50) / 100))));
}

const COS = (() => {
  const c = new Float64Array(64);
  for (let x = 0; x < 8; x++)
    for (let u = 0; u < 8; u++) c[x * 8 + u] = math.cos(((2 * x + 1) * u * math.PI) / 16);
  return c;
})();
const C0 = math.SQRT1_2;

/** Quantises and reconstructs one 8×8 block in place (values 0..255 in, 0..255 out, rounded). */
function roundTripBlock(block: Float64Array, q: readonly number[]): void {
  const F = new Float64Array(64);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++)
          s +=
            ((block[y * 8 + x] as number) - 128) *
            (COS[x * 8 + u] as number) *
            (COS[y * 8 + v] as number);
      const cu = u === 0 ? C0 : 1;
      const cv = v === 0 ? C0 : 1;
      const coef = 0.25 * cu * cv * s;
      const qq = q[v * 8 + u] as number;
      F[v * 8 + u] = math.round(coef / qq) * qq;
    }
  }
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let v = 0; v < 8; v++)
        for (let u = 0; u < 8; u++)
          s +=
            (u === 0 ? C0 : 1) *
            (v === 0 ? C0 : 1) *
            (F[v * 8 + u] as number) *
            (COS[x * 8 + u] as number) *
            (COS[y * 8 + v] as number);
      block[y * 8 + x] = math.min(255, math.max(0, math.round(0.25 * s + 128)));
    }
  }
}

/** Pads a plane by edge replication to (ph, pw). */
function pad(plane: Float64Array, H: number, W: number, ph: number, pw: number): Float64Array {
  const out = new Float64Array(ph * pw);
  for (let y = 0; y < ph; y++)
    for (let x = 0; x < pw; x++)
      out[y * pw + x] = plane[math.min(y, H - 1) * W + math.min(x, W - 1)] as number;
  return out;
}

function roundTripPlane(plane: Float64Array, H: number, W: number, q: readonly number[]): void {
  const block = new Float64Array(64);
  for (let by = 0; by < H; by += 8) {
    for (let bx = 0; bx < W; bx += 8) {
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * W + bx + x] as number;
      roundTripBlock(block, q);
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) plane[(by + y) * W + bx + x] = block[y * 8 + x] as number;
    }
  }
}

/** libjpeg h2v2 downsampling: 2×2 sum plus a bias alternating 1, 2 along the row, >> 2. */
function downsample(plane: Float64Array, H: number, W: number): Float64Array {
  const h = H / 2;
  const w = W / 2;
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s =
        (plane[2 * y * W + 2 * x] as number) +
        (plane[2 * y * W + 2 * x + 1] as number) +
        (plane[(2 * y + 1) * W + 2 * x] as number) +
        (plane[(2 * y + 1) * W + 2 * x + 1] as number);
      out[y * w + x] = (s + (x % 2 === 0 ? 1 : 2)) >> 2;
    }
  }
  return out;
}

/** libjpeg h2v2 fancy upsampling (triangle filter, weights 9/16, 3/16, 3/16, 1/16). */
function upsample(plane: Float64Array, h: number, w: number): Float64Array {
  const H = 2 * h;
  const W = 2 * w;
  const out = new Float64Array(H * W);
  const colsum = new Float64Array(w);
  for (let oy = 0; oy < H; oy++) {
    const near = oy >> 1;
    const far = oy % 2 === 0 ? math.max(0, near - 1) : math.min(h - 1, near + 1);
    for (let c = 0; c < w; c++)
      colsum[c] = 3 * (plane[near * w + c] as number) + (plane[far * w + c] as number);
    for (let c = 0; c < w; c++) {
      const cur = colsum[c] as number;
      const left = colsum[math.max(0, c - 1)] as number;
      const right = colsum[math.min(w - 1, c + 1)] as number;
      out[oy * W + 2 * c] = (3 * cur + left + 8) >> 4;
      out[oy * W + 2 * c + 1] = (3 * cur + right + 7) >> 4;
    }
  }
  return out;
}

/**
 * Round-trips 0..255 planes (1 gray or 3 RGB, row-major H×W) through JPEG at `quality`, as
 * Pillow's default save (baseline, 4:2:0 chroma subsampling, IJG tables). Returns new planes.
 */
export function jpegRoundTrip(
  planes: Float64Array[],
  H: number,
  W: number,
  quality: number,
): Float64Array[] {
  const qY = quantTable(LUMA, quality);
  const qC = quantTable(CHROMA, quality);
  const PH = math.ceil(H / 16) * 16;
  const PW = math.ceil(W / 16) * 16;
  const crop = (p: Float64Array) => {
    const out = new Float64Array(H * W);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) out[y * W + x] = p[y * PW + x] as number;
    return out;
  };
  if (planes.length === 1) {
    const Y = pad(planes[0]!.map(math.round), H, W, PH, PW);
    roundTripPlane(Y, PH, PW, qY);
    return [crop(Y)];
  }
  const [R, G, B] = planes as [Float64Array, Float64Array, Float64Array];
  const n = H * W;
  const Y = new Float64Array(n);
  const Cb = new Float64Array(n);
  const Cr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = math.round(R[i] as number);
    const g = math.round(G[i] as number);
    const b = math.round(B[i] as number);
    Y[i] = math.round(0.299 * r + 0.587 * g + 0.114 * b);
    Cb[i] = math.round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
    Cr[i] = math.round(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
  }
  const Yp = pad(Y, H, W, PH, PW);
  const Cbp = downsample(pad(Cb, H, W, PH, PW), PH, PW);
  const Crp = downsample(pad(Cr, H, W, PH, PW), PH, PW);
  roundTripPlane(Yp, PH, PW, qY);
  roundTripPlane(Cbp, PH / 2, PW / 2, qC);
  roundTripPlane(Crp, PH / 2, PW / 2, qC);
  const Cbu = upsample(Cbp, PH / 2, PW / 2);
  const Cru = upsample(Crp, PH / 2, PW / 2);
  const outR = new Float64Array(PH * PW);
  const outG = new Float64Array(PH * PW);
  const outB = new Float64Array(PH * PW);
  for (let i = 0; i < PH * PW; i++) {
    const y = Yp[i] as number;
    const cb = (Cbu[i] as number) - 128;
    const cr = (Cru[i] as number) - 128;
    outR[i] = math.min(255, math.max(0, math.round(y + 1.402 * cr)));
    outG[i] = math.min(255, math.max(0, math.round(y - 0.344136 * cb - 0.714136 * cr)));
    outB[i] = math.min(255, math.max(0, math.round(y + 1.772 * cb)));
  }
  return [crop(outR), crop(outG), crop(outB)];
}
