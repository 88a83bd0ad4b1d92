// The native output layer's checks, run in a plain Node process by native.test.ts (Jest's VM
// gives the native binding's output arrays another realm's Float32Array, which onnxruntime's
// Tensor rejects). Prints one JSON object of measured numbers; the test asserts on them.
import {
  initBackend,
  linearCrossEntropy,
  maxRelDiff,
  type OutputLayerKernel,
  outputLayerKernel,
  Rng,
  setOutputLayerKernel,
} from '@msmoe/core';
import { MoELanguageModel, parseLmConfig } from '@msmoe/models';
import * as tf from '@tensorflow/tfjs';
import { enableNativeOutputLayer, loadNativeOutputLayer } from '../native.js';

await initBackend({ prefer: 'wasm', fallback: false, env: {} });

/** The kernel, counting its calls (so a check sees that it ran, not only that values match). */
function counted(): { kernel: OutputLayerKernel; calls: { grads: number; loss: number } } {
  const inner = loadNativeOutputLayer();
  const calls = { grads: 0, loss: 0 };
  return {
    calls,
    kernel: {
      name: inner.name,
      run(args) {
        calls[args.grads ? 'grads' : 'loss']++;
        return inner.run(args);
      },
    },
  };
}

/** Loss and gradients of linearCrossEntropy with whatever kernel is installed. */
function lossAndGrads(
  h: tf.Tensor2D,
  W: tf.Tensor2D,
  b: tf.Tensor1D,
  targets: Int32Array,
  chunkLogits?: number,
): { loss: number; grads: Float32Array[] } {
  const f = tf.valueAndGrads((x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
    linearCrossEntropy(x as tf.Tensor2D, w as tf.Tensor2D, bias as tf.Tensor1D, targets, {
      chunkLogits,
    }),
  );
  const { value, grads } = f([h, W, b]);
  const out = {
    loss: value.dataSync()[0] as number,
    grads: grads.map((g) => g.dataSync() as Float32Array),
  };
  tf.dispose([value, ...grads]);
  return out;
}

/** Native against tfjs on random inputs: whole batch, chunks of 7 rows, and outside a tape. */
function parity() {
  const N = 24;
  const d = 8;
  const V = 50;
  const rng = new Rng(3);
  const h = tf.tensor2d(
    Float32Array.from({ length: N * d }, () => rng.normal()),
    [N, d],
  );
  const W = tf.tensor2d(
    Float32Array.from({ length: d * V }, () => 0.3 * rng.normal()),
    [d, V],
  );
  const b = tf.tensor1d(Float32Array.from({ length: V }, () => 0.1 * rng.normal()));
  const targets = Int32Array.from({ length: N }, () => rng.int(V));
  const reference = lossAndGrads(h, W, b, targets);
  const { kernel, calls } = counted();
  setOutputLayerKernel(kernel);
  const chunks = [undefined, 7 * V].map((chunk) => {
    const native = lossAndGrads(h, W, b, targets, chunk);
    return {
      lossRel: Math.abs(native.loss - reference.loss) / reference.loss,
      gradRel: native.grads.map((g, i) => maxRelDiff(g, reference.grads[i] as Float32Array, 1e-3)),
    };
  });
  const evalLoss = linearCrossEntropy(h, W, b, targets);
  const evalLossRel =
    Math.abs((evalLoss.dataSync()[0] as number) - reference.loss) / reference.loss;
  evalLoss.dispose();
  setOutputLayerKernel(null);
  tf.dispose([h, W, b]);
  return { chunks, evalLossRel, calls };
}

/** h = I, W = the logits, b = 0: the loss against the formula. */
function handMade() {
  setOutputLayerKernel(loadNativeOutputLayer());
  const z = [
    [1, 2, 3],
    [0, 0, 0],
  ];
  const loss = linearCrossEntropy(
    tf.tensor2d([1, 0, 0, 1], [2, 2]),
    tf.tensor2d(z.flat(), [2, 3]),
    tf.zeros([3]) as tf.Tensor1D,
    Int32Array.of(2, 0),
  );
  const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
  const expected = (lse(z[0] as number[]) - 3 + lse(z[1] as number[]) - 0) / 2;
  const value = loss.dataSync()[0] as number;
  loss.dispose();
  setOutputLayerKernel(null);
  return { value, expected };
}

/** An LM trained 5 Adam steps with and without the kernel, from the same weights and batch. */
function training() {
  const config = parseLmConfig({
    vocabSize: 60,
    dModel: 16,
    nHeads: 2,
    dInner: 16,
    architecture: 'sgsg',
    blockLength: 8,
    span: 8,
    dropout: 0,
    numExperts: 4,
    k: 2,
  });
  const data = new Rng(9);
  const tokens = Int32Array.from({ length: 4 * 8 }, () => data.int(60));
  const next = Int32Array.from({ length: 4 * 8 }, () => data.int(60));
  const train = (steps: number) => {
    const model = new MoELanguageModel(config, new Rng(1));
    const opt = tf.train.adam(1e-2);
    const caches = model.initialCaches(4);
    const losses: number[] = [];
    let before = 0;
    for (let s = 0; s < steps; s++) {
      if (s === 1) before = tf.memory().numTensors;
      const cost = opt.minimize(
        () => {
          const out = model.loss(tokens, next, 4, caches);
          tf.dispose(out.caches); // kept by the model for the next block: not needed here
          return out.nll;
        },
        true,
        Object.values(model.variables()),
      ) as tf.Scalar;
      losses.push(cost.dataSync()[0] as number);
      cost.dispose();
    }
    const growth = tf.memory().numTensors - before;
    tf.dispose(caches);
    opt.dispose();
    model.dispose();
    return { losses, growth };
  };
  const reference = train(5);
  const { kernel, calls } = counted();
  setOutputLayerKernel(kernel);
  const native = train(5);
  setOutputLayerKernel(null);
  return { reference, native, calls };
}

/** The switch: MSMOE_NATIVE_OUTPUT=off leaves tfjs; another value is an error; unset installs the kernel. */
function switches() {
  process.env.MSMOE_NATIVE_OUTPUT = 'off';
  const off = enableNativeOutputLayer();
  const offKernel = outputLayerKernel()?.name ?? null;
  process.env.MSMOE_NATIVE_OUTPUT = '0';
  let bad = '';
  try {
    enableNativeOutputLayer();
  } catch (err) {
    bad = `${(err as Error).name}: ${(err as Error).message}`;
  }
  const badKernel = outputLayerKernel()?.name ?? null;
  delete process.env.MSMOE_NATIVE_OUTPUT;
  const on = enableNativeOutputLayer();
  const onKernel = outputLayerKernel()?.name ?? null;
  setOutputLayerKernel(null);
  return { off, offKernel, bad, badKernel, on, onKernel };
}

console.log(
  JSON.stringify({
    parity: parity(),
    handMade: handMade(),
    training: training(),
    switches: switches(),
  }),
);
