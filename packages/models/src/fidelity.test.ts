// Fidelity through the models: each configured option reaches the computation, checked against
// values computed by hand from spec §3 (momentum-smoe.md) with the models' own weights. Attention
// and dense sub-layers are zeroed where noted so the hidden state between MoE layers is known.
import { ConfigError, initBackend, layerNorm, maxAbsDiff, Rng } from '@msmoe/core';
import { parseRuleConfig, robustCoefficients } from '@msmoe/update-rules';
import * as tf from '@tensorflow/tfjs';
import { type LmConfigInput, parseLmConfig, presetConfig } from './lm/config.js';
import { disposeCaches, MoELanguageModel } from './lm/model.js';
import type { MoELayer } from './moe-layer.js';
import { MoEVisionTransformer, parseVitConfig } from './vision/vit.js';

beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

const V = 30;
const lm = (over: Partial<LmConfigInput>) =>
  new MoELanguageModel(
    parseLmConfig({
      vocabSize: V,
      dModel: 8,
      nHeads: 2,
      dInner: 8,
      architecture: 'sgsg',
      blockLength: 4,
      span: 4,
      numExperts: 4,
      k: 2,
      dropout: 0,
      ...over,
    }),
    new Rng(3),
  );
const TOKENS = Int32Array.from([3, 17, 5, 29, 11, 0, 8, 21]);
const B = 2;

/** Records every input the routers of a model see, per MoE layer, as plain arrays. */
function recordMoeInputs(layers: MoELayer[]): Float32Array[][] {
  return layers.map((layer) => {
    const calls: Float32Array[] = [];
    const route = layer.router.route.bind(layer.router);
    jest.spyOn(layer.router, 'route').mockImplementation((x, o) => {
      calls.push(x.dataSync().slice() as Float32Array);
      return route(x, o);
    });
    return calls;
  });
}

/** The MoE output (eval mode) at a recorded input. */
const moeAt = (layer: MoELayer, input: Float32Array, d: number) =>
  tf.tidy(() => layer(tf.tensor2d(input, [input.length / d, d])).y);

/** Zeroes the named weights (an attention output, an MLP's last layer) so they add nothing. */
function zero(model: { variables(): Record<string, tf.Variable> }, pattern: RegExp): void {
  for (const [n, v] of Object.entries(model.variables()))
    if (pattern.test(n)) v.assign(tf.zerosLike(v));
}

/** The embedded tokens `[B·M, d]`. */
const embedded = (model: MoELanguageModel) =>
  tf.gather(model.variables()['embedding.weight'] as tf.Tensor, tf.tensor1d(TOKENS, 'int32'));

/** Forward on TOKENS; returns the MoE outputs' values and the aux loss. */
function forward(model: MoELanguageModel, training = false, rng?: Rng) {
  return tf.tidy(() => {
    const out = model.forward(TOKENS, B, model.initialCaches(B), { training, rng });
    disposeCaches(out.caches);
    return {
      logits: out.logits.dataSync().slice() as Float32Array,
      aux: out.auxLoss.dataSync()[0] as number,
      routings: out.routings.length,
      hidden: out.moeOutputs.map((h) => h.dataSync().slice() as Float32Array),
    };
  });
}

describe('LM reference structure: look-ahead rules step where the block is heading (spec §3 item 5)', () => {
  // Robust momentum with κ 4, ρ 0.6 (c ≈ 0.28) so that the direction of the look-ahead shows.
  const robust = robustCoefficients(0.6, 4, 1);
  it.each([
    ['robust', 'srsr', (d0: tf.Tensor) => tf.mul(d0, robust.c)],
    ['nesterov', 'snsn', (m0: tf.Tensor) => tf.mul(m0, 0.7)],
  ] as const)('%s: the MoE of layer 1 sees x_1 − look-ahead', (rule, architecture, ahead) => {
    const model = lm({
      architecture,
      rule: rule === 'robust' ? { rule, rho: 0.6, kappa: 4 } : { rule },
    });
    zero(model, /attn\.o$/); // attention adds 0: h ← LN(h + 0)
    const inputs = recordMoeInputs(model.moeLayers);
    forward(model);
    const LN = (t: tf.Tensor) => layerNorm(t);
    // By hand: h1 = LN(emb); Δ0 = α·u0 (robust) or m0 = γ·u0 (Nesterov) from zero state;
    // x_1 = LN_out(h1 + LN_inner(h1 − Δ0)); after attention LN(x_1); MoE 1 at LN(x_1) − c·Δ0.
    const h1 = LN(embedded(model));
    expect(maxAbsDiff(inputs[0]![0]!, h1.dataSync())).toBeLessThan(1e-5);
    const u0 = moeAt(model.moeLayers[0]!, inputs[0]![0]!, 8);
    const scale = rule === 'robust' ? robust.alpha : 1;
    const delta0 = tf.mul(u0, scale);
    const x1 = LN(tf.add(h1, LN(tf.sub(h1, delta0))));
    const expected = tf.sub(LN(x1), ahead(delta0));
    expect(maxAbsDiff(inputs[1]![0]!, expected.dataSync())).toBeLessThan(1e-4);
    // The look-ahead against the step (the defect) is far from it.
    const backwards = tf.add(LN(x1), ahead(delta0));
    expect(maxAbsDiff(inputs[1]![0]!, backwards.dataSync())).toBeGreaterThan(1e-2);
    model.dispose();
  });
});

