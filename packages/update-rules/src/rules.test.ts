import {
  assertNoTensorLeak,
  ConfigError,
  checkVariableGradients,
  initBackend,
  initTensor,
  maxAbsDiff,
  Rng,
} from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { foldingOps } from './ops.js';
import {
  parseRuleConfig,
  RULE_LETTERS,
  RULES,
  type RuleConfigInput,
  ruleDef,
  ruleLabel,
  ruleLetter,
  ruleSpellings,
} from './registry.js';
import { robustCoefficients } from './rules/robust.js';
import { createUpdateRule, type MoEFunction, type UpdateRule } from './tfjs.js';

beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

/** Ops on plain numbers: folding alone computes everything. */
const numberOps = foldingOps<never>({} as never);

const randn = (shape: number[], seed: number) =>
  initTensor(shape, { kind: 'normal', std: 1 }, new Rng(seed));

/** Runs `layers` MoE layers of a rule (paper form), `moe(t)` giving layer t's function. */
function unroll(
  rule: UpdateRule,
  x0: tf.Tensor,
  layers: number,
  moe: (t: number) => MoEFunction,
): tf.Tensor {
  let x = x0;
  let state = rule.init();
  for (let t = 0; t < layers; t++) ({ x, state } = rule.step(x, moe(t), state, t));
  return x;
}

describe('heavy-ball (MomentumSMoE)', () => {
  it('unrolled from zero, m_t = γ Σ_s μ^{t−s} u_s (weights 1, 0.7, 0.49, …)', () => {
    const mu = 0.7;
    const gamma = 0.5;
    const us = [0, 1, 2, 3, 4].map((t) => randn([2, 3], 10 + t));
    const rule = createUpdateRule({ rule: 'heavy-ball', mu, gamma });
    let x = tf.zeros([2, 3]);
    let state = rule.init();
    for (let t = 0; t < us.length; t++) {
      ({ x, state } = rule.step(x, () => us[t]!, state, t));
      const expected = tf.tidy(() =>
        tf.addN(us.slice(0, t + 1).map((u, s) => tf.mul(u, gamma * mu ** (t - s)))),
      );
      expect(
        maxAbsDiff((state as { m: tf.Tensor }).m.dataSync(), expected.dataSync()),
      ).toBeLessThan(1e-6);
    }
    // x_T = Σ_t m_t with x_0 = 0
    let sum = tf.zeros([2, 3]);
    for (let t = 0; t < us.length; t++) {
      sum = tf.add(
        sum,
        tf.addN(us.slice(0, t + 1).map((u, s) => tf.mul(u, gamma * mu ** (t - s)))),
      );
    }
    expect(maxAbsDiff(x.dataSync(), sum.dataSync())).toBeLessThan(1e-5);
  });

  describe('on a linear layer f(x) = −A x (A symmetric PSD, top eigenvalue λ), 200 layers', () => {
    /** A = Q diag(λ, λ/2, λ/5) Qᵀ with a fixed rotation Q. */
    const matrix = (lambda: number) => {
      const c = Math.cos(0.7);
      const s = Math.sin(0.7);
      const Q = tf.tensor2d([
        [c, -s, 0],
        [s * 0.6, c * 0.6, 0.8],
        [-s * 0.8, -c * 0.8, 0.6],
      ]);
      return tf.matMul(
        tf.matMul(Q, tf.diag(tf.tensor1d([lambda, lambda / 2, lambda / 5]))),
        Q,
        false,
        true,
      );
    };
    const growth = (config: RuleConfigInput, gammaLambda: number) =>
      tf.tidy(() => {
        const A = matrix(gammaLambda); // γ = 1 so γλ = λ
        const x0 = tf.tensor2d([[1, -0.5, 0.25]]);
        const x = unroll(createUpdateRule(config), x0, 200, () => (y) => tf.neg(tf.matMul(y, A)));
        return tf.norm(x).dataSync()[0]! / tf.norm(x0).dataSync()[0]!;
      });

    it('the residual rule diverges at γλ = 2.5 (stable only for γλ < 2)', () => {
      expect(growth({ rule: 'residual' }, 2.5)).toBeGreaterThan(1e10);
      expect(growth({ rule: 'residual' }, 1.5)).toBeLessThan(1e-6);
    });

    it('heavy-ball (μ = 0.7) converges at γλ = 2.5 and diverges past 2(1+μ) = 3.4', () => {
      expect(growth({ rule: 'heavy-ball', mu: 0.7, gamma: 1 }, 2.5)).toBeLessThan(1e-6);
      expect(growth({ rule: 'heavy-ball', mu: 0.7, gamma: 1 }, 3.3)).toBeLessThan(1e-2);
      expect(growth({ rule: 'heavy-ball', mu: 0.7, gamma: 1 }, 3.6)).toBeGreaterThan(1e10);
    });
  });
});

