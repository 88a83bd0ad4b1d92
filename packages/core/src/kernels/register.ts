import * as tf from '@tensorflow/tfjs';
import { emptyCpuConfig, emptyWasmConfig } from './empty.js';
import { LEAN_GRADIENTS } from './lean-grads.js';
import { oneHotWasmConfig } from './one-hot.js';
import { unsortedSegmentSumGradConfig } from './segment-sum-grad.js';
import { topKGradConfig } from './topk-grad.js';
import {
  unsortedSegmentSumCpuConfig,
  unsortedSegmentSumWasmConfig,
} from './unsorted-segment-sum.js';
import { gatherV2WasmConfig } from './wasm-gather.js';
import { castWasmConfig, identityWasmConfig } from './wasm-identity.js';
import { sliceWasmConfig, splitVWasmConfig, unpackWasmConfig } from './wasm-slice.js';

/** Kernels msmoe replaces because the shipped ones compute wrong values or are far too slow. */
const REPLACEMENTS: readonly tf.KernelConfig[] = [
  oneHotWasmConfig,
  unsortedSegmentSumCpuConfig,
  sliceWasmConfig,
  unpackWasmConfig,
  splitVWasmConfig,
  identityWasmConfig,
  castWasmConfig,
  gatherV2WasmConfig,
];
/** Kernels msmoe adds where tfjs ships none. */
const ADDITIONS: readonly tf.KernelConfig[] = [
  unsortedSegmentSumWasmConfig,
  emptyWasmConfig,
  emptyCpuConfig,
];

/**
 * Registers what TensorFlow.js lacks or gets wrong for MoE training: a TopK gradient, a
 * mask-free UnsortedSegmentSum gradient and lean gradients of Multiply, RealDiv, Square and Sqrt
 * (no float32-to-float32 casts, no recomputed root; all backends), an UnsortedSegmentSum kernel for wasm (so `tf.gather` has a gradient there), a
 * linear-time UnsortedSegmentSum for cpu (the shipped one is O(segments × size)), a correct
 * OneHot kernel for wasm (the shipped one ignores `dtype`), Slice / Unpack / SplitV kernels
 * for wasm that read their input in place (the shipped ones copy the whole input per output), and
 * Identity and same-dtype Cast on wasm that share the buffer (tfjs clones every tensor a gradient
 * saves; the shipped kernels copy it), and a GatherV2 for wasm that copies whole slices (50× faster
 * for an embedding lookup). Idempotent. Called by
 * `initBackend` after a backend loads; call it yourself after importing a backend package and
 * picking it with `tf.setBackend` directly. Kernels of backends not yet imported are skipped.
 *
 * @returns what this call registered (empty when already done).
 */
export function registerMsmoeKernels(): string[] {
  const added: string[] = [];
  if (!tf.getGradient(topKGradConfig.kernelName)) {
    tf.registerGradient(topKGradConfig);
    added.push('gradient:TopK');
  }
  for (const config of [unsortedSegmentSumGradConfig, ...LEAN_GRADIENTS]) {
    const current = tf.getGradient(config.kernelName);
    if (current?.gradFunc === config.gradFunc) continue;
    if (current) tf.unregisterGradient(config.kernelName);
    tf.registerGradient(config);
    added.push(`gradient:${config.kernelName} (replaced)`);
  }
  // Kernels for a backend are registered only once its package is loaded: loading it registers
  // its own kernels, which would overwrite (with a warning) anything registered before.
  const loaded = (config: tf.KernelConfig) => tf.findBackendFactory(config.backendName) != null;
  for (const config of ADDITIONS) {
    if (!loaded(config)) continue;
    if (!tf.getKernel(config.kernelName, config.backendName)) {
      tf.registerKernel(config);
      added.push(`kernel:${config.kernelName}@${config.backendName}`);
    }
  }
  for (const config of REPLACEMENTS) {
    if (!loaded(config)) continue;
    const current = tf.getKernel(config.kernelName, config.backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
    added.push(`kernel:${config.kernelName}@${config.backendName} (replaced)`);
  }
  return added;
}
