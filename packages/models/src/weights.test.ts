import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, Rng } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { parseLmConfig, presetConfig } from './lm/config.js';
import { disposeCaches, MoELanguageModel } from './lm/model.js';
import { loadWeights, saveWeights } from './weights.js';

it('saves and loads LM weights with the config in the metadata; the forward is reproduced', async () => {
  await initBackend({ prefer: 'cpu', fallback: false, env: {} });
  const dir = mkdtempSync(join(tmpdir(), 'msmoe-w-'));
  const file = join(dir, 'model.safetensors');
  const cfg = {
    ...presetConfig('tiny', 40, 'm'),
    dModel: 16,
    nHeads: 2,
    dInner: 16,
    blockLength: 4,
    span: 4,
  };
  const a = new MoELanguageModel(parseLmConfig(cfg), new Rng(1));
  await saveWeights(file, a);
  const tokens = Int32Array.from({ length: 8 }, (_, i) => (i * 7) % 40);
  const logits = (m: MoELanguageModel) =>
    tf.tidy(() => {
      const out = m.forward(tokens, 2, m.initialCaches(2));
      disposeCaches(out.caches);
      return Array.from(out.logits.dataSync());
    });
  const b = new MoELanguageModel(parseLmConfig(cfg), new Rng(2));
  expect(logits(b)).not.toEqual(logits(a));
  const metadata = await loadWeights(file, b);
  expect(JSON.parse(metadata.config!).architecture).toBe('smsm');
  expect(logits(b)).toEqual(logits(a));
  const other = new MoELanguageModel(parseLmConfig({ ...cfg, numExperts: 2 }), new Rng(3));
  await expect(loadWeights(file, other)).rejects.toThrow(
    /weights do not match the model: .*"layers.1.moe.router.weight" has shape \[16,4\], the model expects \[16,2\]/,
  );
  [a, b, other].forEach((m) => {
    m.dispose();
  });
  rmSync(dir, { recursive: true, force: true });
});
