import { stabilityMetrics } from './stability.js';

/** A smooth decaying curve, plus optional zigzag of amplitude `a` and spikes at given steps. */
function curve(n: number, a = 0, spikes: number[] = []): number[] {
  return Array.from(
    { length: n },
    (_, t) => 5 * Math.exp(-t / 200) + 2 + a * (t % 2 ? 1 : -1) + (spikes.includes(t) ? 1 : 0),
  );
}

describe('stability metrics on synthetic loss curves', () => {
  it('oscillation and roughness recover a known zigzag; a smooth curve scores ≈ 0', () => {
    const smooth = stabilityMetrics(curve(400), []);
    expect(smooth.lossOscillation).toBeLessThan(1e-4);
    expect(smooth.lossRoughness).toBeLessThan(1e-3);
    expect(smooth.spikes).toBe(0);
    // L = f + a·(±1): |Δ²L| = 4a for every t (f's own curvature is ~1e-5 here).
    const zig = stabilityMetrics(curve(400, 0.05), []);
    expect(zig.lossOscillation).toBeCloseTo(0.2, 3);
    // Residual around a 21-step average of an alternating ±a: ±a·(1 ∓ 1/21), std ≈ a.
    expect(zig.lossRoughness).toBeCloseTo(0.05, 2);
    expect(stabilityMetrics(curve(400, 0.1), []).lossOscillation).toBeCloseTo(0.4, 3);
  });

  it('counts spikes above the running median, not the zigzag around it', () => {
    const s = stabilityMetrics(curve(400, 0.02, [50, 120, 121, 300]), []);
    expect(s.spikes).toBe(4);
    expect(stabilityMetrics(curve(400, 0.02), []).spikes).toBe(0);
  });

  it('gradient-norm variance over the second half, routing change mean, non-finite steps dropped', () => {
    const g = Array.from({ length: 100 }, (_, t) => (t < 50 ? 100 : t % 2 ? 3 : 1));
    const s = stabilityMetrics(curve(100), [...g, Number.NaN], [0.2, 0.1, Number.NaN]);
    // Second half alternates 1, 3: mean 2, sample variance 50/49.
    expect(s.gradNormVariance).toBeCloseTo(50 / 49, 10);
    expect(s.routingChange).toBeCloseTo(0.15, 12);
    expect(stabilityMetrics([1, 2], [1]).lossOscillation).toBeNaN();
  });
});
