// Test helpers for this package (not exported).
import { initBackend } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';

/** Switches to a backend strictly. */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await initBackend({ prefer: name, fallback: false, env: {} });
  if (tf.getBackend() !== name) throw new Error(`expected ${name}`);
}

/** Overwrites a variable's values (to craft routing decisions). */
export function setValues(v: tf.Variable, values: number[][] | number[]): void {
  tf.tidy(() => v.assign(tf.tensor(values.flat(), v.shape, 'float32')));
}
