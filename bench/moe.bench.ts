// npm run bench:moe — forward+backward time of one MoE layer (N tokens, top-2 router, FFN
// experts) as the number of experts grows: sparse dispatch vs the dense "every expert" oracle.
import { initBackend, initTensor, Rng } from '@msmoe/core';
import { denseMoE, ExpertBank, sparseMoE } from '@msmoe/experts';
import { authorsLmRouterConfig, createRouter } from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';
import { printTable, timeIt, writeResults } from './lib/harness.js';

const quick = process.argv.includes('--quick');
const N = 2048;
const D = 256;
const H = 512;
const EXPERTS = (process.env.MOE_EXPERTS ?? '4,8,16,32,64').split(',').map(Number);
/** Sparse time may grow at most this much from the fewest to the most experts. */
const MAX_GROWTH = 1.5;

const backend = (await initBackend({ prefer: 'wasm', env: {} })).name;
const cases: {
  experts: number;
  impl: 'sparse' | 'dense';
  ms: number;
  tokensPerSec: number;
  maxLoad: number;
}[] = [];

// All sparse cases run before any dense one: the dense oracle grows the wasm heap by gigabytes,
// which slows later allocations and would bias the sparse timings that follow it.
const layers = EXPERTS.map((E) => {
  const rng = new Rng(E);
  const router = createRouter(authorsLmRouterConfig(D, E), rng);
  const bank = new ExpertBank({ numExperts: E, dModel: D, dHidden: H }, rng);
  const x = initTensor([N, D], { kind: 'normal', std: 1 }, rng) as tf.Tensor2D;
  const r = initTensor([N, D], { kind: 'normal', std: 1 }, rng);
  const vars = [...Object.values(router.variables()), ...Object.values(bank.variables())];
  return { E, router, bank, x, r, vars };
});
const impls = (process.env.MOE_SKIP_DENSE ? ['sparse'] : ['sparse', 'dense']) as (
  | 'sparse'
  | 'dense'
)[];
for (const impl of impls) {
  for (const { E, router, bank, x, r, vars } of layers) {
    let maxLoad = 0;
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const routing = router.route(x);
          maxLoad = Math.max(...routing.stats.tokensPerExpert);
          const y = impl === 'sparse' ? sparseMoE(x, routing, bank) : denseMoE(x, routing, bank);
          return tf.sum(tf.mul(y, r)) as tf.Scalar;
        }, vars);
        value.dataSync();
        for (const g of Object.values(grads)) g.dataSync();
      });
    const dense = impl === 'dense';
    // The dense oracle takes up to ~100 s per step at E=64 (every expert on every token, through
    // tfjs-wasm's slow batched matMul): one timed run is enough to show its growth.
    const t = timeIt(step, {
      warmup: dense ? 0 : 2,
      minReps: dense ? 1 : quick ? 3 : 10,
      maxReps: dense ? 1 : 100,
      minTotalMs: dense ? 0 : quick ? 1000 : 5000,
    });
    cases.push({
      experts: E,
      impl,
      ms: t.medianMs,
      tokensPerSec: N / (t.medianMs / 1000),
      maxLoad,
    });
  }
}
for (const { router, bank, x, r } of layers) {
  router.dispose();
  bank.dispose();
  tf.dispose([x, r]);
}
cases.sort((a, b) => a.experts - b.experts || a.impl.localeCompare(b.impl));

printTable(`MoE layer fwd+bwd on ${backend}: N=${N}, d=${D}, h=${H}, top-2`, cases, [
  'experts',
  'impl',
  'ms',
  'tokensPerSec',
  'maxLoad',
]);
const sparse = cases.filter((c) => c.impl === 'sparse');
const growth = (sparse[sparse.length - 1]?.ms ?? 0) / (sparse[0]?.ms ?? 1);
console.log(
  `\nsparse time E=${EXPERTS[EXPERTS.length - 1]} / E=${EXPERTS[0]}: ${growth.toFixed(2)}x (bound ${MAX_GROWTH}x)`,
);
writeResults('moe', {
  backend,
  tokens: N,
  dModel: D,
  dHidden: H,
  k: 2,
  cases: cases.map(({ experts, impl, ms, tokensPerSec }) => ({ experts, impl, ms, tokensPerSec })),
  sparseGrowth: growth,
});
if (growth > MAX_GROWTH) {
  console.error(
    `sparse time grew ${growth.toFixed(2)}x from E=${EXPERTS[0]} to E=${EXPERTS[EXPERTS.length - 1]}`,
  );
  process.exitCode = 1;
}
