/**
 * `@msmoe/onnx`: ONNX export of msmoe models with the sparse routing inside the graph
 * ({@link exportLanguageModel}, {@link exportVisionTransformer}), on a small graph builder over
 * onnx-proto ({@link GraphBuilder}).
 *
 * @packageDocumentation
 */
export { type Attr, DT, GraphBuilder, readMetadata } from './graph.js';
export { exportLanguageModel, type LmExportOptions } from './lm.js';
export { graphOps, OnnxExportError } from './ops.js';
export { exportVisionTransformer, type VitExportOptions } from './vit.js';
