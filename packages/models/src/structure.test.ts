// The block structures of the update rules (paper, the authors' reference LM code and their
// V-MoE code), checked against the formulas of spec §3 on tfjs tensors, by gradient checks, and
// through real MoE layers.
import {
  checkVariableGradients,
  initBackend,
  initTensor,
  layerNorm,
  layerNormParams,
  maxAbsDiff,
  Rng,
} from '@msmoe/core';
import { ExpertBank } from '@msmoe/experts';
import { createRouter } from '@msmoe/router';
import {
  createUpdateRule,
  type RuleConfigInput,
  robustCoefficients,
  tfOps,
  type UpdateRule,
} from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import { moeLayer } from './moe-layer.js';
import { applyUpdate, structureNorms, type UpdateStructure } from './structure.js';

beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

const LN = (t: tf.Tensor) => layerNorm(t);

/** Runs `layers` blocks of a rule in a structure with fresh LayerNorm parameters; returns x and the LN variables. */
function stack(
  rule: UpdateRule,
  structure: UpdateStructure,
  x0: tf.Tensor,
  moe: (t: number) => (y: tf.Tensor) => tf.Tensor,
  layers: number,
  options: { preNorm?: boolean; norms?: ReturnType<typeof makeNorms> } = {},
) {
  const norms = options.norms ?? makeNorms(structure, x0.shape.at(-1) as number, layers);
  let x = x0;
  let state = rule.init();
  const k = rule.values();
  for (let t = 0; t < layers; t++) {
    const n = norms[t] as Record<string, ReturnType<typeof layerNormParams>>;
    const fn = (p?: ReturnType<typeof layerNormParams>) =>
      p ? (y: tf.Tensor) => layerNorm(y, p.gamma, p.beta) : undefined;
    ({ x, state } = applyUpdate(
      structure,
      rule,
      k,
      {
        ops: tfOps,
        moe: moe(t),
        preNorm: options.preNorm ? LN : undefined,
        innerNorm: fn(n.inner),
        outNorm: fn(n.out),
      },
      x,
      state,
      t,
    ) as { x: tf.Tensor; state: typeof state });
  }
  return x;
}

function makeNorms(structure: UpdateStructure, d: number, layers: number) {
  return Array.from({ length: layers }, () =>
    Object.fromEntries(structureNorms(structure).map((n) => [n, layerNormParams(d)])),
  );
}

