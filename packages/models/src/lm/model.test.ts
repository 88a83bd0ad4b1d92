import { assertNoTensorLeak, ConfigError, initBackend, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { LM_PRESETS, type LmConfigInput, parseLmConfig, presetConfig } from './config.js';
import { disposeCaches, MoELanguageModel } from './model.js';

beforeAll(() => initBackend({ prefer: 'wasm', fallback: false, env: {} }));

const small = (over: Partial<LmConfigInput> = {}): LmConfigInput => ({
  vocabSize: 50,
  dModel: 16,
  nHeads: 2,
  dInner: 16,
  architecture: 'sgsg',
  blockLength: 6,
  span: 6,
  numExperts: 4,
  k: 2,
  dropout: 0,
  ...over,
});
const tokens = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(50));
};

describe('MoE language model', () => {
  it('every preset builds; parameter counts follow the architecture', () => {
    const V = 1000;
    for (const name of Object.keys(LM_PRESETS)) {
      const cfg = presetConfig(name, V);
      const model = new MoELanguageModel(parseLmConfig(cfg), new Rng(0));
      const c = model.config;
      const d = c.dModel;
      const h = c.dInner;
      expect(h).toBe(d); // dInner left out: d, as the authors
      const E = c.numExperts;
      const attn = [...c.architecture].filter((l) => l === 's').length;
      const moe = [...c.architecture].filter((l) => 'gmanpr'.includes(l)).length;
      const dense = [...c.architecture].filter((l) => l === 'f').length;
      const expected =
        V * d +
        d * V +
        V + // embedding, output
        attn * (4 * d * d + (d / c.nHeads) * c.span + 2 * d) + // q, k, v, o, key_pe, post-LN
        moe * (d * E + E + E * (2 * d * h + h + d) + 4 * d) + // router, experts, the reference LN_inner and LN2
        dense * (2 * d * h + h + d + 2 * d);
      expect(model.parameterCount()).toBe(expected);
      console.log(
        `preset ${name}: ${(model.parameterCount() / 1e6).toFixed(2)} M parameters (vocabulary ${V})`,
      );
      model.dispose();
    }
    // A given dInner reaches the experts' and the dense FFN's weights.
    const wide = new MoELanguageModel(
      parseLmConfig(small({ dInner: 24, architecture: 'sgsf' })),
      new Rng(0),
    );
    expect(wide.variables()['layers.1.moe.experts.w1']?.shape).toEqual([4, 16, 24]);
    expect(wide.variables()['layers.3.ffn.w1']?.shape).toEqual([16, 24]);
    wide.dispose();
    expect(() => presetConfig('huge', 10)).toThrow(
      /unknown "huge"; allowed: tiny, mini, small, medium, large, glam-medium/,
    );
  });

  it('is causal inside a block and sees the previous block through the cache', () => {
    const model = new MoELanguageModel(parseLmConfig(small()), new Rng(1));
    const B = 2;
    const a = tokens(12, 1);
    const b = a.slice();
    b[5] = (b[5]! + 1) % 50; // last position of stream 0
    const run = (t: Int32Array) =>
      tf.tidy(() => {
        const caches = model.initialCaches(B);
        const out = model.forward(t, B, caches);
        disposeCaches(out.caches);
        return out.logits.arraySync() as number[][];
      });
    const la = run(a);
    const lb = run(b);
    for (let i = 0; i < 5; i++) expect(lb[i]).toEqual(la[i]); // earlier positions unchanged
    expect(lb[5]).not.toEqual(la[5]);
    expect(lb[6]).toEqual(la[6]); // the other stream is independent
    // Block 2 depends on block 1 through the caches.
    const second = (first: Int32Array) =>
      tf.tidy(() => {
        const o1 = model.forward(first, B, model.initialCaches(B));
        const o2 = model.forward(tokens(12, 9), B, o1.caches);
        disposeCaches(o1.caches);
        disposeCaches(o2.caches);
        return o2.logits.arraySync() as number[][];
      });
    expect(second(a)[0]).not.toEqual(second(tokens(12, 3))[0]);
    model.dispose();
  });

  it.each(['g', 'm', 'a', 'r'] as const)(
    'architecture letter %s: trains (loss falls) without leaking tensors',
    async (letter) => {
      const rng = new Rng(2);
      const model = new MoELanguageModel(
        parseLmConfig(small({ architecture: `s${letter}s${letter}`, dropout: 0.1 })),
        rng,
      );
      const B = 4;
      // A learnable stream: token t+1 = (t·7 + 3) mod 50.
      const seq = new Int32Array(B * 7);
      for (let i = 0; i < seq.length; i++)
        seq[i] = i % 7 === 0 ? (i * 13) % 50 : (seq[i - 1]! * 7 + 3) % 50;
      const input = new Int32Array(B * 6);
      const target = new Int32Array(B * 6);
      for (let b = 0; b < B; b++)
        for (let t = 0; t < 6; t++) {
          input[b * 6 + t] = seq[b * 7 + t]!;
          target[b * 6 + t] = seq[b * 7 + t + 1]!;
        }
      const opt = tf.train.adam(0.01);
      const vars = Object.values(model.variables());
      const lossOf = (training: boolean) => {
        const out = model.forward(input, B, model.initialCaches(B), { training, rng });
        disposeCaches(out.caches);
        return tf.add(MoELanguageModel.nll(out.logits, target), out.auxLoss) as tf.Scalar;
      };
      const before = tf.tidy(() => lossOf(false).dataSync()[0]!);
      await assertNoTensorLeak(() => opt.minimize(() => lossOf(true), false, vars), {
        repetitions: 40,
        label: `${letter} step`,
      });
      const after = tf.tidy(() => lossOf(false).dataSync()[0]!);
      expect(after).toBeLessThan(before * 0.5);
      opt.dispose();
      model.dispose();
    },
  );

  it('the paper structure works and names its weights', () => {
    const model = new MoELanguageModel(parseLmConfig(small({ structure: 'paper' })), new Rng(3));
    const names = Object.keys(model.variables());
    expect(names).toContain('final_ln.weight');
    expect(names).toContain('layers.1.moe.experts.w1');
    expect(names).toContain('layers.0.attn.keyPe');
    const out = tf.tidy(() => {
      const o = model.forward(tokens(12, 4), 2, model.initialCaches(2));
      disposeCaches(o.caches);
      return o.logits.shape;
    });
    expect(out).toEqual([12, 50]);
    model.dispose();
  });

  it('rejects bad configurations naming the field', () => {
    expect(() => new MoELanguageModel(parseLmConfig(small({ nHeads: 3 })), new Rng(0))).toThrow(
      ConfigError,
    );
    expect(() => new MoELanguageModel(parseLmConfig(small({ nHeads: 3 })), new Rng(0))).toThrow(
      /nHeads: must divide dModel \(16\)/,
    );
    expect(
      () => new MoELanguageModel(parseLmConfig(small({ architecture: 'sgsm' })), new Rng(0)),
    ).toThrow(/architecture: mixes MoE letters g, m/);
    expect(
      () => new MoELanguageModel(parseLmConfig(small({ architecture: 'sx' })), new Rng(0)),
    ).toThrow(
      /architecture: letters s \(attention\), f \(dense\) and MoE letters g, m, n, a, p, r only/,
    );
    expect(
      () =>
        new MoELanguageModel(
          parseLmConfig(small({ architecture: 'smsm', rule: { rule: 'adam' } })),
          new Rng(0),
        ),
    ).toThrow(/rule: is adam, whose MoE letter is "a", but the architecture's MoE layers are "m"/);
  });
});
