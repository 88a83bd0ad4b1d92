import * as tf from '@tensorflow/tfjs';
import { calculateGain, computeFans, initTensor, initValues, linearInit } from './init.js';
import { Rng } from './rng.js';
import { TEST_BACKENDS, useBackend } from './testing/backends.js';
import { ConfigError } from './validate.js';

function stats(v: Float32Array) {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  return { mean, std, min, max };
}

describe('initialisers match torch.nn.init', () => {
  beforeAll(() => useBackend('cpu'));
  const shape = [256, 512]; // [in, out]
  it('calculateGain equals PyTorch’s table', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3);
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3));
    expect(calculateGain('selu')).toBe(0.75);
  });

  it('fans come from the last two axes [in, out]', () => {
    expect(computeFans([256, 512])).toEqual({ fanIn: 256, fanOut: 512 });
    expect(computeFans([16, 256, 512])).toEqual({ fanIn: 256, fanOut: 512 });
    expect(() => computeFans([3])).toThrow(/rank ≥ 2/);
  });

  it('kaiming_uniform(a=√5) is nn.Linear’s U(±1/√fan_in)', () => {
    const v = initValues(shape, { kind: 'kaiming-uniform', a: Math.sqrt(5) }, new Rng(1));
    const s = stats(v);
    const bound = 1 / Math.sqrt(256);
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeGreaterThan(bound * 0.999);
    expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 3);
  });

  it('kaiming_normal(relu) has std √2/√fan_in; fan_out mode uses the out axis', () => {
    const v = initValues(shape, { kind: 'kaiming-normal', nonlinearity: 'relu' }, new Rng(2));
    expect(stats(v).std).toBeCloseTo(Math.SQRT2 / 16, 3);
    const w = initValues(
      shape,
      { kind: 'kaiming-normal', nonlinearity: 'relu', mode: 'fan_out' },
      new Rng(2),
    );
    expect(stats(w).std).toBeCloseTo(Math.SQRT2 / Math.sqrt(512), 3);
  });

  it('xavier uniform and normal use √(6/(in+out)) and √(2/(in+out))', () => {
    const u = stats(initValues(shape, { kind: 'xavier-uniform' }, new Rng(3)));
    const bound = Math.sqrt(6 / 768);
    expect(u.max).toBeLessThanOrEqual(bound);
    expect(u.max).toBeGreaterThan(bound * 0.999);
    const n = stats(initValues(shape, { kind: 'xavier-normal', gain: 2 }, new Rng(3)));
    expect(n.std).toBeCloseTo(2 * Math.sqrt(2 / 768), 3);
  });

  it('experts-uniform is U(±1/√(in·out)) per expert of a stacked bank', () => {
    const s = stats(initValues([4, 64, 32], { kind: 'experts-uniform' }, new Rng(4)));
    const bound = 1 / Math.sqrt(64 * 32);
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeGreaterThan(bound * 0.99);
  });

  it('normal, truncated normal, constants', () => {
    expect(
      stats(initValues([100_000], { kind: 'normal', mean: 1, std: 0.02 }, new Rng(5))).std,
    ).toBeCloseTo(0.02, 3);
    const t = stats(initValues([100_000], { kind: 'trunc-normal', std: 1 }, new Rng(6)));
    expect(t.min).toBeGreaterThanOrEqual(-2);
    expect(t.max).toBeLessThanOrEqual(2);
    expect(t.std).toBeCloseTo(0.88, 1); // std of N(0,1) truncated to ±2
    expect(Array.from(initValues([3], { kind: 'constant', value: 0.5 }, new Rng(0)))).toEqual([
      0.5, 0.5, 0.5,
    ]);
    expect(Array.from(initValues([2], { kind: 'zeros' }, new Rng(0)))).toEqual([0, 0]);
  });

  it('linearInit gives W [in,out] and b [out] both within U(±1/√in)', () => {
    const { W, b } = linearInit(64, 10, new Rng(7));
    expect(W.shape).toEqual([64, 10]);
    expect(b!.shape).toEqual([10]);
    for (const t of [W, b!])
      expect(Math.max(...Array.from(t.dataSync()).map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    tf.dispose([W, b!]);
  });

  it('rejects a bad spec naming the field', () => {
    expect(() => initValues([2, 2], { kind: 'normal', std: -1 }, new Rng(0))).toThrow(ConfigError);
    expect(() => initValues([2, 2], { kind: 'normal', std: -1 }, new Rng(0))).toThrow(
      /init spec: std: .*\(got -1\)/,
    );
    expect(() => initValues([2, 2], { kind: 'he' } as never, new Rng(0))).toThrow(
      /init spec: kind/,
    );
    expect(() => initValues([2], { kind: 'linear-bias' }, new Rng(0))).toThrow(
      /needs the weight fans/,
    );
  });
});

describe('seeded initialisation is identical on every backend', () => {
  it('gives bit-identical tensors on cpu and wasm', async () => {
    const values: Float32Array[] = [];
    for (const backend of TEST_BACKENDS) {
      await useBackend(backend);
      const t = initTensor([32, 16], { kind: 'xavier-normal' }, new Rng(99));
      values.push(t.dataSync() as Float32Array);
      t.dispose();
    }
    expect(Array.from(values[1]!)).toEqual(Array.from(values[0]!));
  });
});