describe('reference structures (spec §3)', () => {
  let x: tf.Tensor;
  let u: tf.Tensor;
  beforeAll(() => {
    x = tf.tensor2d([[1, 2, 4]]);
    u = tf.tensor2d([[0.5, -1, 3]]);
  });

  it('heavy-ball: x_{t+1} = LN2(x + LN_inner(x − m)) with m = γu at layer 0', () => {
    const out = stack(
      createUpdateRule({ rule: 'heavy-ball', gamma: 0.5 }),
      'reference',
      x,
      () => () => u,
      1,
    );
    const expected = LN(tf.add(x, LN(tf.sub(x, tf.mul(u, 0.5)))));
    expect(maxAbsDiff(out.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
  });

  it('residual: LN2(x + LN_inner(x + u)); V-MoE: LN(x − m)', () => {
    const res = stack(createUpdateRule('residual'), 'reference', x, () => () => u, 1);
    expect(maxAbsDiff(res.dataSync(), LN(tf.add(x, LN(tf.add(x, u)))).dataSync())).toBeLessThan(
      1e-6,
    );
    const vmoe = stack(
      createUpdateRule({ rule: 'heavy-ball', gamma: 1 }),
      'reference-vmoe',
      x,
      () => () => u,
      1,
    );
    expect(maxAbsDiff(vmoe.dataSync(), LN(tf.sub(x, u)).dataSync())).toBeLessThan(1e-6);
  });

  it("AdamSMoE's layer0Quirk drops the inner residual at layer 0 only: LN2(x + LN_inner(−Δ))", () => {
    const rule = createUpdateRule({ rule: 'adam', layer0Quirk: true });
    const plain = createUpdateRule({ rule: 'adam' });
    const delta = plain.update(() => u, plain.init(), 0).delta;
    const out = stack(rule, 'reference', x, () => () => u, 1);
    expect(maxAbsDiff(out.dataSync(), LN(tf.add(x, LN(tf.neg(delta)))).dataSync())).toBeLessThan(
      1e-5,
    );
    // Without the flag, the same rule keeps the residual.
    const kept = stack(plain, 'reference', x, () => () => u, 1);
    expect(
      maxAbsDiff(kept.dataSync(), LN(tf.add(x, LN(tf.sub(x, delta)))).dataSync()),
    ).toBeLessThan(1e-5);
  });

  it('robust momentum looks ahead along the step the block applies: x − c·Δ (reference), LN(x) − c·Δ (V-MoE)', () => {
    const { c, alpha } = robustCoefficients(0.2, 1.25, 1);
    for (const structure of ['reference', 'reference-vmoe', 'paper'] as const) {
      const inputs: Float32Array[] = [];
      const moe = () => (y: tf.Tensor) => {
        inputs.push(y.dataSync() as Float32Array);
        return u;
      };
      const x1 = stack(createUpdateRule('r'), structure, x, moe, 2, {
        preNorm: structure !== 'reference',
      });
      expect(x1.shape).toEqual([1, 3]);
      // Layer 0: Δ_0 = α u. Layer 1 evaluates at the look-ahead of the point x_1 the block reached.
      const delta0 = tf.mul(u, alpha);
      const x1Of = (xs: tf.Tensor) =>
        structure === 'paper'
          ? tf.add(xs, delta0)
          : structure === 'reference'
            ? LN(tf.add(xs, LN(tf.sub(xs, delta0))))
            : LN(tf.sub(xs, delta0));
      const p1 = x1Of(x);
      const expected =
        structure === 'paper'
          ? LN(tf.add(p1, tf.mul(delta0, c)))
          : structure === 'reference'
            ? tf.sub(p1, tf.mul(delta0, c))
            : tf.sub(LN(p1), tf.mul(delta0, c));
      expect(maxAbsDiff(inputs[1]!, expected.dataSync())).toBeLessThan(1e-5);
    }
  });
});

describe('gradient checks through 3 blocks of each structure', () => {
  const CASES: [string, RuleConfigInput, UpdateStructure][] = [
    ['heavy-ball, reference', { rule: 'heavy-ball' }, 'reference'],
    ['nesterov, reference', { rule: 'nesterov' }, 'reference'],
    [
      'adam with the layer-0 quirk, reference',
      { rule: 'adam', eps: 0.1, layer0Quirk: true },
      'reference',
    ],
    ['robust, reference', { rule: 'robust' }, 'reference'],
    ['robust, V-MoE reference', { rule: 'robust' }, 'reference-vmoe'],
    [
      'sam(heavy-ball), V-MoE reference, learnable μ',
      { rule: 'sam', inner: { rule: 'heavy-ball', mu: { init: 0.6 } } },
      'reference-vmoe',
    ],
  ];
  it.each(CASES)('%s', (_name, config, structure) => {
    const rule = createUpdateRule(config);
    const Ws = [0, 1, 2].map((t) =>
      tf.variable(tf.mul(initTensor([4, 4], { kind: 'normal', std: 1 }, new Rng(20 + t)), 0.5)),
    );
    const x0 = initTensor([3, 4], { kind: 'normal', std: 1 }, new Rng(30));
    const target = initTensor([3, 4], { kind: 'normal', std: 1 }, new Rng(31));
    const norms = makeNorms(structure, 4, 3);
    const loss = () => {
      const x = stack(rule, structure, x0, (t) => (y) => tf.tanh(tf.matMul(y, Ws[t]!)), 3, {
        norms,
        preNorm: structure === 'reference-vmoe',
      });
      return tf.sum(tf.mul(x, target)) as tf.Scalar;
    };
    const lnVars = norms.flatMap((n) => Object.values(n).flatMap((p) => [p.gamma, p.beta]));
    const res = checkVariableGradients(
      loss,
      [...Ws, ...lnVars, ...Object.values(rule.variables())],
      {
        eps: 1e-2,
        samplesPerInput: 5,
        atol: 3e-3,
        rtol: 3e-2,
      },
    );
    if (!res.ok) throw new Error(`gradient check failed: ${JSON.stringify(res.worst)}`);
    tf.dispose(Ws);
  });
});

// Each rule over 3 real MoE layers (router + experts). Soft MoE routing is smooth, so finite
// differences see no routing flips.
it.each([
  ['residual', { rule: 'residual' }],
  ['heavy-ball', { rule: 'heavy-ball' }],
  ['nesterov', { rule: 'nesterov' }],
  ['adam', { rule: 'adam', eps: 0.1 }],
  ['rmsprop', { rule: 'rmsprop', eps: 0.1 }],
  ['robust', { rule: 'robust' }],
  ['sam', { rule: 'sam' }],
] as [string, RuleConfigInput][])(
  'gradient check through 3 Soft-MoE layers: %s',
  (_name, config) => {
    const d = 4;
    const rng = new Rng(5);
    const layers = [0, 1, 2].map(() =>
      moeLayer({
        router: createRouter({ type: 'soft', dModel: d, numExperts: 3, groupSize: 3 }, rng),
        experts: new ExpertBank(
          { numExperts: 3, dModel: d, dHidden: 6, activation: 'gelu', init: 'linear' },
          rng,
        ),
      }),
    );
    const rule = createUpdateRule(config);
    const x0 = initTensor([6, d], { kind: 'normal', std: 1 }, rng);
    const target = initTensor([6, d], { kind: 'normal', std: 1 }, rng);
    const loss = () => {
      const x = stack(
        rule,
        'paper',
        x0,
        (t) => (y) => (layers[t] as (typeof layers)[number])(y).y,
        3,
      );
      return tf.sum(tf.mul(x, target)) as tf.Scalar;
    };
    const vars = layers.flatMap((l) => Object.values(l.variables()));
    const res = checkVariableGradients(loss, vars, {
      eps: 1e-2,
      samplesPerInput: 3,
      atol: 3e-3,
      rtol: 3e-2,
    });
    if (!res.ok) throw new Error(`gradient check failed: ${JSON.stringify(res.worst)}`);
    expect(res.checked).toBeGreaterThan(30);
  },
);