describe('robust momentum', () => {
  it('at ρ = 1 − 1/κ its evaluation points follow gradient descent with step 1/L (nonlinear f)', () => {
    const kappa = 4;
    const L = 3;
    const rho = 1 - 1 / kappa;
    const c = robustCoefficients(rho, kappa, L);
    expect(c.beta).toBeCloseTo(rho ** 2, 10);
    expect(c.c).toBeCloseTo((kappa - 1) ** 2 / (2 * kappa - 1), 10);
    // f = −∇F for F(y) = Σ 2·log cosh(y) + 0.25 y² (convex, nonlinear).
    const f: MoEFunction = (y) => tf.neg(tf.add(tf.mul(tf.tanh(y), 2), tf.mul(y, 0.5)));
    const ys: Float32Array[] = [];
    const spy: MoEFunction = (y) => {
      ys.push(y.dataSync().slice() as Float32Array);
      return f(y);
    };
    unroll(
      createUpdateRule({ rule: 'robust', rho, kappa, L }),
      tf.tensor2d([[1.5, -2, 0.3]]),
      8,
      () => spy,
    );
    for (let t = 0; t + 1 < ys.length; t++) {
      const y = tf.tensor2d(ys[t]!, [1, 3]);
      const gd = tf.add(y, tf.div(f(y), L)).dataSync();
      expect(maxAbsDiff(ys[t + 1]!, gd)).toBeLessThan(1e-5);
    }
  });

  it('validates κ > 1 and ρ’s range, naming the field', () => {
    expect(() => parseRuleConfig({ rule: 'robust', kappa: 1 })).toThrow(
      /update rule config: kappa: must be > 1 \(got 1\)/,
    );
    expect(() => parseRuleConfig({ rule: 'robust', kappa: 4, rho: 0.9 })).toThrow(
      /rho: must be in \[1 − 1\/√κ, 1 − 1\/κ\] = \[0\.500000, 0\.750000\] for kappa 4 \(got 0\.9\)/,
    );
    expect(() => parseRuleConfig({ rule: 'robust' })).not.toThrow(); // the authors' ρ 0.2, κ 1.25
  });
});

describe('AdamSMoE', () => {
  it('first step from zero state ≈ γ1 · (0.1/√0.001) · sign(u), then heavy-ball seeded with γ2 · u0', () => {
    const rule = createUpdateRule({ rule: 'adam', gamma1: 1, gamma2: 0.5, mu: 0.7 });
    const u0 = tf.tensor2d([[1.5, -0.3, 2, -4]]);
    const u1 = tf.tensor2d([[0.2, 0.1, -0.5, 1]]);
    let state = rule.init();
    const first = rule.update(() => u0, state, 0);
    const expected = Array.from(u0.dataSync()).map((u) => (0.1 / Math.sqrt(0.001)) * Math.sign(u));
    expect(maxAbsDiff(first.delta.dataSync(), expected)).toBeLessThan(1e-3);
    state = first.state;
    const second = rule.update(() => u1, state, 1);
    const hb = tf.add(tf.mul(u0, 0.5 * 0.7), tf.mul(u1, 0.5));
    expect(maxAbsDiff(second.delta.dataSync(), hb.dataSync())).toBeLessThan(1e-6);
  });

  it('takes Adam steps on every layer with allLayers, and corrects bias on request', () => {
    const u = tf.tensor2d([[2, -1]]);
    const all = createUpdateRule({ rule: 'adam', allLayers: true });
    let state = all.init();
    state = all.update(() => u, state, 0).state;
    const second = all.update(() => u, state, 1).delta.dataSync();
    // p = 0.19u, v = 0.001999u² → p/√v = 0.19/√0.001999 sign(u)
    expect(second[0]).toBeCloseTo(0.19 / Math.sqrt(0.001999), 2);
    const corrected = createUpdateRule({ rule: 'adam', biasCorrection: true });
    const d = corrected.update(() => u, corrected.init(), 0).delta.dataSync();
    expect(d[0]).toBeCloseTo(1, 3); // p̂/√v̂ = u/|u|
  });
});

