import type { Ops, RuleConfig, RuleDef, RuleState, Value } from '@msmoe/update-rules';

/**
 * Where the update sits in an MoE block:
 * - `paper`: `x_{t+1} = x_t + Δ`, the MoE behind the model's pre-LN;
 * - `reference`: the authors' language-model code, a post-LN double residual
 *   `x_{t+1} = LN_out(x + LN_inner(x + s·Δ))` with s the rule's reference sign;
 * - `reference-vmoe`: the authors' V-MoE code, `x_{t+1} = LN_out(x + s·Δ)`.
 */
export type UpdateStructure = 'paper' | 'reference' | 'reference-vmoe';

/** One MoE block's parts on some backend (tfjs tensors, ONNX graph values). */
export interface BlockParts<T> {
  ops: Ops<T>;
  /** The MoE (router + experts) on its input. */
  moe(input: T): T;
  /** The model's LayerNorm in front of the MoE (paper LM, ViTs), if any. */
  preNorm?: (x: T) => T;
  /** The structure's LayerNorm inside the double residual (`reference`). */
  innerNorm?: (x: T) => T;
  /** The structure's LayerNorm on the block output (`reference`, `reference-vmoe`). */
  outNorm?: (x: T) => T;
}

/** A configured rule: its registry record and config. */
export interface BoundRule {
  def: RuleDef<RuleConfig>;
  config: RuleConfig;
}

/**
 * One MoE block: the rule's step placed in the structure. Look-ahead points (Nesterov, robust
 * momentum, SAM) move along the step the block applies, never against it: `x + s·shift` before the
 * LayerNorms in `paper`/`reference` (spec §3 item 5), `LN(x) + s·shift` after the pre-LN in
 * `reference-vmoe` (spec §3 item 3), with s = +1 in `paper`.
 */
export function applyUpdate<T>(
  structure: UpdateStructure,
  rule: BoundRule,
  k: Record<string, Value<T>>,
  parts: BlockParts<T>,
  x: T,
  state: RuleState<T>,
  layer: number,
): { x: T; state: RuleState<T> } {
  const { ops } = parts;
  const sign = structure === 'paper' ? 1 : rule.def.referenceSign(rule.config);
  const along = (a: Value<T>, v: Value<T>) => (sign === 1 ? ops.add(a, v) : ops.sub(a, v));
  const pre = parts.preNorm ?? ((t: T) => t);
  let normed: T | undefined;
  const moe = (shift?: Value<T>): T => {
    if (structure !== 'reference-vmoe') return parts.moe(pre(along(x, shift ?? 0) as T));
    normed ??= pre(x);
    return parts.moe(along(normed, shift ?? 0) as T);
  };
  const step = rule.def.update({ ops, moe, state, k, layer }, rule.config);
  const delta = step.delta;
  if (structure === 'paper') return { x: ops.add(x, delta) as T, state: step.state };
  const outNorm = required(parts.outNorm, 'outNorm', structure);
  if (structure === 'reference-vmoe')
    return { x: outNorm(along(x, delta) as T), state: step.state };
  const innerNorm = required(parts.innerNorm, 'innerNorm', structure);
  const drops = rule.def.dropsInnerResidual?.(rule.config, layer) ?? false;
  const inner = innerNorm((drops ? along(0, delta) : along(x, delta)) as T);
  return { x: outNorm(ops.add(x, inner) as T), state: step.state };
}

function required<F>(f: F | undefined, name: string, structure: UpdateStructure): F {
  if (!f) throw new Error(`applyUpdate: structure "${structure}" needs ${name}`);
  return f;
}

/** The LayerNorms a structure adds to each MoE block. */
export function structureNorms(structure: UpdateStructure): ('inner' | 'out')[] {
  return structure === 'reference'
    ? ['inner', 'out']
    : structure === 'reference-vmoe'
      ? ['out']
      : [];
}
