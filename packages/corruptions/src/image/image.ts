// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;
/** An image as a row-major `[H, W, C]` array of 0..255 values (C = 1 or 3; 4 = RGB + alpha). */
export interface Image {
  data: Float32Array | Uint8Array | Uint8ClampedArray | Float64Array;
  height: number;
  width: number;
  channels: number;
}

/** Working form: float64 planes in [0, 1], one per channel (alpha excluded). */
export interface Planes {
  planes: Float64Array[];
  height: number;
  width: number;
}

/** Raised for bad input: wrong shape, non-finite values, unknown corruption or severity. */
export class CorruptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptionError';
  }
}

/** Validates an image and throws one {@link CorruptionError} naming the problem. */
export function checkImage(img: Image, who = 'image'): void {
  const { height: H, width: W, channels: C, data } = img;
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1) {
    throw new CorruptionError(`${who}: height and width must be positive integers, got ${H}×${W}`);
  }
  if (![1, 3, 4].includes(C))
    throw new CorruptionError(`${who}: channels must be 1, 3 or 4, got ${C}`);
  if (data.length !== H * W * C) {
    throw new CorruptionError(
      `${who}: data has ${data.length} values, shape ${H}×${W}×${C} needs ${H * W * C}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v))
      throw new CorruptionError(`${who}: value at index ${i} is ${v} (must be finite, 0..255)`);
  }
}

/** Splits an image into [0, 1] float64 planes (RGB or gray; alpha returned separately). */
export function toPlanes(img: Image): { planes: Planes; alpha: Float64Array | null } {
  const { height: H, width: W, channels: C, data } = img;
  const n = H * W;
  const used = C === 4 ? 3 : C;
  const planes = Array.from({ length: used }, () => new Float64Array(n));
  const alpha = C === 4 ? new Float64Array(n) : null;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < used; c++)
      (planes[c] as Float64Array)[i] = (data[i * C + c] as number) / 255;
    if (alpha) alpha[i] = data[i * C + 3] as number;
  }
  return { planes: { planes, height: H, width: W }, alpha };
}

/** Joins [0, 1] planes back into a 0..255 Float32 image (clipped), re-attaching alpha. */
export function fromPlanes(p: Planes, alpha: Float64Array | null = null): Image {
  const { height: H, width: W, planes } = p;
  const used = planes.length;
  const C = alpha ? 4 : used;
  const n = H * W;
  const data = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < used; c++)
      data[i * C + c] = 255 * math.min(1, math.max(0, (planes[c] as Float64Array)[i] as number));
    if (alpha) data[i * C + 3] = alpha[i] as number;
  }
  return { data, height: H, width: W, channels: C };
}

/** Clips every plane to [0, 1] in place. */
export function clip01(p: Planes): Planes {
  for (const plane of p.planes)
    for (let i = 0; i < plane.length; i++) plane[i] = math.min(1, math.max(0, plane[i] as number));
  return p;
}

/** Peak signal-to-noise ratio (dB) between two images of the same shape, on 0..255 values. */
export function psnr(a: Image, b: Image): number {
  if (a.data.length !== b.data.length) throw new CorruptionError('psnr: images differ in size');
  let se = 0;
  for (let i = 0; i < a.data.length; i++)
    se += ((a.data[i] as number) - (b.data[i] as number)) ** 2;
  const mse = se / a.data.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * math.log10((255 * 255) / mse);
}

/** OpenCV's gray: 0.299 R + 0.587 G + 0.114 B (the plane itself for gray images). */
export function gray(p: Planes): Float64Array {
  if (p.planes.length === 1) return (p.planes[0] as Float64Array).slice();
  const [r, g, b] = p.planes as [Float64Array, Float64Array, Float64Array];
  const out = new Float64Array(r.length);
  for (let i = 0; i < out.length; i++)
    out[i] = 0.299 * (r[i] as number) + 0.587 * (g[i] as number) + 0.114 * (b[i] as number);
  return out;
}