describe('RMSProp and Nesterov', () => {
  it('RMSProp normalises by the running RMS', () => {
    const rule = createUpdateRule({ rule: 'rmsprop', beta: 0.9, gamma: 0.5 });
    const u = tf.tensor2d([[3, -0.5]]);
    const d = rule.update(() => u, rule.init(), 0).delta.dataSync();
    expect(d[0]).toBeCloseTo(0.5 / Math.sqrt(0.1), 4);
    expect(d[1]).toBeCloseTo(-0.5 / Math.sqrt(0.1), 4);
  });

  it('Nesterov evaluates the MoE at the look-ahead point x + μ m', () => {
    const rule = createUpdateRule({ rule: 'nesterov', mu: 0.5, gamma: 1 });
    const seen: number[][] = [];
    const moe: MoEFunction = (y) => {
      seen.push(Array.from(y.dataSync()));
      return tf.onesLike(y);
    };
    unroll(rule, tf.zeros([1, 1]), 3, () => moe);
    // m: 1, 1.5, 1.75; x: 0, 1, 2.5 → look-ahead 0, 1 + 0.5, 2.5 + 0.75
    expect(seen.map((s) => s[0])).toEqual([0, 1.5, 3.25]);
  });
});

describe('SAM', () => {
  it('re-evaluates the MoE at x + ρ u/‖u‖ and feeds that to the wrapped rule', () => {
    const rule = createUpdateRule({ rule: 'sam', rho: 0.1, inner: { rule: 'residual' } });
    const calls: number[][] = [];
    const moe: MoEFunction = (y) => {
      calls.push(Array.from(y.dataSync()));
      return tf.mul(y, -1);
    };
    const x = tf.tensor2d([[3, 4]]);
    const delta = tf.sub(rule.step(x, moe, rule.init(), 0).x, x);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual([3, 4]);
    // u = −x, ‖u‖ = 5 → e = 0.1 · (−0.6, −0.8)
    expect(calls[1]![0]).toBeCloseTo(3 - 0.06, 6);
    expect(calls[1]![1]).toBeCloseTo(4 - 0.08, 6);
    expect(Array.from(delta.dataSync()).map((v) => Number(v.toFixed(5)))).toEqual([-2.94, -3.92]);
  });
});

describe('learnable coefficients', () => {
  it('μ and γ are trainable scalars kept in range and receive a gradient', () => {
    const rule = createUpdateRule({
      rule: 'heavy-ball',
      mu: { init: 0.7, learnable: true },
      gamma: { init: 1, learnable: true },
    });
    const vars = rule.variables();
    expect(Object.keys(vars).sort()).toEqual(['gamma', 'mu']);
    expect(rule.coefficients().mu).toBeCloseTo(0.7, 6);
    expect(rule.coefficients().gamma).toBeCloseTo(1, 6);
    const x0 = randn([4, 3], 3);
    const W = randn([3, 3], 4);
    const { grads } = tf.variableGrads(() => {
      const x = unroll(rule, x0, 3, () => (y) => tf.tanh(tf.matMul(y, W)));
      return tf.sum(tf.square(x)) as tf.Scalar;
    }, Object.values(vars));
    for (const g of Object.values(grads)) expect(Math.abs(g.dataSync()[0]!)).toBeGreaterThan(1e-6);
    vars.mu!.assign(tf.scalar(8));
    expect(rule.coefficients().mu).toBeLessThan(1);
    expect(() =>
      createUpdateRule({ rule: 'heavy-ball', mu: { init: 1.2, learnable: true } }),
    ).toThrow(ConfigError);
  });
});

