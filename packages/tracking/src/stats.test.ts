import {
  bootstrapMeanCi,
  minimalDetectableEffect,
  pairedComparison,
  pairedT,
  signTest,
} from './stats.js';

// Reference values from SciPy 1.10 (Debian's python3-scipy):
//   a = [101.2, 98.7, 103.4, 99.9, 100.8, 102.1]; b = [103.0, 99.5, 104.9, 101.7, 101.1, 103.9]
//   stats.ttest_rel(a, b)              → t = −5.121475197315821, p = 0.003702532593063313
//   mean(d) ± t.ppf(.975, 5)·sd/√6     → [−2.002562864955671, −0.6641038017109956]
//   stats.binomtest(1, 6, .5).pvalue   → 0.21875; binomtest(2, 9, .5) → 0.1796875
//   (t.ppf(.975, 5) + t.ppf(.8, 5))·1.3/√6 → 1.8522891610417747
const a = [101.2, 98.7, 103.4, 99.9, 100.8, 102.1];
const b = [103.0, 99.5, 104.9, 101.7, 101.1, 103.9];

describe('paired statistics against SciPy', () => {
  it('paired t-test: statistic, p and the interval of the mean difference', () => {
    const r = pairedT(a, b);
    expect(r.t).toBeCloseTo(-5.121475197315821, 9);
    expect(r.p).toBeCloseTo(0.003702532593063313, 9);
    expect(r.ci95[0]).toBeCloseTo(-2.002562864955671, 8);
    expect(r.ci95[1]).toBeCloseTo(-0.6641038017109956, 8);
    expect(r.df).toBe(5);
  });

  it('sign test: exact binomial p, ties dropped', () => {
    expect(signTest([1, -1, -2, -3, -4, -5]).p).toBeCloseTo(0.21875, 12);
    expect(signTest([1, 2, -1, -2, -3, -4, -5, -6, -7, 0]).p).toBeCloseTo(0.1796875, 12);
    expect(signTest([0, 0]).p).toBe(1);
  });

  it('minimal detectable effect at power 0.8', () => {
    expect(minimalDetectableEffect(1.3, 6)).toBeCloseTo(1.8522891610417747, 6);
  });

  it('bootstrap interval: seeded, and equal to the exact bootstrap distribution (enumerated)', () => {
    const xs = [1, 2, 4, 9];
    // All 4^4 resamples are equally likely: the exact distribution of the resampled mean.
    const means: number[] = [];
    for (let i = 0; i < 256; i++)
      means.push([0, 1, 2, 3].reduce((s, k) => s + (xs[(i >> (2 * k)) & 3] as number), 0) / 4);
    means.sort((p, q) => p - q);
    const [lo, hi] = bootstrapMeanCi(xs, { resamples: 200000, seed: 3 });
    // The exact 2.5% and 97.5% points lie between these order statistics.
    expect(lo).toBeGreaterThanOrEqual((means[5] as number) - 1e-9);
    expect(lo).toBeLessThanOrEqual((means[7] as number) + 1e-9);
    expect(hi).toBeGreaterThanOrEqual((means[248] as number) - 1e-9);
    expect(hi).toBeLessThanOrEqual((means[250] as number) + 1e-9);
    const ys = [1.3, 2.9, 4.1, 9.7, 0.2, 5.5, 3.3];
    const opts = { resamples: 500 };
    expect(bootstrapMeanCi(ys, { ...opts, seed: 3 })).toEqual(
      bootstrapMeanCi(ys, { ...opts, seed: 3 }),
    );
    expect(bootstrapMeanCi(ys, { ...opts, seed: 3 })).not.toEqual(
      bootstrapMeanCi(ys, { ...opts, seed: 4 }),
    );
  });

  it('pairedComparison: relative effect in %, non-finite pairs (diverged runs) left out', () => {
    const c = pairedComparison([99, 198, Number.NaN], [100, 200, 300]);
    expect(c.n).toBe(2);
    expect(c.effectPct).toBeCloseTo(-1, 12);
    expect(c.ci).toEqual([-1, -1]);
    expect(c.sign).toEqual({ positive: 0, negative: 2, p: 0.5 });
  });
});
