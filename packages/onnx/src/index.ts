/**
 * `@msmoe/onnx`: ONNX export of msmoe models with the sparse routing inside the graph
 * ({@link exportLanguageModel}), on a small graph builder over onnx-proto ({@link GraphBuilder}).
 *
 * @packageDocumentation
 */
export { type Attr, DT, GraphBuilder, readMetadata } from './graph.js';
export { exportLanguageModel, type LmExportOptions, OnnxExportError } from './lm.js';
