import { assertNoTensorLeak, ConfigError, initBackend, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { MoELanguageModel } from '../lm/model.js';
import { MoEVisionTransformer, parseVitConfig, patchify, VIT_PRESETS } from './vit.js';

beforeAll(() => initBackend({ prefer: 'wasm', fallback: false, env: {} }));

it('patchify cuts row-major patches, channels last', () => {
  // 1 image 4×4×1 with values 0..15, patches of 2 → [0,1,4,5], [2,3,6,7], …
  const p = patchify(
    Float32Array.from({ length: 16 }, (_, i) => i),
    1,
    4,
    4,
    1,
    2,
  );
  expect(Array.from(p.slice(0, 8))).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
});

describe.each(['vmoe', 'soft'] as const)('%s ViT', (moe) => {
  it('builds the presets and gives [B, classes] logits', () => {
    for (const name of Object.keys(VIT_PRESETS)) {
      const model = new MoEVisionTransformer(
        parseVitConfig({ ...VIT_PRESETS[name]!, numClasses: 10, moe }),
        new Rng(0),
      );
      const c = model.config;
      const imgs = new Float32Array(2 * c.imageHeight * c.imageWidth * c.channels).fill(0.1);
      const shape = tf.tidy(() => model.forward(imgs, 2).logits.shape);
      expect(shape).toEqual([2, 10]);
      expect(model.parameterCount()).toBeGreaterThan(50_000);
      console.log(`${moe} ${name}: ${model.parameterCount()} parameters`);
      model.dispose();
    }
  });

  it.each([{ rule: 'residual' }, { rule: 'heavy-ball', mu: 0.9 }] as const)(
    'learns a toy task with rule %j and leaks nothing',
    async (rule) => {
      const rng = new Rng(4);
      const model = new MoEVisionTransformer(
        parseVitConfig({
          imageHeight: 8,
          imageWidth: 8,
          channels: 1,
          patchSize: 4,
          dModel: 16,
          nHeads: 2,
          depth: 2,
          mlpDim: 32,
          numClasses: 2,
          moe,
          rule,
        }),
        rng,
      );
      // Class = whether the top half is brighter than the bottom half.
      const B = 16;
      const images = new Float32Array(B * 64);
      const labels = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        labels[b] = b % 2;
        for (let i = 0; i < 64; i++)
          images[b * 64 + i] =
            i < 32 === (b % 2 === 1) ? 1 + 0.1 * rng.normal() : -1 + 0.1 * rng.normal();
      }
      const opt = tf.train.adam(0.01);
      const loss = (training: boolean) => {
        const out = model.forward(images, B, { training, rng });
        return tf.add(MoELanguageModel.nll(out.logits, labels), out.auxLoss) as tf.Scalar;
      };
      const before = tf.tidy(() => loss(false).dataSync()[0]!);
      await assertNoTensorLeak(
        () => opt.minimize(() => loss(true), false, Object.values(model.variables())),
        { repetitions: 40 },
      );
      const after = tf.tidy(() => loss(false).dataSync()[0]!);
      expect(after).toBeLessThan(before * 0.5);
      opt.dispose();
      model.dispose();
    },
  );
});

it('rejects a patch size that does not divide the image', () => {
  expect(
    () =>
      new MoEVisionTransformer(
        parseVitConfig({ ...VIT_PRESETS['mnist-tiny']!, patchSize: 5, numClasses: 10 }),
        new Rng(0),
      ),
  ).toThrow(ConfigError);
  expect(
    () =>
      new MoEVisionTransformer(
        parseVitConfig({ ...VIT_PRESETS['mnist-tiny']!, patchSize: 5, numClasses: 10 }),
        new Rng(0),
      ),
  ).toThrow(/patchSize: must divide the image sides \(28×28\)/);
});