describe('V-MoE reference structure: robust momentum evaluates MoE(LN(x) + c·α·v_{t−1}) (spec §3 item 3)', () => {
  it('matches the hand computation at the second MoE block', () => {
    const vit = new MoEVisionTransformer(
      parseVitConfig({
        imageHeight: 4,
        imageWidth: 4,
        channels: 1,
        patchSize: 2,
        dModel: 8,
        nHeads: 2,
        depth: 4,
        mlpDim: 8,
        numClasses: 3,
        numExperts: 4,
        rule: 'r',
        structure: 'reference-vmoe',
      }),
      new Rng(4),
    );
    // Patches, class token, attention and MLPs add nothing: every token starts at its position
    // embedding and only the MoE blocks (1 and 3) move it.
    zero(vit, /^(patch_embed\.|cls_token|blocks\.\d+\.(attn\.proj|mlp\.fc2)\.)/);
    const inputs = recordMoeInputs(vit.moeLayers);
    tf.tidy(() => vit.forward(new Float32Array(16).fill(0.5), 1).logits);
    const LN = (t: tf.Tensor, eps = 1e-5) => layerNorm(t, undefined, undefined, eps);
    const { alpha, c } = robustCoefficients(0.2, 1.25, 1);
    const x0 = tf.reshape(vit.variables().pos_embed as tf.Tensor, [5, 8]);
    expect(maxAbsDiff(inputs[0]![0]!, LN(x0, 1e-6).dataSync())).toBeLessThan(1e-5);
    const u0 = moeAt(vit.moeLayers[0]!, inputs[0]![0]!, 8);
    const v0 = tf.neg(u0); // v_0 = −u_0 + β·0
    const x1 = LN(tf.add(x0, tf.mul(v0, alpha))); // out = LN(x + α v)
    const expected = tf.add(LN(x1, 1e-6), tf.mul(v0, c * alpha));
    expect(maxAbsDiff(inputs[1]![0]!, expected.dataSync())).toBeLessThan(1e-4);
    // The defect evaluated LN(x + c·Δ) instead: a different point.
    const defect = LN(tf.add(x1, tf.mul(u0, c * alpha)), 1e-6);
    expect(maxAbsDiff(inputs[1]![0]!, defect.dataSync())).toBeGreaterThan(1e-3);
    vit.dispose();
  });
});

describe('SAM inside a model: one routing and one auxiliary loss per MoE layer', () => {
  it('routings and aux loss count the evaluation whose output the update uses', () => {
    const model = lm({
      rule: { rule: 'sam', rho: 0.5, inner: { rule: 'residual' } },
      router: { aux: { loadBalance: 0.01 } },
    });
    const inputs = recordMoeInputs(model.moeLayers);
    const out = forward(model);
    expect(inputs.map((calls) => calls.length)).toEqual([2, 2]); // SAM evaluates twice per layer
    expect(out.routings).toBe(2);
    // By hand: E · Σ_e frac_e · P_e of the perturbed evaluation (the second) of each layer, weight 0.01.
    const expected = model.moeLayers.reduce((sum, layer, t) => {
      const r = tf.tidy(() => {
        const routing = layer.router.route(tf.tensor2d(inputs[t]![1]!, [8, 8]));
        const idx = (routing as { expertIndexValues: Int32Array }).expertIndexValues;
        return { probs: routing.probs.arraySync() as number[][], idx };
      });
      const frac = [0, 0, 0, 0];
      for (const e of r.idx) frac[e]! += 1 / r.idx.length;
      const P = [0, 1, 2, 3].map((e) => r.probs.reduce((s, row) => s + row[e]!, 0) / 8);
      return sum + 0.01 * 4 * frac.reduce((s, f, e) => s + f * P[e]!, 0);
    }, 0);
    expect(out.aux).toBeCloseTo(expected, 6);
    model.dispose();
  });
});

