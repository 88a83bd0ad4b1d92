import { writeFileAtomic } from '@msmoe/core/fs';
import type { Image } from './image.js';
import { encodePng, type PreviewOptions, previewGrid } from './preview.js';

/** Writes the preview grid of an image to a PNG file, atomically (Node). */
export async function preview(
  img: Image,
  path: string,
  options: PreviewOptions = {},
): Promise<Image> {
  const grid = previewGrid(img, options);
  await writeFileAtomic(path, encodePng(grid));
  return grid;
}
