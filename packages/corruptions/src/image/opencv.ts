// P9: the OpenCV pieces the spatter corruption uses, on uint8-valued planes (0..255 numbers).
import { boundaryIndex, correlate2d } from './primitives.js';

// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;

/** 3×3 mean filter, border mirror (cv2.blur). */
export function blur3(plane: Float64Array, H: number, W: number): Float64Array {
  return correlate2d(plane, H, W, new Float64Array(9).fill(1 / 9), 3, 3, 'mirror');
}

/** cv2.filter2D(·, CV_8U, K): correlation, border mirror, rounded and saturated to 0..255. */
export function filter2dU8(
  plane: Float64Array,
  H: number,
  W: number,
  kernel: number[],
  k: number,
): Float64Array {
  const out = correlate2d(plane, H, W, Float64Array.from(kernel), k, k, 'mirror');
  for (let i = 0; i < out.length; i++)
    out[i] = math.min(255, math.max(0, math.round(out[i] as number)));
  return out;
}

/** cv2.equalizeHist on 0..255 integers. */
export function equalizeHist(plane: Float64Array): Float64Array {
  const hist = new Array<number>(256).fill(0);
  for (const v of plane) hist[v as number]!++;
  let i0 = 0;
  while (i0 < 256 && hist[i0] === 0) i0++;
  const N = plane.length;
  if (hist[i0] === N) return plane.slice();
  const scale = 255 / (N - (hist[i0] as number));
  const lut = new Array<number>(256).fill(0);
  let acc = 0;
  for (let i = i0 + 1; i < 256; i++) {
    acc += hist[i] as number;
    lut[i] = math.round(acc * scale);
  }
  return plane.map((v) => lut[v] as number);
}

/** Distance of every non-zero pixel to the nearest zero pixel, 5×5 chamfer (1, 1.4, 2.1969), as cv2 DIST_L2 / DIST_MASK_5. */
export function distanceTransform(plane: Float64Array, H: number, W: number): Float64Array {
  const INF = 1e9;
  const d = new Float64Array(H * W);
  for (let i = 0; i < d.length; i++) d[i] = (plane[i] as number) === 0 ? 0 : INF;
  const a = 1;
  const b = 1.4;
  const c = 2.1969;
  const fwd: [number, number, number][] = [
    [-1, 0, a],
    [0, -1, a],
    [-1, -1, b],
    [-1, 1, b],
    [-2, -1, c],
    [-2, 1, c],
    [-1, -2, c],
    [-1, 2, c],
  ];
  const bwd: [number, number, number][] = fwd.map(([dy, dx, w]) => [-dy, -dx, w]);
  const pass = (mask: [number, number, number][], forward: boolean) => {
    for (let yi = 0; yi < H; yi++) {
      const y = forward ? yi : H - 1 - yi;
      for (let xi = 0; xi < W; xi++) {
        const x = forward ? xi : W - 1 - xi;
        let v = d[y * W + x] as number;
        if (v === 0) continue;
        for (const [dy, dx, w] of mask) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
          v = math.min(v, (d[yy * W + xx] as number) + w);
        }
        d[y * W + x] = v;
      }
    }
  };
  pass(fwd, true);
  pass(bwd, false);
  return d;
}

/** cv2.Canny(u8, low, high): 3×3 Sobel, L1 magnitude, non-maximum suppression, hysteresis; edges 255. */
export function canny(
  plane: Float64Array,
  H: number,
  W: number,
  low = 50,
  high = 150,
): Float64Array {
  const px = (y: number, x: number) =>
    plane[boundaryIndex(y, H, 'mirror') * W + boundaryIndex(x, W, 'mirror')] as number;
  const gx = new Float64Array(H * W);
  const gy = new Float64Array(H * W);
  const mag = new Float64Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx =
        px(y - 1, x + 1) +
        2 * px(y, x + 1) +
        px(y + 1, x + 1) -
        px(y - 1, x - 1) -
        2 * px(y, x - 1) -
        px(y + 1, x - 1);
      const sy =
        px(y + 1, x - 1) +
        2 * px(y + 1, x) +
        px(y + 1, x + 1) -
        px(y - 1, x - 1) -
        2 * px(y - 1, x) -
        px(y - 1, x + 1);
      gx[y * W + x] = sx;
      gy[y * W + x] = sy;
      mag[y * W + x] = math.abs(sx) + math.abs(sy);
    }
  }
  const m = (y: number, x: number) =>
    y < 0 || y >= H || x < 0 || x >= W ? 0 : (mag[y * W + x] as number);
  const state = new Uint8Array(H * W); // 0 none, 1 weak, 2 strong
  const TAN22 = math.tan(math.PI / 8);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = mag[y * W + x] as number;
      if (v <= low) continue;
      const ax = math.abs(gx[y * W + x] as number);
      const ay = math.abs(gy[y * W + x] as number);
      let n1: number;
      let n2: number;
      if (ay <= ax * TAN22) {
        n1 = m(y, x - 1);
        n2 = m(y, x + 1);
      } else if (ay >= ax / TAN22) {
        n1 = m(y - 1, x);
        n2 = m(y + 1, x);
      } else {
        const s = (gx[y * W + x] as number) * (gy[y * W + x] as number) < 0 ? -1 : 1;
        n1 = m(y - 1, x - s);
        n2 = m(y + 1, x + s);
      }
      if (v > n1 && v >= n2) state[y * W + x] = v > high ? 2 : 1;
    }
  }
  const out = new Float64Array(H * W);
  const stack: number[] = [];
  for (let i = 0; i < state.length; i++) if (state[i] === 2) stack.push(i);
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (out[i] === 255) continue;
    out[i] = 255;
    const y = math.floor(i / W);
    const x = i % W;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
        const j = yy * W + xx;
        if (state[j] !== 0 && out[j] !== 255) stack.push(j);
      }
  }
  return out;
}
