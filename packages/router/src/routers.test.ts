import { ConfigError, initTensor, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import {
  authorsLmRouterConfig,
  parseRouterConfig,
  switchRouterConfig,
  vmoeRouterConfig,
} from './config.js';
import { createRouter } from './create.js';
import { ExpertChoiceRouter } from './expert-choice.js';
import { SoftMoERouter } from './soft.js';
import { routingChange, topExpert } from './stats.js';
import { setValues, useBackend } from './testing/setup.js';
import { TopKRouter } from './top-k.js';

const tokens = (n: number, d: number, seed = 1) =>
  initTensor([n, d], { kind: 'normal', std: 1 }, new Rng(seed)) as tf.Tensor2D;
const rowSums = (t: tf.Tensor, axis: number) => Array.from(tf.sum(t, axis).dataSync());

describe.each(['cpu', 'wasm'] as const)('routers on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('authors’ LM gate: top-2 of raw logits, softmax over the two', () => {
    const router = new TopKRouter(
      { type: 'top-k', dModel: 3, numExperts: 3, k: 2, bias: false },
      new Rng(0),
    );
    setValues(router.variables().weight!, [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const r = router.route(tf.tensor2d([[3, 1, 2]]));
    expect(Array.from(r.expertIndexValues)).toEqual([0, 2]);
    const e = [Math.exp(3), Math.exp(2)];
    const gate = Array.from(r.gate.dataSync());
    expect(gate[0]).toBeCloseTo(e[0]! / (e[0]! + e[1]!), 6);
    expect(gate[1]).toBeCloseTo(e[1]! / (e[0]! + e[1]!), 6);
    expect(rowSums(r.probs, 1)[0]).toBeCloseTo(1, 6);
    expect(r.stats.tokensPerExpert).toEqual([1, 0, 1]);
    router.dispose();
  });

  it('softmax-then-topk gates are the top probabilities, renormalised only on request', () => {
    const x = tokens(8, 4);
    const plain = new TopKRouter(
      { type: 'top-k', dModel: 4, numExperts: 5, k: 2, scoring: 'softmax-then-topk' },
      new Rng(3),
    );
    const r = plain.route(x);
    const probs = r.probs.arraySync();
    const gate = r.gate.arraySync();
    for (let t = 0; t < 8; t++) {
      expect(gate[t]![0]).toBeCloseTo(probs[t]![r.expertIndexValues[t * 2]!]!, 6);
    }
    expect(rowSums(r.gate, 1).every((s) => s < 1)).toBe(true);
    const renorm = new TopKRouter(
      {
        type: 'top-k',
        dModel: 4,
        numExperts: 5,
        k: 2,
        scoring: 'softmax-then-topk',
        renormalize: true,
      },
      new Rng(3),
    );
    for (const s of rowSums(renorm.route(x).gate, 1)) expect(s).toBeCloseTo(1, 5);
    plain.dispose();
    renorm.dispose();
  });

  it('noise and jitter apply in training only, reproducibly from the rng', () => {
    const router = createRouter(
      { ...vmoeRouterConfig(4, 6), noise: { type: 'gaussian', std: 0.5 }, jitter: 0.1 },
      new Rng(1),
    ) as TopKRouter;
    const x = tokens(16, 4);
    expect(() => router.route(x, { training: true })).toThrow(
      'TopKRouter.route: training with noise or jitter needs options.rng',
    );
    const evalA = router.route(x).probs.dataSync();
    const evalB = router.route(x).probs.dataSync();
    expect(Array.from(evalA)).toEqual(Array.from(evalB));
    const trainA = router.route(x, { training: true, rng: new Rng(9) }).probs.dataSync();
    const trainB = router.route(x, { training: true, rng: new Rng(9) }).probs.dataSync();
    expect(Array.from(trainA)).toEqual(Array.from(trainB));
    expect(Array.from(trainA)).not.toEqual(Array.from(evalA));
    router.dispose();
  });

  it('learned noise weights receive a gradient from the load loss', () => {
    const router = new TopKRouter(
      {
        type: 'top-k',
        dModel: 4,
        numExperts: 4,
        k: 2,
        noise: { type: 'learned' },
        aux: { load: 1 },
      },
      new Rng(2),
    );
    const x = tokens(32, 4);
    const { grads } = tf.variableGrads(
      () => router.route(x, { training: true, rng: new Rng(4) }).auxLoss,
      [router.variables()['noise.weight']!],
    );
    const g = Object.values(grads)[0]!.dataSync();
    expect(Array.from(g).some((v) => v !== 0 && Number.isFinite(v))).toBe(true);
    router.dispose();
  });

  it('capacity drops exactly the overflow and zeroes its gate; eval uses the eval factor', () => {
    const router = new TopKRouter(
      {
        type: 'top-k',
        dModel: 2,
        numExperts: 2,
        k: 1,
        bias: false,
        scoring: 'softmax-then-topk',
        capacityFactor: { train: 1, eval: 2 },
      },
      new Rng(0),
    );
    setValues(router.variables().weight!, [
      [1, 0],
      [0, 1],
    ]);
    // Tokens 0–3 prefer expert 0, tokens 4–5 expert 1; capacity ceil(1·1·6/2) = 3.
    const x = tf.tensor2d([
      [2, 0],
      [2, 0.1],
      [2, 0.2],
      [2, 0.3],
      [0, 2],
      [0, 2],
    ]);
    const r = router.route(x, { training: true, rng: new Rng(0) });
    expect(r.capacity).toBe(3);
    expect(r.stats.droppedTokens).toBe(1);
    expect(Array.from(r.kept)).toEqual([1, 1, 1, 0, 1, 1]);
    expect(r.gate.dataSync()[3]).toBe(0);
    expect(r.stats.tokensPerExpert).toEqual([3, 2]);
    const ev = router.route(x);
    expect(ev.capacity).toBe(6);
    expect(ev.stats.droppedTokens).toBe(0);
    router.dispose();
  });

  it('dropless raises capacity to the largest load', () => {
    const router = new TopKRouter(
      {
        type: 'top-k',
        dModel: 2,
        numExperts: 2,
        k: 1,
        bias: false,
        capacityFactor: { train: 1, eval: 1 },
        dropless: true,
      },
      new Rng(0),
    );
    setValues(router.variables().weight!, [
      [1, 0],
      [0, 1],
    ]);
    const r = router.route(
      tf.tensor2d([
        [2, 0],
        [2, 0],
        [2, 0],
        [2, 0],
        [0, 2],
        [0, 2],
      ]),
    );
    expect(r.capacity).toBe(4);
    expect(r.dropless).toBe(true);
    expect(r.stats.droppedTokens).toBe(0);
    router.dispose();
  });

  it('batch priority routing serves the most confident tokens first', () => {
    const router = new TopKRouter(
      {
        type: 'top-k',
        dModel: 2,
        numExperts: 2,
        k: 1,
        bias: false,
        scoring: 'softmax-then-topk',
        capacityFactor: { train: 0.5, eval: 0.5 },
        priority: 'batch-priority',
      },
      new Rng(0),
    );
    setValues(router.variables().weight!, [
      [1, 0],
      [0, 1],
    ]);
    // All prefer expert 0 (capacity ceil(0.5·4/2) = 1): the most confident (token 2) wins.
    const r = router.route(
      tf.tensor2d([
        [1, 0],
        [1.5, 0],
        [4, 0],
        [2, 0],
      ]),
    );
    expect(Array.from(r.kept)).toEqual([0, 0, 1, 0]);
    router.dispose();
  });

  it('weights the configured auxiliary losses into auxLoss', () => {
    const router = createRouter(
      { ...switchRouterConfig(4, 4), aux: { loadBalance: 0.01, zLoss: 0.001 } },
      new Rng(5),
    );
    const r = router.route(tokens(16, 4), { training: true, rng: new Rng(1) });
    const expected = 0.01 * r.stats.auxLosses.loadBalance! + 0.001 * r.stats.auxLosses.zLoss!;
    expect(r.auxLoss.dataSync()[0]).toBeCloseTo(expected, 6);
    expect(Object.keys(r.auxLosses).sort()).toEqual(['loadBalance', 'zLoss']);
    router.dispose();
  });

  it('expert choice gives every expert exactly C tokens, gated by their probability', () => {
    const router = new ExpertChoiceRouter(
      { type: 'expert-choice', dModel: 4, numExperts: 4, capacityFactor: 2 },
      new Rng(6),
    );
    const r = router.route(tokens(10, 4));
    expect(r.capacity).toBe(5); // ceil(10 · 2 / 4)
    expect(r.tokenIndex.shape).toEqual([4, 5]);
    expect(r.stats.tokensPerExpert).toEqual([5, 5, 5, 5]);
    const probs = r.probs.arraySync();
    const gate = r.gate.arraySync();
    for (let e = 0; e < 4; e++) {
      const chosen = Array.from(r.tokenIndexValues.slice(e * 5, e * 5 + 5));
      expect(new Set(chosen).size).toBe(5);
      chosen.forEach((t, c) => {
        expect(gate[e]![c]).toBeCloseTo(probs[t]![e]!, 6);
      });
      // They are the expert's top 5 tokens.
      const ranked = probs
        .map((p, t) => [p[e]!, t] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 5)
        .map(([, t]) => t);
      expect([...chosen].sort()).toEqual([...ranked].sort());
    }
    router.dispose();
  });

  it('Soft MoE dispatch columns and combine rows each sum to 1', () => {
    const router = new SoftMoERouter(
      { type: 'soft', dModel: 4, numExperts: 3, slotsPerExpert: 2, groupSize: 5 },
      new Rng(7),
    );
    const r = router.route(tokens(10, 4));
    expect(r.dispatch.shape).toEqual([2, 5, 6]);
    for (const s of rowSums(r.dispatch, 1)) expect(s).toBeCloseTo(1, 5); // over the tokens of a group
    for (const s of rowSums(r.combine, 2)) expect(s).toBeCloseTo(1, 5); // over the slots of a token
    for (const s of rowSums(r.probs, 1)) expect(s).toBeCloseTo(1, 5);
    expect(() => router.route(tokens(9, 4))).toThrow(
      '9 tokens do not split into groups of groupSize 5',
    );
    router.dispose();
  });

  it('rejects tokens of the wrong width', () => {
    const router = createRouter(authorsLmRouterConfig(8, 4), new Rng(0));
    expect(() => router.route(tokens(3, 5))).toThrow(
      'TopKRouter.route: tokens must be [N, 8], got [3, 5]',
    );
    router.dispose();
  });
});

