import { assertNoTensorLeak, ConfigError, initBackend, initTensor, Rng } from '@msmoe/core';
import { ExpertBank } from '@msmoe/experts';
import { authorsLmRouterConfig, createRouter } from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';
import { moeLayer } from './moe-layer.js';

const D = 6;
const E = 4;

describe('moeLayer', () => {
  beforeAll(() => initBackend({ prefer: 'wasm', fallback: false, env: {} }));

  it('keeps the input shape, names its weights and applies output dropout in training', () => {
    const rng = new Rng(2);
    const layer = moeLayer({
      router: createRouter(authorsLmRouterConfig(D, E), rng),
      experts: new ExpertBank({ numExperts: E, dModel: D, dHidden: D, dropout: 0.1 }, rng),
      dropout: 0.5,
    });
    const x = initTensor([2, 5, D], { kind: 'normal', std: 1 }, rng);
    tf.tidy(() => {
      const { y, routing } = layer(x);
      expect(y.shape).toEqual([2, 5, D]);
      expect(routing.numTokens).toBe(10);
      const train = layer(x, { training: true, rng: new Rng(1) }).y.dataSync();
      const zeros = Array.from(train).filter((v) => v === 0).length;
      expect(zeros).toBeGreaterThan(10); // about half of 60 outputs dropped
    });
    expect(Object.keys(layer.variables()).sort()).toEqual([
      'experts.b1',
      'experts.b2',
      'experts.w1',
      'experts.w2',
      'router.bias',
      'router.weight',
    ]);
    expect(() => layer(x, { training: true })).toThrow(/needs options.rng/);
    expect(() => layer(tf.zeros([3, D + 1]))).toThrow(
      `moeLayer: last axis of x [3, ${D + 1}] must be ${D}`,
    );
    x.dispose();
  });

  it('trains (loss decreases) and leaks no tensors over 100 steps', async () => {
    const rng = new Rng(8);
    const layer = moeLayer({
      router: createRouter({ ...authorsLmRouterConfig(D, E), aux: { loadBalance: 0.01 } }, rng),
      experts: new ExpertBank({ numExperts: E, dModel: D, dHidden: 16, dropout: 0.1 }, rng),
    });
    const x = initTensor([32, D], { kind: 'normal', std: 1 }, rng);
    const target = tf.tidy(() => tf.tanh(tf.reverse(x, 1)));
    const opt = tf.train.adam(0.01);
    const stepRng = new Rng(3);
    const loss = (training: boolean) => {
      const { y, routing } = layer(x, { training, rng: stepRng });
      return tf.add(tf.losses.meanSquaredError(target, y), routing.auxLoss) as tf.Scalar;
    };
    const before = tf.tidy(() => loss(false).dataSync()[0]!);
    await assertNoTensorLeak(
      () => opt.minimize(() => loss(true), false, Object.values(layer.variables())),
      {
        repetitions: 100,
        label: 'MoE training step',
      },
    );
    const after = tf.tidy(() => loss(false).dataSync()[0]!);
    expect(after).toBeLessThan(before * 0.7);
    opt.dispose();
    tf.dispose([x, target, ...Object.values(layer.variables())]);
  });

  it('rejects a router/bank mismatch and a bad experts config', () => {
    const rng = new Rng(0);
    expect(() =>
      moeLayer({
        router: createRouter(authorsLmRouterConfig(D, 3), rng),
        experts: new ExpertBank({ numExperts: 4, dModel: D, dHidden: 4 }, rng),
      }),
    ).toThrow('moeLayer: router has 3 experts, bank has 4');
    expect(
      () =>
        new ExpertBank({ numExperts: 4, dModel: D, dHidden: 4, activation: 'silu' } as never, rng),
    ).toThrow(ConfigError);
    expect(
      () =>
        new ExpertBank({ numExperts: 4, dModel: D, dHidden: 4, activation: 'silu' } as never, rng),
    ).toThrow(/experts config: activation: .*\(got "silu"\)/);
  });
});
