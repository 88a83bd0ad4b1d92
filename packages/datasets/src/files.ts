// Reading datasets from folders and files (Node only): the decoders they use run anywhere.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import type { DatasetCard } from './card.js';
import { DatasetError } from './card.js';
import {
  CIFAR10_CARD,
  CIFAR10_CLASSES,
  concatCifarBatches,
  decodeCifarBatch,
} from './images/cifar.js';
import {
  DEBIAN_FASHION_MNIST,
  decodeIdx,
  FASHION_MNIST_CARD,
  FASHION_MNIST_CLASSES,
  IDX_FILES,
} from './images/idx.js';
import type { ImageDataset, ImageSet } from './images/types.js';
import { SPLITS, type TextSplits } from './text/corpus.js';
import { WIKITEXT_LAYOUTS } from './text/wikitext.js';

/** The names in a folder; a missing or unreadable folder is a {@link DatasetError} saying `missing`. */
async function listFolder(folder: string, missing: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch {
    throw new DatasetError(missing);
  }
}

/** Reads CIFAR-10 from a `cifar-10-batches-bin` folder. */
export async function loadCifar10(folder: string): Promise<ImageDataset> {
  const read = async (name: string) => {
    try {
      return decodeCifarBatch(new Uint8Array(await readFile(join(folder, name))), name);
    } catch (err) {
      if (err instanceof DatasetError) throw err;
      throw new DatasetError(
        `CIFAR-10 folder "${folder}" lacks ${name}; expected data_batch_1..5.bin and test_batch.bin`,
      );
    }
  };
  const train = concatCifarBatches(
    await Promise.all([1, 2, 3, 4, 5].map((i) => read(`data_batch_${i}.bin`))),
  );
  return {
    train,
    test: await read('test_batch.bin'),
    classes: CIFAR10_CLASSES,
    card: CIFAR10_CARD,
  };
}

async function readMaybeGz(path: string): Promise<Uint8Array> {
  const raw = new Uint8Array(await readFile(path));
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    return new Uint8Array(gunzipSync(raw));
  }
  return raw;
}

/**
 * Reads an MNIST-layout IDX folder (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
 * `t10k-…`): Fashion-MNIST (default folder: Debian's) or the full MNIST. Images in 0..255.
 */
export async function loadIdxDataset(
  folder: string = DEBIAN_FASHION_MNIST,
  options: { classes?: string[]; card?: DatasetCard } = {},
): Promise<ImageDataset> {
  const entries = await listFolder(
    folder,
    `IDX folder "${folder}" does not exist; install Debian's dataset-fashion-mnist or pass a folder with ${[...IDX_FILES.train, ...IDX_FILES.test].join(', ')} (optionally .gz)`,
  );
  const find = (base: string) => {
    const name = [base, `${base}.gz`].find((n) => entries.includes(n));
    if (!name) throw new DatasetError(`IDX folder "${folder}" lacks ${base} (or ${base}.gz)`);
    return join(folder, name);
  };
  const load = async (split: 'train' | 'test'): Promise<ImageSet> => {
    const [imgFile, lblFile] = IDX_FILES[split];
    const images = decodeIdx(await readMaybeGz(find(imgFile)), imgFile);
    const labels = decodeIdx(await readMaybeGz(find(lblFile)), lblFile);
    if (images.shape.length !== 3)
      throw new DatasetError(`${imgFile}: expected [N, H, W], got [${images.shape.join(', ')}]`);
    if (labels.shape[0] !== images.shape[0])
      throw new DatasetError(`${lblFile}: ${labels.shape[0]} labels for ${images.shape[0]} images`);
    const [count, height, width] = images.shape as [number, number, number];
    return {
      images: Float32Array.from(images.data),
      labels: Uint8Array.from(labels.data),
      count,
      height,
      width,
      channels: 1,
    };
  };
  return {
    train: await load('train'),
    test: await load('test'),
    classes: options.classes ?? FASHION_MNIST_CLASSES,
    card: options.card ?? FASHION_MNIST_CARD,
  };
}

/**
 * Reads a WikiText-103 or WikiText-2 folder in either layout, line by line exactly as the
 * authors' data loader does (each line kept as is; the tokeniser adds `<eos>`). Empty lines are
 * kept: they become a lone `<eos>`, as in the reference.
 *
 * @throws DatasetError naming the folder and the files expected when it is missing or incomplete.
 */
export async function readWikiText(
  folder: string,
): Promise<TextSplits & { layout: keyof typeof WIKITEXT_LAYOUTS }> {
  const entries = await listFolder(
    folder,
    `WikiText folder "${folder}" does not exist or cannot be read; expected ${Object.values(WIKITEXT_LAYOUTS.tokens).join(', ')} or ${Object.values(WIKITEXT_LAYOUTS.txt).join(', ')}`,
  );
  const layout = (Object.keys(WIKITEXT_LAYOUTS) as (keyof typeof WIKITEXT_LAYOUTS)[]).find((l) =>
    SPLITS.every((s) => entries.includes(WIKITEXT_LAYOUTS[l][s])),
  );
  if (!layout) {
    throw new DatasetError(
      `WikiText folder "${folder}" has neither ${Object.values(WIKITEXT_LAYOUTS.tokens).join(', ')} nor ${Object.values(WIKITEXT_LAYOUTS.txt).join(', ')} (found: ${entries.slice(0, 10).join(', ') || 'nothing'})`,
    );
  }
  const out = { train: [], valid: [], test: [], layout } as TextSplits & {
    layout: keyof typeof WIKITEXT_LAYOUTS;
  };
  for (const split of SPLITS) {
    const file = join(folder, WIKITEXT_LAYOUTS[layout][split]);
    const bytes = await readFile(file);
    // Checked before anything is trained: text, UTF-8, and not empty.
    if (bytes.includes(0))
      throw new DatasetError(`${file}: not a text file (it contains NUL bytes)`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new DatasetError(`${file}: not UTF-8 text`);
    }
    if (text.trim() === '')
      throw new DatasetError(`${file}: the ${split} split is empty (no words)`);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop(); // the final newline ends the last line
    out[split] = lines;
  }
  return out;
}
