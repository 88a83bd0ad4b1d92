import { encode } from 'fast-png';
import { CORRUPTIONS, type CorruptionName, type Profile } from './constants.js';
import { corrupt } from './corrupt.js';
import { drawText, textHeight, textWidth } from './font.js';
import { checkImage, type Image } from './image.js';

// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;

/** Options of {@link previewGrid}. */
export interface PreviewOptions {
  /** Rows, top to bottom (default all 19). */
  corruptions?: readonly CorruptionName[];
  /** Seed of the corruptions. */
  seed?: number;
  /** Constant table (default by size). */
  profile?: Profile;
  /** Pixels between cells (default 2, white). */
  gap?: number;
  /** Display scale of each cell, nearest neighbour (default 1; 3 suits 28-px digits, 0.5 large photos). */
  scale?: number;
  /** Label the rows with the corruption names and the columns `clean`, `1`…`5` (default true). */
  labels?: boolean;
}

/**
 * A grid of one image under every corruption (rows) at the clean level and severities 1–5
 * (columns), as an RGB `Image` (gray inputs are shown as gray RGB).
 */
export function previewGrid(img: Image, options: PreviewOptions = {}): Image {
  checkImage(img, 'preview image');
  const rows = options.corruptions ?? CORRUPTIONS;
  const labels = options.labels ?? true;
  return tileImages(
    rows.map((name) => [
      img,
      ...[1, 2, 3, 4, 5].map((s) =>
        corrupt(img, name, s, { seed: options.seed, profile: options.profile }),
      ),
    ]),
    {
      ...options,
      ...(labels ? { rowLabels: [...rows], colLabels: ['clean', '1', '2', '3', '4', '5'] } : {}),
    },
  );
}

/** Options of {@link tileImages}. */
export interface TileOptions {
  /** Pixels between cells (default 2, white). */
  gap?: number;
  /** Display scale of each cell, nearest neighbour (default 1). */
  scale?: number;
  /** A label left of each row (e.g. corruption names). */
  rowLabels?: readonly string[];
  /** A label above each column (e.g. severities, class names). */
  colLabels?: readonly string[];
}

/**
 * Lays out rows of images (any sizes up to the first one's) as one RGB grid with white gaps,
 * each cell scaled by nearest neighbour (gray inputs shown as gray RGB), with optional row and
 * column labels in a built-in 5×7 pixel font (twice as large for cells of 56 px and more).
 */
export function tileImages(rows: readonly (readonly Image[])[], options: TileOptions = {}): Image {
  const first = rows[0]?.[0];
  if (!first) throw new Error('tileImages: no images');
  const gap = options.gap ?? 2;
  const k = options.scale ?? 1;
  if (!(k > 0)) throw new Error(`preview: scale must be > 0, got ${k}`);
  const h = math.max(1, math.round(first.height * k));
  const w = math.max(1, math.round(first.width * k));
  const cols = math.max(...rows.map((r) => r.length));
  const ts = h >= 56 ? 2 : 1;
  const rowLabels = options.rowLabels ?? [];
  const colLabels = options.colLabels ?? [];
  const padLeft = rowLabels.length
    ? math.max(...rowLabels.map((l) => textWidth(l, ts))) + 3 * ts + gap
    : 0;
  const padTop = colLabels.length ? textHeight(ts) + 3 * ts + gap : 0;
  const H = padTop + rows.length * h + (rows.length + 1) * gap;
  const W = padLeft + cols * w + (cols + 1) * gap;
  const data = new Float32Array(H * W * 3).fill(255);
  const grid: Image = { data, height: H, width: W, channels: 3 };
  rowLabels.forEach((label, r) => {
    const top = padTop + gap + r * (h + gap) + math.floor((h - textHeight(ts)) / 2);
    drawText(grid, label, padLeft - 2 * ts - textWidth(label, ts), top, ts);
  });
  colLabels.forEach((label, c) => {
    // Fitted to its column: smaller type, then cut, rather than running into the next one.
    const s = textWidth(label, ts) <= w ? ts : 1;
    const text = label.slice(0, math.max(1, math.floor((w + 1) / (6 * s))));
    const left = padLeft + gap + c * (w + gap) + math.floor((w - textWidth(text, s)) / 2);
    drawText(grid, text, left, gap + ts + (ts - s) * 7, s);
  });
  const put = (cell: Image, r: number, c: number) => {
    const top = padTop + gap + r * (h + gap);
    const left = padLeft + gap + c * (w + gap);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sy = math.min(cell.height - 1, math.floor(y / k));
        const sx = math.min(cell.width - 1, math.floor(x / k));
        const src = (sy * cell.width + sx) * cell.channels;
        const dst = ((top + y) * W + left + x) * 3;
        for (let ch = 0; ch < 3; ch++)
          data[dst + ch] = cell.data[src + (cell.channels >= 3 ? ch : 0)] as number;
      }
  };
  rows.forEach((row, r) => {
    row.forEach((cell, c) => {
      checkImage(cell, 'tile');
      put(cell, r, c);
    });
  });
  return grid;
}

/** Encodes an image (0..255 values) as PNG bytes (works in browsers too). */
export function encodePng(img: Image): Uint8Array {
  checkImage(img, 'png image');
  const bytes = new Uint8Array(img.data.length);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = math.min(255, math.max(0, math.round(img.data[i] as number)));
  return encode({
    width: img.width,
    height: img.height,
    data: bytes,
    channels: img.channels,
    depth: 8,
  });
}
