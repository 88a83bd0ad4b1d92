import { constantVariable } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import type { Coefficient } from './config.js';

/** How a learnable coefficient is kept in range. */
export type Parametrisation = 'unit' | 'positive';

/**
 * A rule coefficient (μ, γ, β…): a fixed number, or a trainable scalar kept in range by its
 * parametrisation, `sigmoid(θ)` for values in (0, 1) and `softplus(θ)` for positive values.
 */
export class RuleCoefficient {
  /** The trainable parameter θ (null when fixed). */
  readonly variable: tf.Variable | null;
  private readonly fixed: number;

  constructor(
    readonly name: string,
    spec: Coefficient,
    readonly parametrisation: Parametrisation,
  ) {
    if (typeof spec === 'number' || spec.learnable === false) {
      this.fixed = typeof spec === 'number' ? spec : spec.init;
      this.variable = null;
      return;
    }
    this.fixed = spec.init;
    const v = spec.init;
    if (parametrisation === 'unit' && !(v > 0 && v < 1)) {
      throw new Error(`${name}: a learnable value must start in (0, 1), got ${v}`);
    }
    const theta = parametrisation === 'unit' ? Math.log(v / (1 - v)) : Math.log(Math.expm1(v));
    this.variable = constantVariable([], theta);
  }

  /** Current value: a number when fixed, a differentiable scalar when learnable. */
  value(): number | tf.Scalar {
    if (!this.variable) return this.fixed;
    return (
      this.parametrisation === 'unit' ? tf.sigmoid(this.variable) : tf.softplus(this.variable)
    ) as tf.Scalar;
  }

  /** Current value as a plain number (for logging). */
  read(): number {
    if (!this.variable) return this.fixed;
    return tf.tidy(() => (this.value() as tf.Scalar).dataSync()[0] as number);
  }
}

/** `a · t` where `a` may be a number or a scalar tensor. */
export function scale(a: number | tf.Scalar, t: tf.Tensor): tf.Tensor {
  return typeof a === 'number' && a === 1 ? t : tf.mul(t, a);
}

/** `1 − a` for a number or a scalar tensor. */
export function oneMinus(a: number | tf.Scalar): number | tf.Scalar {
  return typeof a === 'number' ? 1 - a : (tf.sub(1, a) as tf.Scalar);
}

/** `a^t` for a number or a scalar tensor. */
export function power(a: number | tf.Scalar, t: number): number | tf.Scalar {
  return typeof a === 'number' ? a ** t : (tf.pow(a, t) as tf.Scalar);
}
