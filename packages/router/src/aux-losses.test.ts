import * as tf from '@tensorflow/tfjs';
import { cvSquared, importanceLoss, loadBalanceLoss, loadLoss, zLoss } from './aux-losses.js';
import { useBackend } from './testing/setup.js';

const probs = () =>
  tf.tensor2d([
    [0.7, 0.2, 0.1],
    [0.1, 0.6, 0.3],
  ]);

describe.each(['cpu', 'wasm'] as const)(
  'auxiliary losses equal hand-computed values (%s)',
  (backend) => {
    beforeAll(() => useBackend(backend));

    it('Switch load balance: E · Σ f_e P_e', () => {
      // top-1 choices 0 and 1 → f = [0.5, 0.5, 0]; P = [0.4, 0.4, 0.2] → 3 · (0.2 + 0.2) = 1.2
      expect(loadBalanceLoss(probs(), [0, 1]).dataSync()[0]).toBeCloseTo(1.2, 6);
      // top-2 choices: f over the N·k = 4 assignments = [0.25, 0.5, 0.25]
      expect(loadBalanceLoss(probs(), [0, 1, 1, 2]).dataSync()[0]).toBeCloseTo(
        3 * (0.25 * 0.4 + 0.5 * 0.4 + 0.25 * 0.2),
        6,
      );
      // uniform routing gives exactly 1
      expect(
        loadBalanceLoss(tf.fill([4, 2], 0.5) as tf.Tensor2D, [0, 1, 0, 1]).dataSync()[0],
      ).toBeCloseTo(1, 6);
    });

    it('importance: cv² of Σ_t p_te', () => {
      // sums [0.8, 0.8, 0.4]: mean 2/3, population variance 0.0355…, cv² = 0.08
      expect(importanceLoss(probs()).dataSync()[0]).toBeCloseTo(0.08, 5);
      expect(cvSquared(tf.tensor1d([2, 2, 2])).dataSync()[0]).toBeCloseTo(0, 8);
    });

    it('V-MoE load loss with Gaussian noise', () => {
      // One token, k = 1, σ = 1: threshold = largest noisy logit 1.2; p = 1 − Φ(1.2 − clean).
      const phi = { 0.2: 0.579259709439103, 1.2: 0.884930329778292 };
      const p = [1 - phi[0.2], 1 - phi[1.2]];
      const mean = (p[0]! + p[1]!) / 2;
      const variance = ((p[0]! - mean) ** 2 + (p[1]! - mean) ** 2) / 2;
      const got = loadLoss(tf.tensor2d([[1, 0]]), tf.tensor2d([[1.2, 0.5]]), 1, 1).dataSync()[0];
      expect(got).toBeCloseTo(variance / mean ** 2, 4);
    });

    it('router z-loss: mean(logsumexp²)', () => {
      const lse = [Math.log(2), 1 + Math.log(2)];
      expect(
        zLoss(
          tf.tensor2d([
            [0, 0],
            [1, 1],
          ]),
        ).dataSync()[0],
      ).toBeCloseTo((lse[0]! ** 2 + lse[1]! ** 2) / 2, 5);
    });

    it('every loss is differentiable with respect to the logits/probabilities', () => {
      const g = tf.grad((l: tf.Tensor) =>
        tf.add(zLoss(l as tf.Tensor2D), importanceLoss(tf.softmax(l) as tf.Tensor2D)),
      )(
        tf.tensor2d([
          [0.1, 0.5, -0.2],
          [1, 0, 0],
        ]),
      );
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    });
  },
);
