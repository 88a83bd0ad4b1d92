import * as tf from '@tensorflow/tfjs';
import { oneHotWasmConfig } from './one-hot.js';
import { unsortedSegmentSumGradConfig } from './segment-sum-grad.js';
import { topKGradConfig } from './topk-grad.js';
import {
  unsortedSegmentSumCpuConfig,
  unsortedSegmentSumWasmConfig,
} from './unsorted-segment-sum.js';
import { sliceWasmConfig, splitVWasmConfig, unpackWasmConfig } from './wasm-slice.js';

/** Kernels msmoe replaces because the shipped ones compute wrong values or are far too slow. */
const REPLACEMENTS: readonly tf.KernelConfig[] = [
  oneHotWasmConfig,
  unsortedSegmentSumCpuConfig,
  sliceWasmConfig,
  unpackWasmConfig,
  splitVWasmConfig,
];
/** Kernels msmoe adds where tfjs ships none. */
const ADDITIONS: readonly tf.KernelConfig[] = [unsortedSegmentSumWasmConfig];

/**
 * Registers what TensorFlow.js lacks or gets wrong for MoE training: a TopK gradient and a
 * mask-free UnsortedSegmentSum gradient (all backends), an UnsortedSegmentSum kernel for wasm (so `tf.gather` has a gradient there), a
 * linear-time UnsortedSegmentSum for cpu (the shipped one is O(segments × size)), a correct
 * OneHot kernel for wasm (the shipped one ignores `dtype`), and Slice / Unpack / SplitV kernels
 * for wasm that read their input in place (the shipped ones copy the whole input per output). Idempotent. Called by
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
  const segGrad = tf.getGradient(unsortedSegmentSumGradConfig.kernelName);
  if (segGrad?.gradFunc !== unsortedSegmentSumGradConfig.gradFunc) {
    if (segGrad) tf.unregisterGradient(unsortedSegmentSumGradConfig.kernelName);
    tf.registerGradient(unsortedSegmentSumGradConfig);
    added.push('gradient:UnsortedSegmentSum (replaced)');
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
