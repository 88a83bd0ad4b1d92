/**
 * `@msmoe/corruptions`: robustness protocols on plain arrays (no TensorFlow.js). Text: the
 * MomentumSMoE "AAA" word-swap attack ({@link attackLine}, {@link attackSplits}, seeded and cached)
 * and text noise with severities ({@link noisyLine}).
 *
 * @packageDocumentation
 */
export * from './browser.js';
export { FROST_FILES, loadFrostImages } from './image/frost-files.js';
export { preview } from './image/preview-file.js';
export { type AttackedSplits, attackSplits } from './text/cache.js';
