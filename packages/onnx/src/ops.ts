// The update rules' arithmetic on ONNX graph values: the registry's records build their own
// subgraphs through this, so the exporter keeps no rule maths of its own.
import { foldingOps, type Ops } from '@msmoe/update-rules';
import type { GraphBuilder } from './graph.js';

/** The export cannot represent this model. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

/** {@link Ops} whose values are graph value names (numbers become shared float constants). */
export function graphOps(g: GraphBuilder): Ops<string> {
  const v = (x: string | number) => (typeof x === 'number' ? g.scalar(x) : x);
  const binary = (op: string) => (a: string | number, b: string | number) =>
    g.op1(op, [v(a), v(b)]);
  return foldingOps<string>({
    add: binary('Add'),
    sub: binary('Sub'),
    mul: binary('Mul'),
    div: binary('Div'),
    neg: (a) => g.op1('Neg', [a]),
    sqrt: (a) => g.op1('Sqrt', [a]),
    square: (a) => g.op1('Mul', [a, a]),
    pow: (a, n) => g.op1('Pow', [a, g.scalar(n)]),
    norm: (a) => g.op1('ReduceL2', [a], { keepdims: { int: 0 } }),
    divSqrt: (a, b, eps) =>
      g.op1('Div', [v(a), g.op1('Sqrt', [g.op1('Add', [v(b), g.scalar(eps)])])]),
  });
}
