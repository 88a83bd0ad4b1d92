import { Rng } from './rng.js';

describe('Rng', () => {
  it('is xoshiro128** (reference outputs for state [1, 2, 3, 4])', () => {
    const rng = Rng.fromState({ s: [1, 2, 3, 4], spare: null });
    const out = Array.from({ length: 6 }, () => rng.nextUint32());
    expect(out).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.random());
    expect(Array.from({ length: 100 }, () => b.random())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.random())).not.toEqual(sa);
  });

  it('distinguishes seeds beyond 32 bits', () => {
    expect(new Rng(1).nextUint32()).not.toBe(new Rng(1 + 2 ** 32).nextUint32());
  });

  it('restores exactly from a saved state, including the spare normal', () => {
    const rng = new Rng(7);
    rng.normal(); // leaves a spare
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.random(), rng.normal(), rng.int(1000)];
    const restored = Rng.fromState(saved);
    expect([restored.normal(), restored.random(), restored.normal(), restored.int(1000)]).toEqual(
      expected,
    );
  });

  it('rejects invalid seeds and states', () => {
    expect(() => new Rng(Number.NaN)).toThrow(/seed must be a finite number/);
    expect(() => Rng.fromState({ s: [0, 0, 0, 0], spare: null })).toThrow(/all zero/);
    expect(() => Rng.fromState({ s: [1, 2, 3] as never, spare: null })).toThrow(
      /four unsigned 32-bit/,
    );
  });

  it('draws uniform values in range with the right moments', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.uniform(-2, 4);
      expect(v >= -2 && v < 4).toBe(true);
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    expect(mean).toBeCloseTo(1, 1);
    expect(sq / n - mean * mean).toBeCloseTo(3, 1); // (b−a)²/12 = 3
  });

  it('draws normal values with mean 0 and std 1', () => {
    const v = new Rng(2).normalArray(200_000);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
  });

  it('int(n) covers [0, n) evenly', () => {
    const rng = new Rng(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => rng.int(0)).toThrow(/n must be an integer/);
  });

  it('shuffle returns a permutation', () => {
    const items = [...Array(50).keys()];
    const shuffled = new Rng(4).shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });

  it('fork gives reproducible, independent streams per label', () => {
    const a = new Rng(5).fork('data');
    const b = new Rng(5).fork('data');
    const c = new Rng(5).fork('dropout');
    const x = a.nextUint32();
    expect(b.nextUint32()).toBe(x);
    expect(c.nextUint32()).not.toBe(x);
  });
});
