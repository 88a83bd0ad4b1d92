/**
 * A value an update rule computes with: a backend value `T` (a tfjs tensor, an ONNX value name)
 * or a plain number, which is a constant (a fixed coefficient, a zero state).
 */
export type Value<T> = T | number;

/**
 * The arithmetic a rule is written against: one definition runs on tfjs tensors and builds ONNX
 * graphs. Numbers are constants and fold (`0.7 · 0 = 0`, `x · 1 = x`, `x + 0 = x`), so a zero
 * initial state and fixed coefficients of 1 cost nothing in either backend. Scalars broadcast.
 */
export interface Ops<T> {
  add(a: Value<T>, b: Value<T>): Value<T>;
  sub(a: Value<T>, b: Value<T>): Value<T>;
  mul(a: Value<T>, b: Value<T>): Value<T>;
  div(a: Value<T>, b: Value<T>): Value<T>;
  neg(a: Value<T>): Value<T>;
  sqrt(a: Value<T>): Value<T>;
  square(a: Value<T>): Value<T>;
  /** `a^n` for a constant exponent. */
  pow(a: Value<T>, n: number): Value<T>;
  /** L2 norm over every element (a scalar). */
  norm(a: Value<T>): Value<T>;
  /** The normalised step of Adam and RMSProp, `a / √(b + eps)`: one fused operation where the backend has it. */
  divSqrt(a: Value<T>, b: Value<T>, eps: number): Value<T>;
}

/** What a backend implements: each operation with at least one backend value among its operands. */
export interface OpsBackend<T> {
  add(a: Value<T>, b: Value<T>): T;
  sub(a: Value<T>, b: Value<T>): T;
  mul(a: Value<T>, b: Value<T>): T;
  div(a: Value<T>, b: Value<T>): T;
  neg(a: T): T;
  sqrt(a: T): T;
  square(a: T): T;
  pow(a: T, n: number): T;
  norm(a: T): T;
  divSqrt(a: Value<T>, b: Value<T>, eps: number): T;
}

const isNum = (v: unknown): v is number => typeof v === 'number';

/** {@link Ops} over a backend, with constants folded and the identities `x+0`, `x·1`, `x·0`, `x/1` applied. */
export function foldingOps<T>(b: OpsBackend<T>): Ops<T> {
  const unary =
    (f: (x: number) => number, g: (x: T) => T) =>
    (a: Value<T>): Value<T> =>
      isNum(a) ? f(a) : g(a);
  return {
    add: (x, y) => (isNum(x) && isNum(y) ? x + y : x === 0 ? y : y === 0 ? x : b.add(x, y)),
    sub: (x, y) =>
      isNum(x) && isNum(y) ? x - y : y === 0 ? x : x === 0 ? b.neg(y as T) : b.sub(x, y),
    mul: (x, y) =>
      isNum(x) && isNum(y)
        ? x * y
        : x === 0 || y === 0
          ? 0
          : x === 1
            ? y
            : y === 1
              ? x
              : b.mul(x, y),
    div: (x, y) => (isNum(x) && isNum(y) ? x / y : y === 1 ? x : b.div(x, y)),
    neg: unary(
      (x) => -x,
      (x) => b.neg(x),
    ),
    sqrt: unary(Math.sqrt, (x) => b.sqrt(x)),
    square: unary(
      (x) => x * x,
      (x) => b.square(x),
    ),
    pow: (x, n) => (isNum(x) ? x ** n : n === 1 ? x : b.pow(x, n)),
    norm: unary(Math.abs, (x) => b.norm(x)),
    divSqrt: (x, y, eps) =>
      isNum(x) && isNum(y) ? x / Math.sqrt(y + eps) : x === 0 ? 0 : b.divSqrt(x, y, eps),
  };
}
