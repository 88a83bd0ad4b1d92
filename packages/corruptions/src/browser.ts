// @msmoe/corruptions without Node's modules: what a browser bundle gets (the `browser` export
// condition). index.ts adds what reads or writes files.
export {
  ALEXNET_ERRORS,
  BENCHMARK_CORRUPTIONS,
  CORRUPTIONS,
  type CorruptionName,
  EXTRA_CORRUPTIONS,
  FROST_TEXTURES,
  PROFILES,
  type Profile,
  profileForSize,
  type Row,
  TABLE,
  ZOOM_STEPS,
} from './image/constants.js';
export { type CorruptOptions, corrupt, proceduralFrost } from './image/corrupt.js';
export {
  CorruptionError,
  checkImage,
  fromPlanes,
  gray,
  type Image,
  type Planes,
  psnr,
  toPlanes,
} from './image/image.js';
export { jpegRoundTrip, qualityScale, quantTable } from './image/jpeg.js';
export {
  ALEXNET,
  type Baseline,
  type CorruptionErrors,
  type MceResult,
  mce,
} from './image/metrics.js';
export {
  corruptMnistC,
  line,
  MNIST_C_CORRUPTIONS,
  type MnistCCorruption,
  mnistCSet,
  warpInverse,
} from './image/mnist-c.js';
export { blur3, canny, distanceTransform, equalizeHist, filter2dU8 } from './image/opencv.js';
export {
  encodePng,
  type PreviewOptions,
  previewGrid,
  type TileOptions,
  tileImages,
} from './image/preview.js';
export {
  affineFromPoints,
  type Boundary,
  boundaryIndex,
  boxResize,
  correlate1d,
  correlate2d,
  diskKernel,
  gaussianFilter,
  gaussianKernel,
  motionBlur,
  plasma,
  poisson,
  resizeBilinearAligned,
  roundHalfEven,
  sampleBilinear,
  warpAffine,
  zoomCrop,
} from './image/primitives.js';
export { type CorruptedBlock, corruptedSuite, corruptSet } from './image/sets.js';
export {
  ATTACK_TOKEN,
  type AttackedLine,
  type AttackOptions,
  attackLine,
  attackLines,
  STOPWORDS,
  wordsFromText,
} from './text/attack.js';
export {
  noisyLine,
  noisyLines,
  TEXT_NOISE_RATES,
  TEXT_NOISES,
  type TextNoise,
} from './text/noise.js';