describe('routing statistics', () => {
  beforeAll(() => useBackend('cpu'));

  it('routingChange counts top-1 flips; topExpert reads first choices', () => {
    expect(routingChange([0, 1, 2, 3], [0, 1, 3, 3])).toBe(0.25);
    expect(() => routingChange([0], [0, 1])).toThrow(/token counts differ/);
    const router = createRouter(authorsLmRouterConfig(4, 4), new Rng(1));
    const x = tokens(12, 4);
    const r = router.route(x);
    const top = topExpert(r);
    expect(top.length).toBe(12);
    expect(routingChange(top, topExpert(router.route(x)))).toBe(0);
    router.dispose();
  });

  it('entropy is log E for a uniform router and lower for a confident one', () => {
    const router = new TopKRouter(
      { type: 'top-k', dModel: 2, numExperts: 4, k: 1, bias: false },
      new Rng(0),
    );
    setValues(router.variables().weight!, [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(router.route(tokens(5, 2)).stats.entropy).toBeCloseTo(Math.log(4), 5);
    setValues(router.variables().weight!, [
      [20, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(router.route(tf.ones([3, 2]) as tf.Tensor2D).stats.entropy).toBeLessThan(0.01);
    router.dispose();
  });
});

describe('router configuration is validated at the door', () => {
  it.each([
    [
      { type: 'top-k', dModel: 8, numExperts: 4, k: 5 },
      /router config: k: must be ≤ numExperts \(4\) \(got 5\)/,
    ],
    [
      { type: 'top-k', dModel: 8, numExperts: 4, aux: { load: 0.01 } },
      /aux\.load: the load loss needs logit noise/,
    ],
    [
      { type: 'top-k', dModel: 8, numExperts: 4, dropless: true },
      /dropless: dropless needs a capacityFactor/,
    ],
    [{ type: 'top-k', dModel: 8, numExperts: 4, capacity: 2 }, /capacity: unknown field/],
    [{ type: 'top-k', dModel: 8, numExperts: 0 }, /numExperts: .*\(got 0\)/],
    [
      { type: 'top-k', dModel: 8, numExperts: 4, scoring: 'sigmoid' },
      /scoring: .*"topk-then-softmax".*\(got "sigmoid"\)/,
    ],
    [{ type: 'hash', dModel: 8, numExperts: 4 }, /router config: type: .*\(got "hash"\)/],
  ])('%j', (config, message) => {
    expect(() => parseRouterConfig(config)).toThrow(ConfigError);
    expect(() => parseRouterConfig(config)).toThrow(message);
  });

  it('fills documented defaults', () => {
    const c = parseRouterConfig({ type: 'top-k', dModel: 8, numExperts: 4 });
    expect(c).toMatchObject({
      k: 2,
      scoring: 'topk-then-softmax',
      bias: true,
      noise: { type: 'none' },
      capacityFactor: null,
    });
  });
});
