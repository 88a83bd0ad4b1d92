import { decode } from 'fast-png';
import { drawText, textWidth } from './font.js';
import { encodePng, previewGrid, tileImages } from './preview.js';

const img = {
  data: Float32Array.from({ length: 8 * 8 }, (_, i) => (i * 4) % 256),
  height: 8,
  width: 8,
  channels: 1,
};

it('previewGrid lays out corruptions × (clean, 1–5) and encodes as PNG', () => {
  const grid = previewGrid(img, {
    corruptions: ['fog', 'contrast'],
    gap: 1,
    scale: 2,
    labels: false,
  });
  expect(grid.width).toBe(6 * 16 + 7);
  expect(grid.height).toBe(2 * 16 + 3);
  expect(grid.channels).toBe(3);
  // The first cell is the clean image (gray shown as RGB).
  expect(grid.data[(1 * grid.width + 1) * 3]).toBe(img.data[0]);
  const png = decode(encodePng(grid));
  expect([png.width, png.height, png.channels]).toEqual([grid.width, grid.height, 3]);
  expect(() => previewGrid(img, { scale: 0 })).toThrow('preview: scale must be > 0, got 0');
});

it('labels the rows with the corruption names and the columns clean, 1–5 (by default)', () => {
  const plain = previewGrid(img, { corruptions: ['fog', 'contrast'], gap: 1, labels: false });
  const grid = previewGrid(img, { corruptions: ['fog', 'contrast'], gap: 1 });
  // A left margin as wide as the longest name ("contrast", 8 glyphs) and a top margin of a line.
  const left = textWidth('contrast') + 3 + 1;
  expect(grid.width).toBe(plain.width + left);
  expect(grid.height).toBe(plain.height + 7 + 3 + 1);
  // The labels are ink (dark pixels) inside the margins; the margins are otherwise white.
  const dark = (x0: number, x1: number, y0: number, y1: number) => {
    let n = 0;
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) if ((grid.data[(y * grid.width + x) * 3] as number) < 128) n++;
    return n;
  };
  expect(dark(0, left - 1, 11, grid.height)).toBeGreaterThan(20); // row names
  expect(dark(left, grid.width, 0, 10)).toBeGreaterThan(20); // column names
  // The clean cell sits right after the margins.
  expect(grid.data[((11 + 1) * grid.width + left + 1) * 3]).toBe(img.data[0]);
});

it('draws each glyph of the 5×7 font, lower case as upper case, unknown characters as "?"', () => {
  const canvas = (text: string) => {
    const im = { data: new Float32Array(7 * 40 * 3).fill(255), height: 7, width: 40, channels: 3 };
    drawText(im, text, 0, 0);
    return Array.from(im.data);
  };
  expect(canvas('fog')).toEqual(canvas('FOG'));
  expect(canvas('é')).toEqual(canvas('?'));
  expect(canvas('1')).not.toEqual(canvas('7'));
  expect(textWidth('abc', 2)).toBe(34);
  // Class names above a row (data preview) are fitted to their column, never run into the next.
  const wide = { ...img, height: 30, width: 30, data: new Float32Array(900).fill(255) };
  const row = tileImages([[wide, wide]], { colLabels: ['T-shirt/top', 'bag'], gap: 2 });
  const inkColumns = new Set<number>();
  for (let y = 0; y < 10; y++)
    for (let x = 0; x < row.width; x++)
      if ((row.data[(y * row.width + x) * 3] as number) < 128) inkColumns.add(x);
  expect(inkColumns.size).toBeGreaterThan(10);
  expect(Math.max(...inkColumns)).toBeLessThan(2 + 30 + 2 + 30);
  expect([...inkColumns].filter((x) => x >= 2 + 30 && x < 2 + 30 + 2)).toEqual([]); // the gap stays clear
});
