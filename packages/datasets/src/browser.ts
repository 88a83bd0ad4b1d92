// @msmoe/datasets without Node's modules: what a browser bundle gets (the `browser` export
// condition). index.ts adds what reads or writes files.
export { type DatasetCard, DatasetError, describe } from './card.js';
export { CIFAR10_CARD, CIFAR10_CLASSES, decodeCifarBatch } from './images/cifar.js';
export {
  DEBIAN_FASHION_MNIST,
  decodeIdx,
  FASHION_MNIST_CARD,
  FASHION_MNIST_CLASSES,
  IDX_FILES,
  type IdxArray,
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
export { WIKITEXT_LAYOUTS, WIKITEXT103_CARD } from './text/wikitext.js';
