// Test helpers shared by this package's tests (not part of the public API).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend.js';

/** Backends every numerical test runs on. */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const;

/** Switches to `name` (strict, ignoring MSMOE_BACKEND), registering msmoe's kernels. */
export async function useBackend(name: (typeof TEST_BACKENDS)[number]): Promise<void> {
  await initBackend({ prefer: name, fallback: false, env: {} });
  if (tf.getBackend() !== name) throw new Error(`expected backend ${name}, got ${tf.getBackend()}`);
}
