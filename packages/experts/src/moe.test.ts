import { checkVariableGradients, initBackend, initTensor, maxAbsDiff, Rng } from '@msmoe/core';
import {
  authorsLmRouterConfig,
  createRouter,
  type RouterConfigInput,
  switchRouterConfig,
  vmoeRouterConfig,
} from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';
import { type Activation, ExpertBank } from './bank.js';
import { type DispatchStrategy, denseMoE, sparseMoE } from './dispatch.js';

const D = 6;
const E = 4;
const N = 12;

async function useBackend(name: 'cpu' | 'wasm') {
  await initBackend({ prefer: name, fallback: false, env: {} });
}

// Every row has three entries: Jest reads a test function with more parameters than the row as
// one that waits for a `done` callback.
const ROUTERS: [string, RouterConfigInput, DispatchStrategy | undefined][] = [
  ['authors LM top-2 (grouped)', authorsLmRouterConfig(D, E), undefined],
  ['top-2 dropless forced padded', authorsLmRouterConfig(D, E), 'padded'],
  ['V-MoE noisy top-2 with capacity', vmoeRouterConfig(D, E), undefined],
  [
    'Switch top-1 with capacity 1.0',
    { ...switchRouterConfig(D, E), capacityFactor: { train: 1, eval: 0.75 } },
    undefined,
  ],
  [
    'Switch dropless',
    { ...switchRouterConfig(D, E), capacityFactor: { train: 0.5, eval: 0.5 }, dropless: true },
    undefined,
  ],
  [
    'batch priority top-2',
    {
      ...vmoeRouterConfig(D, E),
      capacityFactor: { train: 0.6, eval: 0.6 },
      priority: 'batch-priority',
    },
    undefined,
  ],
  [
    'expert choice',
    { type: 'expert-choice', dModel: D, numExperts: E, capacityFactor: 1.5 },
    undefined,
  ],
  [
    'Soft MoE',
    { type: 'soft', dModel: D, numExperts: E, slotsPerExpert: 2, groupSize: 6 },
    undefined,
  ],
];

function setup(config: RouterConfigInput, activation: Activation = 'relu', seed = 1) {
  const rng = new Rng(seed);
  const router = createRouter(config, rng);
  const bank = new ExpertBank(
    { numExperts: E, dModel: D, dHidden: 8, activation, init: 'linear' },
    rng,
  );
  const x = initTensor([N, D], { kind: 'normal', std: 1 }, rng) as tf.Tensor2D;
  const r = initTensor([N, D], { kind: 'normal', std: 1 }, rng);
  const vars = [...Object.values(router.variables()), ...Object.values(bank.variables())];
  const dispose = () => {
    router.dispose();
    bank.dispose();
    tf.dispose([x, r]);
  };
  return { router, bank, x, r, vars, dispose };
}

/** Output, loss gradients w.r.t. every weight and x, for one MoE implementation. */
function run(s: ReturnType<typeof setup>, impl: 'sparse' | 'dense', strategy?: DispatchStrategy) {
  return tf.tidy(() => {
    const f = (x: tf.Tensor2D) => {
      const routing = s.router.route(x, { training: true, rng: new Rng(42) });
      const y =
        impl === 'sparse'
          ? sparseMoE(x, routing, s.bank, { strategy })
          : denseMoE(x, routing, s.bank);
      return { y, loss: tf.add(tf.sum(tf.mul(y, s.r)), routing.auxLoss) as tf.Scalar };
    };
    const y = f(s.x).y.dataSync().slice();
    const { grads } = tf.variableGrads(() => f(s.x).loss, s.vars);
    const gx = tf
      .grad((x: tf.Tensor) => f(x as tf.Tensor2D).loss)(s.x)
      .dataSync()
      .slice();
    return { y, grads: s.vars.map((v) => grads[v.name]!.dataSync().slice()), gx };
  });
}

