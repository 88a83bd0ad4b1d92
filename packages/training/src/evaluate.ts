import { batchify, type ImageSet, lmBatchCount, lmBatches, normalize } from '@msmoe/datasets';
import { MoELanguageModel, type MoEVisionTransformer } from '@msmoe/models';
import { topExpert } from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';

/** Language-model evaluation over a whole split. */
export interface LmEvaluation {
  /** Mean NLL per token (nats). */
  nll: number;
  /** exp(nll). */
  perplexity: number;
  /** Tokens scored. */
  tokens: number;
}

/**
 * Perplexity of a token stream, as the authors evaluate: B contiguous streams, blocks of M tokens
 * in order, caches carried, no dropout; every token scored once (the last block may be shorter).
 */
export function evaluateLm(
  model: MoELanguageModel,
  stream: Int32Array,
  options: {
    batchSize?: number;
    maxBlocks?: number;
    /** Called after each block with the blocks done and the blocks this evaluation covers. */
    onBlock?: (done: number, total: number) => void;
  } = {},
): LmEvaluation {
  const B = options.batchSize ?? 10;
  const batched = batchify(stream, B);
  const total = Math.min(
    options.maxBlocks ?? Number.POSITIVE_INFINITY,
    lmBatchCount(batched, model.config.blockLength),
  );
  let caches = model.initialCaches(B);
  let sum = 0;
  let tokens = 0;
  let blocks = 0;
  try {
    for (const batch of lmBatches(batched, model.config.blockLength)) {
      if (options.maxBlocks !== undefined && blocks >= options.maxBlocks) break;
      const next = tf.tidy(() => {
        const out = model.loss(batch.input, batch.target, B, caches);
        const nll = out.nll.dataSync()[0] as number;
        sum += nll * batch.input.length;
        return out.caches;
      });
      tf.dispose(caches);
      caches = next;
      tokens += batch.input.length;
      blocks += 1;
      options.onBlock?.(blocks, total);
    }
  } finally {
    tf.dispose(caches);
  }
  const nll = sum / tokens;
  return { nll, perplexity: Math.exp(nll), tokens };
}

/** Clean and attacked perplexity side by side (the attacked text is the same split, word-swapped). */
export function evaluateLmRobustness(
  model: MoELanguageModel,
  splits: { clean: Int32Array; attacked: Int32Array },
  options: { batchSize?: number; maxBlocks?: number } = {},
): { clean: LmEvaluation; attacked: LmEvaluation; gap: number } {
  const clean = evaluateLm(model, splits.clean, options);
  const attacked = evaluateLm(model, splits.attacked, options);
  return { clean, attacked, gap: attacked.perplexity - clean.perplexity };
}

/** Classification evaluation over a whole set. */
export interface ClassifierEvaluation {
  /** Top-1 accuracy in [0, 1]. */
  accuracy: number;
  /** Mean NLL. */
  nll: number;
  /** Images scored. */
  count: number;
}

/**
 * Top-1 accuracy and NLL of a ViT over every image of a set (0..255 pixels, normalised with the
 * training statistics `stats`), in batches, no dropout.
 */
export function evaluateClassifier(
  model: MoEVisionTransformer,
  set: ImageSet,
  stats: { mean: number[]; std: number[] },
  options: { batchSize?: number } = {},
): ClassifierEvaluation {
  const B = options.batchSize ?? 250;
  const size = set.height * set.width * set.channels;
  const images = normalize(set, stats);
  let correct = 0;
  let nllSum = 0;
  for (let start = 0; start < set.count; start += B) {
    const n = Math.min(B, set.count - start);
    const labels = Int32Array.from(set.labels.subarray(start, start + n));
    const [pred, nll] = tf.tidy(() => {
      const { logits } = model.forward(images.subarray(start * size, (start + n) * size), n);
      return [
        tf.argMax(logits, 1).dataSync() as Int32Array,
        MoELanguageModel.nll(logits, labels).dataSync()[0] as number,
      ] as const;
    });
    for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct += 1;
    nllSum += nll * n;
  }
  return { accuracy: correct / set.count, nll: nllSum / set.count, count: set.count };
}

/**
 * Accuracy on the clean set and on each corrupted copy of it (e.g. MNIST-C, or one corruption at
 * one severity per entry), with the mean error over corruptions. For ImageNet-C-style mCE pass
 * the errors to `mce` of `@msmoe/corruptions`.
 */
export function evaluateCorrupted(
  model: MoEVisionTransformer,
  clean: ImageSet,
  corrupted: Record<string, ImageSet>,
  stats: { mean: number[]; std: number[] },
  options: { batchSize?: number } = {},
): { clean: number; accuracy: Record<string, number>; meanCorruptedError: number } {
  const accuracy: Record<string, number> = {};
  for (const [name, set] of Object.entries(corrupted))
    accuracy[name] = evaluateClassifier(model, set, stats, options).accuracy;
  const names = Object.keys(accuracy);
  return {
    clean: evaluateClassifier(model, clean, stats, options).accuracy,
    accuracy,
    meanCorruptedError: names.length
      ? names.reduce((s, n) => s + (1 - (accuracy[n] as number)), 0) / names.length
      : Number.NaN,
  };
}

/**
 * Top-1 expert of every token of a fixed probe batch, one array per MoE layer: compare two of
 * them with `routingChange` of `@msmoe/router` to measure how much routing moved between
 * evaluations (the paper's routing-stability measure).
 */
export function probeRouting(
  forward: () => { routings: Parameters<typeof topExpert>[0][] },
): Int32Array[] {
  return tf.tidy(() => forward().routings.map((r) => topExpert(r)));
}
