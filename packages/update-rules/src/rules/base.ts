import * as tf from '@tensorflow/tfjs';
import { type Parametrisation, RuleCoefficient } from '../coefficient.js';
import type { Coefficient, RuleName } from '../config.js';
import type { MoEFunction, RuleState, RuleUpdate, UpdateRule } from '../types.js';

/** Shared plumbing of the rules: coefficients, the paper-form step, variables. */
export abstract class BaseRule<S extends RuleState> implements UpdateRule<S> {
  abstract readonly name: RuleName;
  readonly referenceSign: 1 | -1 = -1;
  private readonly coefficientList: RuleCoefficient[] = [];

  /** Registers a coefficient (fixed or learnable). */
  protected coefficient(
    name: string,
    spec: Coefficient,
    parametrisation: Parametrisation,
  ): RuleCoefficient {
    const c = new RuleCoefficient(name, spec, parametrisation);
    this.coefficientList.push(c);
    return c;
  }

  abstract init(x: tf.Tensor): S;
  abstract update(x: tf.Tensor, moe: MoEFunction, state: S, layer: number): RuleUpdate<S>;

  step(x: tf.Tensor, moe: MoEFunction, state: S, layer: number): { x: tf.Tensor; state: S } {
    const { delta, state: next } = this.update(x, moe, state, layer);
    return { x: tf.add(x, delta), state: next };
  }

  variables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const c of this.coefficientList) if (c.variable) out[c.name] = c.variable;
    return out;
  }

  coefficients(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.coefficientList) out[c.name] = c.read();
    return out;
  }
}
