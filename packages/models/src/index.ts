/**
 * `@msmoe/models`: the MomentumSMoE authors' Transformer-XL-style MoE language model
 * ({@link MoELanguageModel}) with span attention and cache, architecture strings and presets;
 * ViT-MoE and Soft-MoE ViT ({@link MoEVisionTransformer}); the MoE layer ({@link moeLayer}: a
 * router and an expert bank) and the block structures an update rule sits in
 * ({@link applyUpdate}: paper, the authors' reference and reference-vmoe). Both models' forward
 * passes ({@link lmForward}, {@link vitForward}) are written once over a {@link ModelBackend}: tfjs
 * runs them to train and evaluate, and the ONNX exporter runs the same code over graph values.
 *
 * @packageDocumentation
 */
export * from './browser.js';
export { loadWeights, saveWeights } from './weights.js';
