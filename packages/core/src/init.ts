import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from './rng.js';
import { parseOrThrow } from './validate.js';

// `Math` held in a module constant: a global lookup per call costs ~100x under Jest's VM context.
const math = Math;

/** Non-linearities known to {@link calculateGain}, as `torch.nn.init.calculate_gain`. */
export type Nonlinearity =
  | 'linear'
  | 'identity'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu'
  | 'gelu';

/**
 * Recommended gain for a non-linearity, equal to `torch.nn.init.calculate_gain` (`gelu` is not in
 * PyTorch's table; we use ReLU's √2, as most MoE codebases do).
 *
 * @param param - negative slope for `leaky_relu` (PyTorch's default 0.01).
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
    case 'gelu':
      return math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity "${String(nonlinearity)}"`);
  }
}

/** Fan-in and fan-out of a weight tensor. */
export interface Fans {
  /** Inputs per output unit. */
  fanIn: number;
  /** Outputs per input unit. */
  fanOut: number;
}

/**
 * Fans of a weight in msmoe's layout: the last two axes are `[in, out]` (see `linear`); any
 * leading axes stack independent matrices (e.g. an expert bank `[E, in, out]`), so they do not
 * enter the fans. PyTorch's `[out, in]` Linear weight has the same fans transposed.
 */
export function computeFans(shape: readonly number[]): Fans {
  if (shape.length < 2) {
    throw new Error(
      `computeFans: need a weight of rank ≥ 2 ([..., in, out]), got [${shape.join(', ')}]`,
    );
  }
  return { fanIn: shape[shape.length - 2] as number, fanOut: shape[shape.length - 1] as number };
}

const nonlinearitySchema = z.enum([
  'linear',
  'identity',
  'sigmoid',
  'tanh',
  'relu',
  'leaky_relu',
  'selu',
  'gelu',
]);

/** Schema of {@link InitSpec}: validates an initialiser description read from a config file. */
export const initSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('zeros') }).strict(),
  z.object({ kind: z.literal('ones') }).strict(),
  z.object({ kind: z.literal('constant'), value: z.number() }).strict(),
  z.object({ kind: z.literal('uniform'), low: z.number(), high: z.number() }).strict(),
  z
    .object({
      kind: z.literal('normal'),
      mean: z.number().optional(),
      std: z.number().nonnegative(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('trunc-normal'),
      mean: z.number().optional(),
      std: z.number().nonnegative(),
      a: z.number().optional(),
      b: z.number().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.enum(['kaiming-uniform', 'kaiming-normal']),
      a: z.number().optional(),
      mode: z.enum(['fan_in', 'fan_out']).optional(),
      nonlinearity: nonlinearitySchema.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.enum(['xavier-uniform', 'xavier-normal']),
      gain: z.number().positive().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('linear-bias') }).strict(),
  z.object({ kind: z.literal('experts-uniform') }).strict(),
]);

/**
 * How to initialise a tensor, mirroring `torch.nn.init`:
 * - `kaiming-uniform`: U(±gain·√(3/fan)), gain from `nonlinearity` (default `leaky_relu`) and `a`
 *   (default 0); `{ kind: 'kaiming-uniform', a: math.sqrt(5) }` is `nn.Linear`'s weight default,
 *   i.e. U(±1/√fanIn).
 * - `kaiming-normal`: N(0, gain/√fan).
 * - `xavier-uniform`: U(±gain·√(6/(fanIn+fanOut))); `xavier-normal`: N(0, gain·√(2/(fanIn+fanOut))).
 * - `normal`, `trunc-normal` (redrawn outside [a, b], default ±2 std like timm's), `uniform`,
 *   `zeros`, `ones`, `constant`.
 * - `linear-bias`: `nn.Linear`'s bias default U(±1/√fanIn) (pass `fans`).
 * - `experts-uniform`: the MomentumSMoE experts' U(±1/√(in·out)).
 */
export type InitSpec = z.infer<typeof initSpecSchema>;

function kaimingStd(
  spec: { a?: number; mode?: 'fan_in' | 'fan_out'; nonlinearity?: Nonlinearity },
  fans: Fans,
): number {
  const fan = (spec.mode ?? 'fan_in') === 'fan_in' ? fans.fanIn : fans.fanOut;
  const gain = calculateGain(spec.nonlinearity ?? 'leaky_relu', spec.a ?? 0);
  return gain / math.sqrt(fan);
}

function needFans(shape: readonly number[], fans: Fans | undefined): Fans {
  return fans ?? computeFans(shape);
}

/**
 * Draws initial values for a tensor of `shape` from `rng` (plain Float32Array; no tfjs). The same
 * seed, shape and spec give the same values everywhere.
 *
 * @param fans - override the fans computed from `shape` (needed for `linear-bias`).
 */
