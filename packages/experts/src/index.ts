/**
 * `@msmoe/experts`: expert FFN banks stored as stacked `[E, d, h]` tensors, sparse
 * dispatch/combine ({@link sparseMoE}) whose cost grows with the tokens routed, not with the
 * number of experts, and a dense oracle for tests ({@link denseMoE}). Routings come from
 * `@msmoe/router`; the MoE layer that joins both lives in `@msmoe/models`.
 *
 * @packageDocumentation
 */
export {
  ACTIVATIONS,
  type Activation,
  activate,
  ExpertBank,
  type ExpertBankConfig,
  type ExpertBankConfigInput,
  type ExpertForwardOptions,
  type ExpertInit,
  expertBankConfigSchema,
} from './bank.js';
export { type DispatchStrategy, denseMoE, type SparseMoEOptions, sparseMoE } from './dispatch.js';
