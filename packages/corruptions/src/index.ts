/**
 * `@msmoe/corruptions`: robustness protocols on plain arrays (no TensorFlow.js). Text: the
 * MomentumSMoE "AAA" word-swap attack ({@link attackLine}, {@link attackSplits}, seeded and cached)
 * and text noise with severities ({@link noisyLine}).
 *
 * @packageDocumentation
 */
export {
  ATTACK_TOKEN,
  type AttackedLine,
  type AttackOptions,
  attackLine,
  attackLines,
  STOPWORDS,
  wordsFromText,
} from './text/attack.js';
export { type AttackedSplits, attackSplits } from './text/cache.js';
export {
  noisyLine,
  noisyLines,
  TEXT_NOISE_RATES,
  TEXT_NOISES,
  type TextNoise,
} from './text/noise.js';