export function initValues(
  shape: readonly number[],
  spec: InitSpec,
  rng: Rng,
  fans?: Fans,
): Float32Array {
  const s = parseOrThrow(initSpecSchema, spec, 'init spec');
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`initValues: shape must hold non-negative integers, got [${shape.join(', ')}]`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  switch (s.kind) {
    case 'zeros':
      return new Float32Array(n);
    case 'ones':
      return new Float32Array(n).fill(1);
    case 'constant':
      return new Float32Array(n).fill(s.value);
    case 'uniform':
      if (!(s.low <= s.high))
        throw new Error(`init spec: uniform needs low ≤ high, got ${s.low} > ${s.high}`);
      return rng.uniformArray(n, s.low, s.high);
    case 'normal':
      return rng.normalArray(n, s.mean ?? 0, s.std);
    case 'trunc-normal': {
      const mean = s.mean ?? 0;
      const lo = s.a ?? mean - 2 * s.std;
      const hi = s.b ?? mean + 2 * s.std;
      if (!(lo < hi)) throw new Error(`init spec: trunc-normal needs a < b, got a=${lo}, b=${hi}`);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let v = rng.normal(mean, s.std);
        let tries = 0;
        while ((v < lo || v > hi) && tries++ < 1000) v = rng.normal(mean, s.std);
        out[i] = math.min(hi, math.max(lo, v));
      }
      return out;
    }
    case 'kaiming-uniform': {
      const bound = math.sqrt(3) * kaimingStd(s, needFans(shape, fans));
      return rng.uniformArray(n, -bound, bound);
    }
    case 'kaiming-normal':
      return rng.normalArray(n, 0, kaimingStd(s, needFans(shape, fans)));
    case 'xavier-uniform': {
      const f = needFans(shape, fans);
      const bound = (s.gain ?? 1) * math.sqrt(6 / (f.fanIn + f.fanOut));
      return rng.uniformArray(n, -bound, bound);
    }
    case 'xavier-normal': {
      const f = needFans(shape, fans);
      return rng.normalArray(n, 0, (s.gain ?? 1) * math.sqrt(2 / (f.fanIn + f.fanOut)));
    }
    case 'linear-bias': {
      if (!fans) throw new Error('init spec: linear-bias needs the weight fans (pass fans)');
      const bound = fans.fanIn > 0 ? 1 / math.sqrt(fans.fanIn) : 0;
      return rng.uniformArray(n, -bound, bound);
    }
    case 'experts-uniform': {
      const f = needFans(shape, fans);
      const bound = 1 / math.sqrt(f.fanIn * f.fanOut);
      return rng.uniformArray(n, -bound, bound);
    }
  }
}

/** Like {@link initValues}, as a float32 tensor. */
export function initTensor(
  shape: readonly number[],
  spec: InitSpec,
  rng: Rng,
  fans?: Fans,
): tf.Tensor {
  return tf.tensor(initValues(shape, spec, rng, fans), [...shape], 'float32');
}

/**
 * Like {@link initValues}, as a trainable `tf.Variable`. A `name` must be unique among live
 * variables (a tfjs rule); leave it out unless you need it.
 */
export function initVariable(
  shape: readonly number[],
  spec: InitSpec,
  rng: Rng,
  options: { name?: string; trainable?: boolean; fans?: Fans } = {},
): tf.Variable {
  return tf.tidy(() =>
    tf.variable(
      initTensor(shape, spec, rng, options.fans),
      options.trainable ?? true,
      options.name,
    ),
  );
}

/**
 * Weight `[in, out]` and bias `[out]` initialised exactly as PyTorch's `nn.Linear`:
 * W ~ U(±1/√in) (kaiming-uniform, a = √5), b ~ U(±1/√in).
 */
export function linearInit(
  inDim: number,
  outDim: number,
  rng: Rng,
  options: { bias?: boolean } = {},
): { W: tf.Variable; b?: tf.Variable } {
  const W = initVariable([inDim, outDim], { kind: 'kaiming-uniform', a: math.sqrt(5) }, rng);
  if (options.bias === false) return { W };
  const b = initVariable([outDim], { kind: 'linear-bias' }, rng, {
    fans: { fanIn: inDim, fanOut: outDim },
  });
  return { W, b };
}

/**
 * A trainable variable filled with `value` (zeros, ones, a scalar…). Unlike
 * `tf.variable(tf.zeros(shape))`, the temporary initial tensor is freed, so constructing and
 * disposing a model leaves `tf.memory().numTensors` unchanged.
 */
export function constantVariable(
  shape: readonly number[],
  value: number,
  options: { trainable?: boolean } = {},
): tf.Variable {
  return tf.tidy(() => tf.variable(tf.fill([...shape], value), options.trainable ?? true));
}