describe("AdamSMoE's layer0Quirk reaches the model", () => {
  it('drops the inner residual of MoE layer 0: x_1 = LN_out(h + LN_inner(−Δ_0))', () => {
    const make = (quirk: boolean) => {
      const m = lm({ architecture: 'sasa', rule: { rule: 'adam', layer0Quirk: quirk } });
      zero(m, /attn\.o$/);
      return m;
    };
    const quirk = make(true);
    const plain = make(false);
    const inputs = recordMoeInputs(quirk.moeLayers);
    const q = forward(quirk);
    const LN = (t: tf.Tensor) => layerNorm(t);
    const h1 = LN(embedded(quirk));
    const u0 = moeAt(quirk.moeLayers[0]!, inputs[0]![0]!, 8);
    // Adam from zero state: p = 0.1u, v = 0.001u², Δ = p/√(v + 1e-8).
    const delta0 = tf.div(tf.mul(u0, 0.1), tf.sqrt(tf.add(tf.mul(tf.square(u0), 0.001), 1e-8)));
    const expected = LN(tf.add(h1, LN(tf.neg(delta0))));
    expect(maxAbsDiff(q.hidden[0]!, expected.dataSync())).toBeLessThan(1e-4);
    expect(maxAbsDiff(q.logits, forward(plain).logits)).toBeGreaterThan(1e-3);
    quirk.dispose();
    plain.dispose();
  });

  it('is refused where it cannot apply, naming the field', () => {
    expect(() =>
      parseLmConfig({
        ...presetConfig('tiny', V, 'a'),
        structure: 'paper',
        rule: { rule: 'adam', layer0Quirk: true },
      }),
    ).toThrow(
      /rule\.layer0Quirk: reproduces the authors' reference code: it needs structure "reference"/,
    );
    expect(() =>
      parseVitConfig({
        imageHeight: 4,
        imageWidth: 4,
        channels: 1,
        patchSize: 2,
        dModel: 8,
        nHeads: 2,
        depth: 2,
        mlpDim: 8,
        numClasses: 3,
        rule: { rule: 'adam', layer0Quirk: true },
      }),
    ).toThrow(/rule\.layer0Quirk/);
  });
});

describe('architecture letters name exactly one rule', () => {
  it('letter g is SMoE only: another rule needs its own letter', () => {
    expect(() => parseLmConfig({ ...presetConfig('tiny', V), rule: { rule: 'nesterov' } })).toThrow(
      ConfigError,
    );
    expect(() => parseLmConfig({ ...presetConfig('tiny', V), rule: { rule: 'nesterov' } })).toThrow(
      /rule: is nesterov, whose MoE letter is "n", but the architecture's MoE layers are "g" \(residual\): write the architecture with "n"/,
    );
    const nesterov = parseLmConfig(presetConfig('tiny', V, 'nesterov'));
    expect(nesterov.architecture).toBe('snsn');
    expect(nesterov.rule).toEqual({ rule: 'nesterov', mu: 0.7, gamma: 1 });
    // The letter alone gives the rule with the authors' defaults; SAM takes its wrapped rule's letter.
    expect(
      parseLmConfig({ ...presetConfig('tiny', V), architecture: 'smsm', rule: undefined }).rule,
    ).toEqual({
      rule: 'heavy-ball',
      mu: 0.7,
      gamma: 1,
    });
    expect(
      parseLmConfig(
        presetConfig('tiny', V, parseRuleConfig({ rule: 'sam', inner: { rule: 'heavy-ball' } })),
      ).architecture,
    ).toBe('smsm');
  });
});

describe('router options are validated with the defaults the model uses', () => {
  it('router: { jitter: 0.01 } builds over the authors’ gate, and the jitter reaches training', () => {
    const config = parseLmConfig({ ...presetConfig('tiny', V), router: { jitter: 0.01 } });
    expect(config.router).toMatchObject({
      type: 'top-k',
      k: 2,
      scoring: 'topk-then-softmax',
      bias: true,
      jitter: 0.01,
      dModel: 64,
      numExperts: 4,
    });
    const jitter = lm({ router: { jitter: 0.3 } });
    const none = lm({});
    // Same weights (same init stream); evaluation is identical, training differs by the jitter.
    expect(forward(jitter).logits).toEqual(forward(none).logits);
    const trainJ = forward(jitter, true, new Rng(9)).logits;
    const trainN = forward(none, true, new Rng(9)).logits;
    expect(maxAbsDiff(trainJ, trainN)).toBeGreaterThan(1e-4);
    jitter.dispose();
    none.dispose();
  });

  it('names the router field of a bad value, and accepts another router type', () => {
    expect(() => parseLmConfig({ ...presetConfig('tiny', V), router: { jitter: 2 } })).toThrow(
      /router\.jitter: /,
    );
    expect(() => parseLmConfig({ ...presetConfig('tiny', V), router: { type: 'lion' } })).toThrow(
      /router\.type: .*top-k.*expert-choice.*soft/,
    );
    const ec = parseLmConfig({ ...presetConfig('tiny', V), router: { type: 'expert-choice' } });
    expect(ec.router.type).toBe('expert-choice');
  });
});

describe('weights saved before the registry layout', () => {
  it('map the old names (update.layers.<t>.*, update.rule.*) to the layers that own them', () => {
    const model = lm({ architecture: 'smsm', rule: { rule: 'heavy-ball', mu: { init: 0.6 } } });
    expect(model.currentWeightName('update.layers.1.ln_inner.weight')).toBe(
      'layers.3.ln_inner.weight',
    );
    expect(model.currentWeightName('update.rule.mu')).toBe('rule.mu');
    expect(Object.keys(model.variables())).toEqual(
      expect.arrayContaining(['layers.1.ln_inner.weight', 'layers.3.ln_out.bias', 'rule.mu']),
    );
    model.dispose();
  });
});
