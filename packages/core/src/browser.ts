// @msmoe/core without Node's modules: what a browser bundle gets (the `browser` export
// condition). index.ts adds the file functions (atomic writes, .safetensors files).
export {
  BACKEND_NAMES,
  type BackendAttempt,
  type BackendChoice,
  type BackendLoader,
  type BackendName,
  BackendUnavailableError,
  backendOrder,
  DEFAULT_BACKEND_ORDER,
  defaultBackendLoader,
  detectEnvironment,
  type InitBackendOptions,
  initBackend,
  type RuntimeEnvironment,
  tfjsBackendName,
} from './backend.js';
export { maxAbsDiff, maxRelDiff } from './compare.js';
export {
  checkGradients,
  checkVariableGradients,
  type GradCheckOptions,
  type GradCheckResult,
} from './gradcheck.js';
export {
  calculateGain,
  computeFans,
  constantVariable,
  type Fans,
  type InitSpec,
  initSpecSchema,
  initTensor,
  initValues,
  initVariable,
  linearInit,
  type Nonlinearity,
} from './init.js';
export { EMPTY_KERNEL, emptyTensor } from './kernels/empty.js';
export { oneHotWasmConfig } from './kernels/one-hot.js';
export { registerMsmoeKernels } from './kernels/register.js';
export { unsortedSegmentSumGradConfig } from './kernels/segment-sum-grad.js';
export { topKGradConfig } from './kernels/topk-grad.js';
export {
  unsortedSegmentSumValues,
  unsortedSegmentSumWasmConfig,
} from './kernels/unsorted-segment-sum.js';
export {
  copySlice,
  sliceWasmConfig,
  splitVWasmConfig,
  unpackWasmConfig,
} from './kernels/wasm-slice.js';
export {
  assertNoTensorLeak,
  type LeakCheckOptions,
  type LeakCheckResult,
  TensorLeakError,
} from './memory.js';
export {
  linearCrossEntropy,
  type OutputLayerKernel,
  outputLayerKernel,
  setOutputLayerKernel,
  softmaxCrossEntropyRows,
} from './ops/cross-entropy.js';
export { dropout, dropoutMask } from './ops/dropout.js';
export { hostView, isHostBackend, readOnlyData } from './ops/host.js';
export { type LayerNormParams, layerNorm, layerNormParams } from './ops/layer-norm.js';
export { batchMatMul, linear, matmul } from './ops/matmul.js';
export { Rng, type RngState } from './rng.js';
export type {
  ExpertChoiceRouting,
  Routing,
  RoutingStats,
  SoftRouting,
  TokenChoiceRouting,
} from './routing.js';
export {
  DTYPE_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  type RawTensor,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
  SafetensorsError,
  type SafetensorsFile,
  withSafetensorsMetadata,
} from './safetensors/format.js';
export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './safetensors/half.js';
export {
  type FloatStorage,
  rawToTensor,
  type SaveSafetensorsOptions,
  safetensorsToTensors,
  tensorsToSafetensors,
} from './safetensors/tensors.js';
export { ConfigError, parseOrThrow, refineIssue } from './validate.js';