describe('gradient check through 3 stacked MoE layers (paper form)', () => {
  // Adam and RMSProp divide by √(v + ε): with ε = 1e-8 the step is ≈ sign(u), whose slope is too
  // sharp for float32 finite differences; a larger ε checks the same formulas where they are smooth.
  // The structures (reference, reference-vmoe) are checked with the models that own them.
  const CASES: [string, RuleConfigInput][] = [
    ['residual', { rule: 'residual' }],
    ['heavy-ball', { rule: 'heavy-ball' }],
    [
      'heavy-ball, learnable μ and γ',
      { rule: 'heavy-ball', mu: { init: 0.6 }, gamma: { init: 0.8 } },
    ],
    ['nesterov', { rule: 'nesterov' }],
    ['adam', { rule: 'adam', eps: 0.1 }],
    [
      'adam on every layer with bias correction, learnable β1',
      { rule: 'adam', eps: 0.1, allLayers: true, biasCorrection: true, beta1: { init: 0.8 } },
    ],
    ['rmsprop', { rule: 'rmsprop', eps: 0.1 }],
    ['robust', { rule: 'robust' }],
    ['sam(heavy-ball)', { rule: 'sam', rho: 0.05 }],
    ['sam(nesterov)', { rule: 'sam', rho: 0.05, inner: { rule: 'nesterov' } }],
  ];
  it.each(CASES)('%s', (_name, config) => {
    const rule = createUpdateRule(config);
    const Ws = [0, 1, 2].map((t) => tf.variable(tf.mul(randn([4, 4], 20 + t), 0.5)));
    const x0 = randn([3, 4], 30);
    const target = randn([3, 4], 31);
    const loss = () => {
      const x = unroll(rule, x0, 3, (t) => (y) => tf.tanh(tf.matMul(y, Ws[t]!)));
      return tf.sum(tf.mul(x, target)) as tf.Scalar;
    };
    const res = checkVariableGradients(loss, [...Ws, ...Object.values(rule.variables())], {
      eps: 1e-2,
      samplesPerInput: 5,
      atol: 3e-3,
      rtol: 3e-2,
    });
    if (!res.ok) throw new Error(`gradient check failed: ${JSON.stringify(res.worst)}`);
    tf.dispose(Ws);
  });
});

describe('configuration', () => {
  it.each([
    [{ rule: 'heavy-ball', mu: 1.5 }, /mu: .*\(got 1\.5\)/],
    [{ rule: 'heavy-ball', gamma: 0 }, /gamma: .*\(got 0\)/],
    [{ rule: 'heavy-ball', momentum: 0.9 }, /momentum: unknown field/],
    [{ rule: 'lion' }, /rule: .*\(got "lion"\)/],
    [{ rule: 'sam', inner: { rule: 'sam' } }, /inner\.rule/],
  ])('rejects %j with a clear error', (config, message) => {
    expect(() => createUpdateRule(config as RuleConfigInput)).toThrow(ConfigError);
    expect(() => createUpdateRule(config as RuleConfigInput)).toThrow(message);
  });

  it('fills the paper’s defaults', () => {
    expect(parseRuleConfig({ rule: 'heavy-ball' })).toEqual({
      rule: 'heavy-ball',
      mu: 0.7,
      gamma: 1,
    });
    expect(parseRuleConfig({ rule: 'adam' })).toMatchObject({
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      gamma1: 1,
      gamma2: 1,
      mu: 0.7,
      biasCorrection: false,
    });
    expect(parseRuleConfig({ rule: 'robust' })).toEqual({
      rule: 'robust',
      rho: 0.2,
      kappa: 1.25,
      L: 1,
    });
  });
});

