import { decode } from 'fast-png';
import { encodePng, previewGrid } from './preview.js';

it('previewGrid lays out corruptions × (clean, 1–5) and encodes as PNG', () => {
  const img = {
    data: Float32Array.from({ length: 8 * 8 }, (_, i) => (i * 4) % 256),
    height: 8,
    width: 8,
    channels: 1,
  };
  const grid = previewGrid(img, { corruptions: ['fog', 'contrast'], gap: 1, scale: 2 });
  expect(grid.width).toBe(6 * 16 + 7);
  expect(grid.height).toBe(2 * 16 + 3);
  expect(grid.channels).toBe(3);
  // The first cell is the clean image (gray shown as RGB).
  expect(grid.data[(1 * grid.width + 1) * 3]).toBe(img.data[0]);
  const png = decode(encodePng(grid));
  expect([png.width, png.height, png.channels]).toEqual([grid.width, grid.height, 3]);
  expect(() => previewGrid(img, { scale: 0 })).toThrow('preview: scale must be > 0, got 0');
});
