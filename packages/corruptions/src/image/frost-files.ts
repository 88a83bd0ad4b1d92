import { CorruptionError, type Image } from './image.js';

/** File names of the ImageNet-C frost photographs, in the order frost expects them. */
export const FROST_FILES = [
  'frost1.png',
  'frost2.png',
  'frost3.png',
  'frost4.jpg',
  'frost5.jpg',
  'frost6.jpg',
] as const;

/**
 * Reads and decodes the ImageNet-C frost photographs (hendrycks/robustness `ImageNet-C/create_c/`,
 * Apache-2.0) from a folder you provide, for exact frost (`corrupt(…, { frostImages })`). frost6 is
 * optional (the reference never samples it). Node only.
 */
export async function loadFrostImages(folder: string): Promise<Image[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { decode: decodePng } = await import('fast-png');
  const jpegMod: unknown = await import('jpeg-js');
  const jpeg = ((jpegMod as { default?: unknown }).default ?? jpegMod) as {
    decode: (
      b: Uint8Array,
      o: { useTArray: boolean; formatAsRGBA: boolean },
    ) => { width: number; height: number; data: Uint8Array };
  };
  const out: Image[] = [];
  for (const name of FROST_FILES) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(path.join(folder, name)));
    } catch {
      if (name === 'frost6.jpg') break;
      throw new CorruptionError(
        `frost folder "${folder}" lacks ${name}; expected ${FROST_FILES.slice(0, 5).join(', ')}`,
      );
    }
    if (name.endsWith('.png')) {
      const png = decodePng(bytes);
      const C = png.channels;
      const data = new Float32Array(png.width * png.height * 3);
      for (let i = 0; i < png.width * png.height; i++)
        for (let c = 0; c < 3; c++) data[i * 3 + c] = png.data[i * C + (C >= 3 ? c : 0)] as number;
      out.push({ data, height: png.height, width: png.width, channels: 3 });
    } else {
      const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
      out.push({ data: Float32Array.from(j.data), height: j.height, width: j.width, channels: 3 });
    }
  }
  return out;
}
