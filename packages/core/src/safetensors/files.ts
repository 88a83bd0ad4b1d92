// Reading and writing `.safetensors` files (Node only; the byte-level codec is in tensors.ts and
// format.ts, which run anywhere).
import type * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../fs.js';
import { SafetensorsError } from './format.js';
import {
  type SaveSafetensorsOptions,
  safetensorsToTensors,
  tensorsToSafetensors,
} from './tensors.js';

/**
 * Writes tensors to a `.safetensors` file atomically (temp file + rename: a crash never leaves a
 * half-written file under `path`). The file opens with Python's `safetensors.safe_open`.
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, tf.Tensor>,
  options: SaveSafetensorsOptions = {},
): Promise<void> {
  await writeFileAtomic(path, await tensorsToSafetensors(tensors, options));
}

/** Reads a `.safetensors` file into tfjs tensors; a truncated or malformed file throws {@link SafetensorsError} naming the file. */
export async function loadSafetensors(path: string): Promise<{
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, string>;
}> {
  const { readFile } = await import('node:fs/promises');
  const bytes = new Uint8Array(await readFile(path));
  try {
    return safetensorsToTensors(bytes);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new SafetensorsError(`${path}: ${err.message}`);
    throw err;
  }
}