describe('memory', () => {
  it('a 3-layer stack with each rule trains without leaking tensors', async () => {
    for (const config of RULES.map((r) => ({ rule: r.name })) as RuleConfigInput[]) {
      const rule = createUpdateRule(config);
      const Ws = [0, 1, 2].map((t) => tf.variable(tf.mul(randn([4, 4], 40 + t), 0.3)));
      const x0 = randn([8, 4], 50);
      const opt = tf.train.adam(0.01);
      const loss = () => {
        const x = unroll(rule, x0, 3, (t) => (y) => tf.tanh(tf.matMul(y, Ws[t]!)));
        return tf.mean(tf.square(tf.sub(x, 0.5))) as tf.Scalar;
      };
      await assertNoTensorLeak(
        () => opt.minimize(loss, false, [...Ws, ...Object.values(rule.variables())]),
        { repetitions: 30 },
      );
      opt.dispose();
      tf.dispose([...Ws, x0, ...Object.values(rule.variables())]);
    }
  });
});

describe('the registry', () => {
  it('has one record per rule: unique names and letters, the paper labels', () => {
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    const letters = RULES.flatMap((r) => (r.letter ? [r.letter] : []));
    expect(new Set(letters).size).toBe(letters.length);
    expect(RULE_LETTERS).toMatchObject({ g: 'residual', m: 'heavy-ball', a: 'adam', r: 'robust' });
    const label = (c: RuleConfigInput, family?: string) => ruleLabel(parseRuleConfig(c), family);
    expect(label({ rule: 'residual' })).toBe('SMoE');
    expect(label({ rule: 'heavy-ball' })).toBe('MomentumSMoE');
    expect(label({ rule: 'adam' })).toBe('AdamSMoE');
    expect(label({ rule: 'robust' })).toBe('Robust MomentumSMoE');
    expect(label({ rule: 'heavy-ball' }, 'V-MoE')).toBe('MomentumV-MoE');
    expect(label({ rule: 'sam', inner: { rule: 'residual' } }, 'V-MoE')).toBe('SAM-V-MoE');
    expect(label({ rule: 'nesterov' })).toBe('NesterovSMoE');
    // SAM has no letter: architecture strings use its wrapped rule's.
    expect(ruleLetter(parseRuleConfig({ rule: 'sam', inner: { rule: 'nesterov' } }))).toBe('n');
  });

  it('reads a rule from its letter, name, label or an alias, and fills the defaults', () => {
    for (const spelling of ['m', 'heavy-ball', 'MomentumSMoE', 'momentum', 'MomentumV-MoE'])
      expect(parseRuleConfig(spelling)).toEqual({ rule: 'heavy-ball', mu: 0.7, gamma: 1 });
    expect(parseRuleConfig('Robust MomentumSMoE').rule).toBe('robust');
    expect(parseRuleConfig('V-MoE').rule).toBe('residual');
    expect(() => parseRuleConfig('lion')).toThrow(
      new RegExp(`value: is not a rule; allowed: ${ruleSpellings()[0]!.replace(/\|/g, '\\|')}`),
    );
    expect(() => parseRuleConfig({ rule: 'heavy-ball', mu: 2 })).toThrow(/mu: .*\(got 2\)/);
  });

  it('each record is pure maths over Ops: a rule evaluated with plain numbers gives the paper numbers', () => {
    // Numbers are constants to Ops, so a record runs on scalars with no backend at all.
    const step = ruleDef('heavy-ball').update(
      {
        ops: { ...numberOps },
        moe: () => 2 as never,
        state: { m: 0.5 },
        k: { mu: 0.7, gamma: 0.5 },
        layer: 1,
      },
      parseRuleConfig('m'),
    );
    expect(step.delta).toBeCloseTo(0.7 * 0.5 + 0.5 * 2, 12);
  });
});
