/**
 * `@msmoe/core`: the TensorFlow.js layer every msmoe package stands on.
 *
 * - {@link initBackend}: picks the fastest backend available (native GPU/CPU bindings when the user
 *   installed them, XNNPACK wasm, pure JS) and registers the kernels tfjs lacks for MoE training.
 * - {@link linear} and {@link matmul}: values and gradients equal to tfjs's, with a backward pass
 *   that only issues plain matMuls (several times faster on wasm).
 * - PyTorch-equivalent initialisers and a backend-independent seeded {@link Rng}.
 * - safetensors reading and writing, so checkpoints open from Python.
 * - {@link assertNoTensorLeak} for memory tests.
 *
 * @packageDocumentation
 */
export * from './browser.js';
export { isAtomicTempFile, removeAtomicTempFiles, writeFileAtomic } from './fs.js';
export { loadSafetensors, saveSafetensors } from './safetensors/files.js';
