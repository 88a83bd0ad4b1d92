import { type LayerNormParams, layerNormParams } from '@msmoe/core';
import type * as tf from '@tensorflow/tfjs';

/**
 * A model's trainable weights by stable name (the safetensors layout), registered where each is
 * made, so a name is written once; `all()` keeps the registration order.
 */
export class ParamRegistry {
  private readonly byName: Record<string, tf.Variable> = {};

  /** Registers `v` as `name` and returns it. */
  add<V extends tf.Variable>(name: string, v: V): V {
    if (name in this.byName) throw new Error(`parameter "${name}" registered twice`);
    this.byName[name] = v;
    return v;
  }

  /** Registers each of `vars` as `<prefix>.<name>`. */
  addAll(prefix: string, vars: Record<string, tf.Variable>): void {
    for (const [n, v] of Object.entries(vars)) this.add(`${prefix}.${n}`, v);
  }

  /** A new LayerNorm's γ and β, registered as `<prefix>.weight` and `<prefix>.bias`. */
  layerNorm(prefix: string, d: number): LayerNormParams {
    const p = layerNormParams(d);
    this.add(`${prefix}.weight`, p.gamma);
    this.add(`${prefix}.bias`, p.beta);
    return p;
  }

  /** The weight registered as `name`. */
  get(name: string): tf.Variable {
    const v = this.byName[name];
    if (!v) throw new Error(`parameter "${name}" is not registered`);
    return v;
  }

  /** Every weight by name (a copy), in registration order. */
  all(): Record<string, tf.Variable> {
    return { ...this.byName };
  }
}
