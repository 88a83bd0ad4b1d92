import type * as tf from '@tensorflow/tfjs';
import type { RuleName } from './config.js';

/** The MoE of one layer as a function of its input (so a rule can evaluate it at a shifted point). */
export type MoEFunction = (x: tf.Tensor) => tf.Tensor;

/** State carried from one MoE layer to the next inside one forward pass. */
export type RuleState = Record<string, tf.Tensor>;

/** What one update computes: the increment Δ (paper convention `x_{t+1} = x_t + Δ`) and the next state. */
export interface RuleUpdate<S extends RuleState = RuleState> {
  /** Increment Δ, same shape as x. */
  delta: tf.Tensor;
  /** State for the next MoE layer. */
  state: S;
}

/**
 * One optimiser step over depth. State is zero at the start of every forward pass
 * ({@link UpdateRule.init}), carried across MoE layers (dense and attention layers pass it
 * through unchanged) and never detached, so gradients flow through it.
 */
export interface UpdateRule<S extends RuleState = RuleState> {
  /** Rule name. */
  readonly name: RuleName;
  /**
   * Sign of Δ in the authors' post-LN code (`reference` structure): +1 for the residual rule,
   * −1 for the momentum rules, whose code adds `h − m` (the experts' last layer absorbs it).
   */
  readonly referenceSign: 1 | -1;
  /** Zero state for a forward pass over tokens shaped like `x`. */
  init(x: tf.Tensor): S;
  /** Δ and the next state at MoE layer `layer` (0-based index among MoE layers). */
  update(x: tf.Tensor, moe: MoEFunction, state: S, layer: number): RuleUpdate<S>;
  /** Paper form: `x_{t+1} = x_t + Δ`. */
  step(x: tf.Tensor, moe: MoEFunction, state: S, layer: number): { x: tf.Tensor; state: S };
  /** Learnable coefficients by name (empty when all are fixed). */
  variables(): Record<string, tf.Variable>;
  /** Current coefficient values (for logging learnable μ/γ). */
  coefficients(): Record<string, number>;
}