describe.each(['cpu', 'wasm'] as const)('sparse dispatch on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(ROUTERS)(
    'equals the dense oracle, values and gradients: %s',
    (_name, config, strategy) => {
      const s = setup(config);
      const sparse = run(s, 'sparse', strategy);
      const dense = run(s, 'dense');
      expect(maxAbsDiff(sparse.y, dense.y)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(sparse.gx, dense.gx)).toBeLessThanOrEqual(1e-5);
      sparse.grads.forEach((g, i) => {
        expect(maxAbsDiff(g, dense.grads[i]!)).toBeLessThanOrEqual(1e-5);
      });
      // Gradients reach the router and every expert weight.
      sparse.grads.forEach((g) => {
        expect(Array.from(g).some((v) => v !== 0)).toBe(true);
      });
      s.dispose();
    },
  );

  it.each(['relu', 'gelu', 'gelu-tanh', 'swiglu'] as const)(
    'equals the dense oracle with %s experts',
    (activation) => {
      const s = setup(authorsLmRouterConfig(D, E), activation, 3);
      const sparse = run(s, 'sparse');
      const dense = run(s, 'dense');
      expect(maxAbsDiff(sparse.y, dense.y)).toBeLessThanOrEqual(1e-5);
      sparse.grads.forEach((g, i) => {
        expect(maxAbsDiff(g, dense.grads[i]!)).toBeLessThanOrEqual(1e-5);
      });
      s.dispose();
    },
  );

  it('a dropped token gets exactly zero output', () => {
    const s = setup({ ...switchRouterConfig(D, E), capacityFactor: { train: 0.25, eval: 0.25 } });
    tf.tidy(() => {
      const routing = s.router.route(s.x);
      expect(routing.kind).toBe('token-choice');
      if (routing.kind !== 'token-choice') return;
      expect(routing.stats.droppedTokens).toBeGreaterThan(0);
      const y = sparseMoE(s.x, routing, s.bank).arraySync();
      routing.kept.forEach((kept, t) => {
        const norm = y[t]!.reduce((a, b) => a + Math.abs(b), 0);
        if (kept) expect(norm).toBeGreaterThan(0);
        else expect(norm).toBe(0);
      });
    });
    s.dispose();
  });
});

describe('finite-difference gradient checks (cpu)', () => {
  beforeAll(() => useBackend('cpu'));

  it.each([
    ['top-2 router + relu experts', authorsLmRouterConfig(D, E), 'relu'],
    [
      'noisy top-2 with aux losses + gelu experts',
      {
        ...vmoeRouterConfig(D, E),
        capacityFactor: null,
        aux: { importance: 0.1, load: 0.1, zLoss: 0.01 },
      },
      'gelu',
    ],
    [
      'expert choice + swiglu experts',
      { type: 'expert-choice', dModel: D, numExperts: E },
      'swiglu',
    ],
    [
      'Soft MoE + gelu-tanh experts',
      { type: 'soft', dModel: D, numExperts: E, groupSize: 6 },
      'gelu-tanh',
    ],
  ] as [string, RouterConfigInput, Activation][])('%s', (_name, config, activation) => {
    const s = setup(config, activation, 11);
    const loss = () => {
      const routing = s.router.route(s.x, { training: true, rng: new Rng(5) });
      return tf.add(
        tf.sum(tf.mul(sparseMoE(s.x, routing, s.bank), s.r)),
        routing.auxLoss,
      ) as tf.Scalar;
    };
    // Perturbations must not change which tokens an expert picks (a jump, not a slope): expert
    // choice compares tokens against each other, so it gets a smaller step.
    const eps = config.type === 'expert-choice' ? 1e-3 : 1e-2;
    const res = checkVariableGradients(loss, s.vars, {
      eps,
      samplesPerInput: 6,
      atol: 5e-3,
      rtol: 2e-2,
    });
    if (!res.ok) throw new Error(`gradient check failed: ${JSON.stringify(res.worst)}`);
    expect(res.checked).toBeGreaterThan(20);
    s.dispose();
  });
});

describe('cpu and wasm agree', () => {
  it.each(ROUTERS.slice(0, 8))('%s', async (_name, config, strategy) => {
    const results: ReturnType<typeof run>[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const s = setup(config, 'gelu', 21);
      results.push(run(s, 'sparse', strategy));
      s.dispose();
    }
    expect(maxAbsDiff(results[1]!.y, results[0]!.y)).toBeLessThanOrEqual(1e-5);
    results[0]!.grads.forEach((g, i) => {
      expect(maxAbsDiff(results[1]!.grads[i]!, g)).toBeLessThanOrEqual(1e-4);
    });
  });
});
