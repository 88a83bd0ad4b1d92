// The update rules over depth as ONNX subgraphs: one step of a rule at MoE layer t, with its
// state (momentum m, Adam's p and v, robust momentum's d) as ordinary graph values.
import type { RuleConfig } from '@msmoe/update-rules';
import type { GraphBuilder } from './graph.js';

/** The export cannot represent this model. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

/** Rule state values by name (`m`, `p`, `v`, `d`), each a graph value shaped like the hidden state. */
export type RuleState = Record<string, string>;

const EXPORTABLE = ['residual', 'heavy-ball', 'nesterov', 'adam', 'rmsprop', 'robust', 'sam'];

/** Throws a clear error for rules the exporter does not cover. */
export function checkExportableRule(rule: string): void {
  if (!EXPORTABLE.includes(rule))
    throw new OnnxExportError(
      `export: update rule "${rule}" is not exportable yet (${EXPORTABLE.join(', ')} are)`,
    );
}

/**
 * One rule step at MoE layer `t`: Δ and the next state, given the MoE as a graph function and the
 * coefficients' current values (learned ones baked in).
 */
export function ruleStep(
  g: GraphBuilder,
  rule: RuleConfig,
  coef: Record<string, number>,
  state: RuleState,
  h: string,
  moe: (x: string) => string,
  t: number,
): { delta: string; state: RuleState } {
  const k = (v: number) => g.scalar(v);
  const add = (a: string, b: string) => g.op1('Add', [a, b]);
  const mul = (a: string, b: string) => g.op1('Mul', [a, b]);
  const next = { ...state };
  switch (rule.rule) {
    case 'residual':
      return { delta: moe(h), state: next };
    case 'heavy-ball': {
      const m = add(
        mul(state.m as string, k(coef.mu as number)),
        mul(moe(h), k(coef.gamma as number)),
      );
      return { delta: m, state: { ...next, m } };
    }
    case 'nesterov': {
      const momentum = mul(state.m as string, k(coef.mu as number));
      const m = add(momentum, mul(moe(add(h, momentum)), k(coef.gamma as number)));
      return { delta: m, state: { ...next, m } };
    }
    case 'adam': {
      const u = moe(h);
      if (!(rule.allLayers || t < rule.adamLayers)) {
        const m = add(
          mul(state.m as string, k(coef.mu as number)),
          mul(u, k(coef.gamma2 as number)),
        );
        return { delta: m, state: { ...next, m } };
      }
      const [b1, b2] = [coef.beta1 as number, coef.beta2 as number];
      const p = add(mul(state.p as string, k(b1)), mul(u, k(1 - b1)));
      const v = add(mul(state.v as string, k(b2)), mul(g.op1('Mul', [u, u]), k(1 - b2)));
      let pHat = p;
      let vHat = v;
      if (rule.biasCorrection) {
        pHat = g.op1('Div', [p, k(1 - b1 ** (t + 1))]);
        vHat = g.op1('Div', [v, k(1 - b2 ** (t + 1))]);
      }
      const delta = mul(
        g.op1('Div', [pHat, g.op1('Sqrt', [add(vHat, k(rule.eps))])]),
        k(coef.gamma1 as number),
      );
      return { delta, state: { ...next, p, v, m: mul(u, k(coef.gamma2 as number)) } };
    }
    case 'rmsprop': {
      const u = moe(h);
      const b = coef.beta as number;
      const v = add(mul(state.v as string, k(b)), mul(g.op1('Mul', [u, u]), k(1 - b)));
      const delta = mul(
        g.op1('Div', [u, g.op1('Sqrt', [add(v, k(rule.eps))])]),
        k(coef.gamma as number),
      );
      return { delta, state: { ...next, v } };
    }
    case 'sam': {
      // Perturb by ρ·u/‖u‖ (u = f(x), norm over the whole tensor), then the wrapped rule with f(· + e).
      const u = moe(h);
      const norm = add(g.op1('ReduceL2', [u], { keepdims: { int: 0 } }), k(1e-12));
      const e = mul(u, g.op1('Div', [k(rule.rho), norm]));
      return ruleStep(g, rule.inner, coef, state, h, (y) => moe(add(y, e)), t);
    }
    case 'robust': {
      const u = moe(add(h, mul(state.d as string, k(coef.c as number))));
      const d = add(
        mul(state.d as string, k(coef.beta as number)),
        mul(u, k(coef.alpha as number)),
      );
      return { delta: d, state: { ...next, d } };
    }
    default:
      throw new OnnxExportError(
        `export: update rule "${(rule as { rule: string }).rule}" is not exportable`,
      );
  }
}
