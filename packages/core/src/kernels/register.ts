import * as tf from '@tensorflow/tfjs';
import { oneHotWasmConfig } from './one-hot.js';
import { topKGradConfig } from './topk-grad.js';
import { unsortedSegmentSumWasmConfig } from './unsorted-segment-sum.js';

/** Kernels msmoe replaces because the shipped ones compute wrong values. */
const REPLACEMENTS: readonly tf.KernelConfig[] = [oneHotWasmConfig];
/** Kernels msmoe adds where tfjs ships none. */
const ADDITIONS: readonly tf.KernelConfig[] = [unsortedSegmentSumWasmConfig];

/**
 * Registers what TensorFlow.js lacks or gets wrong for MoE training: a TopK gradient (all
 * backends), an UnsortedSegmentSum kernel for wasm (so `tf.gather` has a gradient there), and a
 * correct OneHot kernel for wasm (the shipped one ignores `dtype`). Idempotent. Called by
 * `initBackend`; call it yourself if you pick the backend with `tf.setBackend` directly.
 *
 * @returns what this call registered (empty when already done).
 */
export function registerMsmoeKernels(): string[] {
  const added: string[] = [];
  if (!tf.getGradient(topKGradConfig.kernelName)) {
    tf.registerGradient(topKGradConfig);
    added.push('gradient:TopK');
  }
  for (const config of ADDITIONS) {
    if (!tf.getKernel(config.kernelName, config.backendName)) {
      tf.registerKernel(config);
      added.push(`kernel:${config.kernelName}@${config.backendName}`);
    }
  }
  for (const config of REPLACEMENTS) {
    const current = tf.getKernel(config.kernelName, config.backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
    added.push(`kernel:${config.kernelName}@${config.backendName} (replaced)`);
  }
  return added;
}
