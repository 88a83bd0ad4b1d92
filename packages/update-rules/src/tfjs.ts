import { ConfigError, constantVariable } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { foldingOps, type Ops, type Value } from './ops.js';
import { parseRuleConfig, type RuleConfig, type RuleConfigInput, ruleDef } from './registry.js';
import type { Coefficient, Parametrisation, RuleDef, RuleState } from './rule.js';

/**
 * `a / √(b + eps)` with its own gradient: the default one recomputes the square root and takes
 * twice the kernels (`∂/∂a = dy/s`, `∂/∂b = −½ · (dy/s) · (y/s)` with `s = √(b + eps)`, `y = a/s`).
 */
function divSqrt(a: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const op = tf.customGrad(((x: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
    const s = tf.sqrt(tf.add(v, eps));
    const y = tf.div(x, s);
    save([s, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sv, yv]: tf.Tensor[]) => {
        const da = tf.div(dy, sv as tf.Tensor);
        return [da, tf.mul(tf.mul(da, tf.div(yv as tf.Tensor, sv as tf.Tensor)), -0.5)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (
    x: tf.Tensor,
    v: tf.Tensor,
  ) => tf.Tensor;
  return op(a, b);
}

const asTensor = (v: Value<tf.Tensor>) => (typeof v === 'number' ? tf.scalar(v) : v);

/** {@link Ops} on tfjs tensors (numbers broadcast as scalars). */
export const tfOps: Ops<tf.Tensor> = foldingOps<tf.Tensor>({
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  neg: (a) => tf.neg(a),
  sqrt: (a) => tf.sqrt(a),
  square: (a) => tf.square(a),
  pow: (a, n) => tf.pow(a, n),
  norm: (a) => tf.norm(a),
  divSqrt: (a, b, eps) => {
    const [x, v] = [asTensor(a), asTensor(b)];
    // The fused gradient needs both operands of one shape (the rules' case); else the plain ops.
    if (x.shape.join() !== v.shape.join()) return tf.div(x, tf.sqrt(tf.add(v, eps)));
    return divSqrt(x, v, eps);
  },
});

/** The MoE of one layer as a function of its input (so a rule can evaluate it at a shifted point). */
export type MoEFunction = (x: tf.Tensor) => tf.Tensor;

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
    this.fixed = typeof spec === 'number' ? spec : spec.init;
    if (typeof spec === 'number' || spec.learnable === false) {
      this.variable = null;
      return;
    }
    const v = spec.init;
    if (parametrisation === 'unit' && !(v > 0 && v < 1))
      throw new ConfigError(`${name}: a learnable value must start in (0, 1), got ${v}`, name);
    const theta = parametrisation === 'unit' ? Math.log(v / (1 - v)) : Math.log(Math.expm1(v));
    this.variable = constantVariable([], theta);
  }

  /** Current value: a number when fixed, a differentiable scalar when learnable. */
  value(): Value<tf.Tensor> {
    if (!this.variable) return this.fixed;
    return this.parametrisation === 'unit' ? tf.sigmoid(this.variable) : tf.softplus(this.variable);
  }

  /** Current value as a plain number (for logging and export). */
  read(): number {
    if (!this.variable) return this.fixed;
    return tf.tidy(() => (this.value() as tf.Tensor).dataSync()[0] as number);
  }
}

/** The chain of a configured rule (SAM, then the rule it wraps). */
function chain(c: RuleConfig): { def: RuleDef<RuleConfig>; config: RuleConfig }[] {
  const def = ruleDef(c.rule);
  const inner = def.inner?.(c) as RuleConfig | undefined;
  return [{ def, config: c }, ...(inner ? chain(inner) : [])];
}

/**
 * A configured update rule on tfjs: the registry's record with its coefficients (fixed numbers or
 * trainable scalars). The maths is the record's; this only binds it to tensors.
 */
export class UpdateRule {
  /** Validated configuration. */
  readonly config: RuleConfig;
  /** The registry record. */
  readonly def: RuleDef<RuleConfig>;
  private readonly coefs: RuleCoefficient[] = [];

  /** Binds a validated config (see {@link createUpdateRule} and `parseRuleConfig`). */
  constructor(config: RuleConfig) {
    this.config = config;
    this.def = ruleDef(this.config.rule);
    for (const { def, config: c } of chain(this.config))
      for (const [name, p] of Object.entries(def.coefficients) as [string, Parametrisation][])
        this.coefs.push(
          new RuleCoefficient(name, (c as Record<string, unknown>)[name] as Coefficient, p),
        );
  }

  /** Rule name. */
  get name(): RuleConfig['rule'] {
    return this.config.rule;
  }

  /** Sign of Δ in the authors' post-LN structures. */
  get referenceSign(): 1 | -1 {
    return this.def.referenceSign(this.config);
  }

  /** Coefficient values for one forward pass (learnable ones as differentiable scalars). */
  values(): Record<string, Value<tf.Tensor>> {
    return Object.fromEntries(this.coefs.map((c) => [c.name, c.value()]));
  }

  /**
   * Zero state at the start of a forward pass: the number 0 for each state value until a layer
   * writes it (a constant for any backend, so the first layer's `μ·0` costs nothing).
   */
  init<T = tf.Tensor>(): RuleState<T> {
    return Object.fromEntries(this.def.state(this.config).map((n) => [n, 0]));
  }

  /**
   * Δ and the next state at MoE layer `layer`; `moe(shift)` is the MoE output at the current point
   * moved by `shift` along the step (see {@link RuleContext.moe}).
   */
  update(
    moe: (shift?: Value<tf.Tensor>) => tf.Tensor,
    state: RuleState<tf.Tensor>,
    layer: number,
    k: Record<string, Value<tf.Tensor>> = this.values(),
  ): { delta: tf.Tensor; state: RuleState<tf.Tensor> } {
    const r = this.def.update({ ops: tfOps, moe, state, k, layer }, this.config);
    return { delta: r.delta as tf.Tensor, state: r.state };
  }

  /** The paper form on a plain function: `x_{t+1} = x_t + Δ`, look-aheads evaluated at `x + shift`. */
  step(
    x: tf.Tensor,
    moe: MoEFunction,
    state: RuleState<tf.Tensor>,
    layer: number,
  ): { x: tf.Tensor; state: RuleState<tf.Tensor> } {
    const at = (shift?: Value<tf.Tensor>) => moe(tfOps.add(x, shift ?? 0) as tf.Tensor);
    const { delta, state: next } = this.update(at, state, layer);
    return { x: tf.add(x, delta), state: next };
  }

  /** Learnable coefficients by name (empty when all are fixed). */
  variables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const c of this.coefs) if (c.variable) out[c.name] = c.variable;
    return out;
  }

  /** Current coefficient values as numbers (learned ones read back): what an exporter bakes in. */
  coefficientValues(): Record<string, number> {
    return Object.fromEntries(this.coefs.map((c) => [c.name, c.read()]));
  }

  /** Everything worth logging: coefficients, derived numbers (robust α, β, c) and the fixed settings of the chain. */
  coefficients(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { def, config } of chain(this.config)) {
      for (const [k, v] of Object.entries(config)) if (typeof v === 'number') out[k] = v;
      Object.assign(out, def.derived?.(config));
    }
    return { ...out, ...this.coefficientValues() };
  }
}

/**
 * Builds an update rule from a plain configuration, validated at the door.
 *
 * @example
 * ```ts
 * createUpdateRule({ rule: 'heavy-ball', mu: 0.7, gamma: 1 });
 * createUpdateRule({ rule: 'heavy-ball', mu: { init: 0.7, learnable: true } });
 * createUpdateRule({ rule: 'sam', rho: 0.05, inner: { rule: 'adam' } });
 * createUpdateRule('m'); // a letter, name or label
 * ```
 */
export function createUpdateRule(config: RuleConfigInput | string): UpdateRule {
  return new UpdateRule(parseRuleConfig(config));
}
