// The models' forward passes, written once over a backend: tfjs runs them on tensors (training,
// evaluation) and the ONNX exporter on graph values, so an export cannot drift from the model.
import type { Ops, RuleState, UpdateRule, Value } from '@msmoe/update-rules';
import type { LmConfig } from './lm/config.js';
import { applyUpdate } from './structure.js';
import type { VitConfig } from './vision/vit.js';

/**
 * What a forward pass is written against: the update rules' arithmetic and the layers whose kernels
 * differ by backend, each weight addressed by its stable name (`layers.1.ln.weight`).
 */
export interface ModelBackend<T> {
  /** The arithmetic the update rules and residual additions use. */
  ops: Ops<T>;
  /** The update rule's coefficient values (tfjs: learnable ones differentiable; ONNX: numbers). */
  coefficients: Record<string, Value<T>>;
  /** LayerNorm over the last axis with the weights `<name>.weight`, `<name>.bias`. */
  layerNorm(x: T, name: string, eps?: number): T;
  /** `x · W + b` with the named weights. */
  linear(x: T, weight: string, bias: string): T;
  /** ReLU, or the exact GELU `0.5·x·(1 + erf(x/√2))`. */
  activation(x: T, kind: 'relu' | 'gelu'): T;
  /** Dropout at the model's rate in training; the identity otherwise. */
  dropout(x: T): T;
  /** The MoE layer `<name>` (router and experts), the `index`-th of the model. */
  moe(x: T, name: string, index: number): T;
  /** Marks where a part of the forward starts and ends (a profiling seam); the identity by default. */
  mark?(x: T, part: string, edge: 'start' | 'end'): T;
  /** The input embedding: token embeddings `[B, M, d]` (LM), or patches, class token and positions (ViT). */
  embed(): T;
  /** The attention sub-layer `<name>.attn` on its (normalised) input, the `index`-th of the model. */
  attention(x: T, name: string, index: number): T;
}

/** `x` through the backend's profiling mark, if it has one. */
const marked = <T>(be: ModelBackend<T>, x: T, part: string, edge: 'start' | 'end') =>
  be.mark?.(x, part, edge) ?? x;

/** Whether ViT block `i` is an MoE block: the last of each group of `moeEvery` (V-MoE: 1, 3, 5, …). */
export const isMoeBlock = (c: VitConfig, i: number) => i % c.moeEvery === c.moeEvery - 1;

/** The LM's hidden state `[B, M, d]` before the output layer (final LayerNorm applied). */
export function lmForward<T>(c: LmConfig, rule: UpdateRule, be: ModelBackend<T>): T {
  const add = (a: T, b: T) => be.ops.add(a, b) as T;
  const mark = (x: T, part: string, edge: 'start' | 'end') => marked(be, x, part, edge);
  const paper = c.structure === 'paper';
  let h = be.embed();
  let state: RuleState<T> = rule.init<T>();
  let [attention, moe] = [0, 0];
  [...c.architecture].forEach((letter, i) => {
    const p = `layers.${i}`;
    const ln = (x: T, n = 'ln') => be.layerNorm(x, `${p}.${n}`);
    const part = letter === 's' ? 'attention' : letter === 'f' ? 'dense' : 'block';
    h = mark(h, part, 'start');
    if (part === 'block') {
      const t = moe++;
      const parts = {
        ops: be.ops,
        moe: (x: T) => be.moe(x, `${p}.moe`, t),
        preNorm: paper ? ln : undefined,
        innerNorm: paper ? undefined : (x: T) => ln(x, 'ln_inner'),
        outNorm: paper ? undefined : (x: T) => ln(x, 'ln_out'),
      };
      ({ x: h, state } = applyUpdate(c.structure, rule, be.coefficients, parts, h, state, t));
    } else {
      const f =
        part === 'attention'
          ? (x: T) => be.attention(x, p, attention++)
          : (x: T) => {
              const w = (n: string) => `${p}.ffn.${n}`;
              const hidden = be.dropout(be.activation(be.linear(x, w('w1'), w('b1')), 'relu'));
              return be.linear(hidden, w('w2'), w('b2'));
            };
      h = paper ? add(h, be.dropout(f(ln(h)))) : ln(add(h, be.dropout(f(h))));
    }
    h = mark(h, part, 'end');
  });
  h = mark(h, 'output', 'start');
  return paper ? be.layerNorm(h, 'final_ln') : h;
}

/** A ViT backend: also reads the class token's row `[B, d]` off the hidden state `[B, 1 + P, d]`. */
export interface VitBackend<T> extends ModelBackend<T> {
  /** The class token's row `[B, d]` of `x [B, 1 + P, d]`. */
  classToken(x: T): T;
}

/** The ViT's logits `[B, classes]`: pre-LN blocks, the update rule over the MoE blocks. */
export function vitForward<T>(c: VitConfig, rule: UpdateRule, be: VitBackend<T>): T {
  const add = (a: T, b: T) => be.ops.add(a, b) as T;
  const linear = (x: T, name: string) => be.linear(x, `${name}.weight`, `${name}.bias`);
  let x = be.embed();
  let state: RuleState<T> = rule.init<T>();
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    const ln = (u: T, n: string, eps = 1e-6) => be.layerNorm(u, `${b}.${n}`, eps);
    x = add(x, be.dropout(be.attention(ln(x, 'norm1'), b, i)));
    if (isMoeBlock(c, i)) {
      const t = Math.floor(i / c.moeEvery);
      const parts = {
        ops: be.ops,
        moe: (u: T) => be.moe(u, `${b}.moe`, t),
        preNorm: (u: T) => ln(u, 'norm2'),
        outNorm: (u: T) => ln(u, 'ln_out', 1e-5),
      };
      x = marked(be, x, 'block', 'start');
      ({ x, state } = applyUpdate(c.structure, rule, be.coefficients, parts, x, state, t));
      x = marked(be, x, 'block', 'end');
    } else {
      const hidden = be.activation(linear(ln(x, 'norm2'), `${b}.mlp.fc1`), 'gelu');
      x = add(x, be.dropout(linear(hidden, `${b}.mlp.fc2`)));
    }
  }
  return linear(be.classToken(be.layerNorm(x, 'norm', 1e-6)), 'head');
}
