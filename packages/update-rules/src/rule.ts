import { z } from 'zod';
import type { Ops, Value } from './ops.js';

/** How a learnable coefficient is kept in range: `sigmoid(θ)` in (0, 1) or `softplus(θ)` > 0. */
export type Parametrisation = 'unit' | 'positive';

/** A coefficient as written in a config: a fixed number, or `{ init, learnable }` for a trained scalar. */
export type Coefficient = number | { init: number; learnable?: boolean };

/** Schema of a coefficient in a range: a number, or `{ init, learnable: true }`. */
export function coefficientSchema(range: { min: number; max?: number; exclusiveMin?: boolean }) {
  let n = range.exclusiveMin ? z.number().gt(range.min) : z.number().gte(range.min);
  if (range.max !== undefined) n = n.lt(range.max);
  return z.union([n, z.object({ init: n, learnable: z.boolean().default(true) }).strict()]);
}
/** μ, β ∈ [0, 1). */
export const unitCoefficient = coefficientSchema({ min: 0, max: 1 });
/** γ > 0. */
export const positiveCoefficient = coefficientSchema({ min: 0, exclusiveMin: true });

/** Rule state carried from one MoE layer to the next within a forward pass (numbers are zeros). */
export type RuleState<T, S extends string = string> = Record<S, Value<T>>;

/** What a rule sees at one MoE layer (`K`: its coefficient names, `S`: its state names). */
export interface RuleContext<T, K extends string = string, S extends string = string> {
  /** The backend's arithmetic. */
  ops: Ops<T>;
  /**
   * The MoE output `u`, evaluated at the current point moved by `shift` along the step the block
   * applies (none: at the point itself). Look-ahead rules (Nesterov, robust momentum, SAM) shift;
   * where the shift lands (before or after a LayerNorm, with which sign) is the structure's business.
   */
  moe(shift?: Value<T>): T;
  /** State from the previous MoE layer (zeros at the first). */
  state: RuleState<T, S>;
  /** Coefficient values by name: numbers when fixed, backend scalars when learnable. */
  k: Record<K, Value<T>>;
  /** 0-based index among the MoE layers. */
  layer: number;
}

/** What one update computes: the increment Δ (paper convention `x_{t+1} = x_t + Δ`) and the next state. */
export interface RuleStep<T, S extends string = string> {
  delta: Value<T>;
  state: RuleState<T, S>;
}

/**
 * One update rule over depth, written once against {@link Ops}: tfjs runs it on tensors and the
 * ONNX exporter on graph values. State is zero at the start of every forward pass, carried across
 * MoE layers and never detached.
 */
export interface RuleDef<
  C extends { rule: string } = { rule: string },
  K extends string = string,
  S extends string = string,
> {
  /** Config name (`heavy-ball`). */
  name: C['rule'];
  /** Architecture-string letter (`m`), where the rule has one. */
  letter?: string;
  /** Label prefix before the MoE family (`Momentum` + `SMoE`); see `ruleLabel`. */
  labelPrefix: string;
  /** Other names the CLI accepts (lower case). */
  aliases?: string[];
  /** One line for help texts and docs. */
  summary: string;
  /** Validated config with the authors' defaults. */
  schema: z.ZodType<C, unknown>;
  /** Config fields that are coefficients (fixed or learnable), with their range. */
  coefficients: Record<K, Parametrisation>;
  /** Sign of Δ in the authors' post-LN code: +1 for the residual rule, −1 for momentum rules (their code adds `h − m`). */
  referenceSign(c: C): 1 | -1;
  /** Zero state: the names of the state values. */
  state(c: C): S[];
  /** Δ and the next state at one MoE layer. */
  update<T>(ctx: RuleContext<T, K, S>, c: C): RuleStep<T, S>;
  /** Numbers derived from the config, for logs (robust momentum's α, β, c). */
  derived?(c: C): Record<string, number>;
  /** A rule wrapping another (SAM): the wrapped config. */
  inner?(c: C): { rule: string };
  /** Reference structure: whether the block at `layer` drops its inner residual (AdamSMoE's layer-0 code). */
  dropsInnerResidual?(c: C, layer: number): boolean;
}

/** Declares a rule (an identity that checks the record's types). */
export function defineRule<C extends { rule: string }, K extends string, S extends string>(
  def: RuleDef<C, K, S>,
): RuleDef<C, K, S> {
  return def;
}
