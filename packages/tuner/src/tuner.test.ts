import {
  categoricalDistribution,
  distributionFromJson,
  distributionToJson,
  floatDistribution,
  intDistribution,
  pyFloat,
} from './distributions.js';
import { pedAnovaImportance } from './importance.js';
import { logGaussMass, logNdtr, ndtr, ndtri, truncnormPpf } from './math.js';
import {
  HyperbandPruner,
  MedianPruner,
  nanPercentile,
  SuccessiveHalvingPruner,
} from './pruners.js';
import { renderStudyHtml } from './report.js';
import {
  linearForgettingWeights,
  OPTUNA_PARZEN,
  ParzenEstimator,
  type ParzenOptions,
  univariateSigmas,
} from './samplers/parzen.js';
import {
  hyperoptGamma,
  optunaGamma,
  RandomSampler,
  splitTrials,
  type TpePreset,
  TpeSampler,
} from './samplers/tpe.js';
import { parseSpace, suggestSpace } from './space.js';
import { Study, TrialPruned } from './study.js';
import type { FrozenTrial } from './trial.js';

const OPTS = (o: Partial<ParzenOptions> = {}): ParzenOptions => ({ ...OPTUNA_PARZEN, ...o });

describe('normal distribution helpers', () => {
  it('Φ, ln Φ and Φ⁻¹ agree with reference values, including far tails', () => {
    expect(ndtr(0)).toBe(0.5);
    expect(ndtr(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(ndtr(-8)).toBeCloseTo(6.22096057427178e-16, 28);
    expect(logNdtr(-40)).toBeCloseTo(-804.6084420137538, 9); // scipy.special.log_ndtr(-40)
    expect(logNdtr(-10)).toBeCloseTo(-53.23128515051247, 10);
    for (const p of [1e-12, 0.01, 0.3, 0.5, 0.9, 0.999999])
      expect(ndtr(ndtri(p))).toBeCloseTo(p, 13);
    expect(logGaussMass(-1, 1)).toBeCloseTo(Math.log(0.6826894921370859), 13);
    expect(logGaussMass(30, 31)).toBeCloseTo(logNdtr(-30), 6); // right tail by symmetry, no 0 − 0
  });

  it('the truncated-normal inverse CDF stays in [a, b] and is monotone, even in a far tail', () => {
    for (const [a, b] of [
      [-1, 1],
      [5, 9],
      [-9, -5],
      [-0.5, 30],
    ] as const) {
      let prev = Number.NEGATIVE_INFINITY;
      for (let u = 0; u <= 1; u += 0.05) {
        const x = truncnormPpf(u, a, b);
        expect(x).toBeGreaterThanOrEqual(a);
        expect(x).toBeLessThanOrEqual(b);
        expect(x).toBeGreaterThanOrEqual(prev - 1e-12);
        prev = x;
      }
    }
  });
});

describe('search space', () => {
  it('validates with Optuna’s rules and names the parameter', () => {
    expect(() => floatDistribution('lr', 1, 0)).toThrow(
      'parameter "lr": low (1) must be ≤ high (0)',
    );
    expect(() => floatDistribution('lr', 0, 1, { log: true })).toThrow('log needs low > 0');
    expect(() => floatDistribution('x', 0, 1, { log: true, step: 0.1 })).toThrow(
      'step is not allowed with log',
    );
    expect(() => intDistribution('n', 0, 10, { log: true })).toThrow('log needs low ≥ 1');
    expect(() => intDistribution('n', 1, 10, { step: 0 })).toThrow('step must be an integer ≥ 1');
    expect(() => categoricalDistribution('c', [])).toThrow('non-empty');
    expect(floatDistribution('x', 0, 1, { step: 0.3 }).high).toBe(0.9); // decimal adjustment
    expect(intDistribution('n', 0, 10, { step: 3 }).high).toBe(9);
  });

  it('round-trips Optuna’s distribution JSON', () => {
    const d = floatDistribution('lr', 1e-5, 0.01, { log: true });
    expect(distributionToJson(d)).toBe(
      '{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.01, "log": true}}',
    );
    expect(distributionFromJson(distributionToJson(d))).toEqual(d);
    expect([3, 0.5, 1e16, 1.5e-7, Number.NaN, -Infinity].map(pyFloat)).toEqual([
      '3.0',
      '0.5',
      '1e+16',
      '1.5e-07',
      'NaN',
      '-Infinity',
    ]);
    const i = intDistribution('n', 1, 9, { step: 2 });
    expect(distributionFromJson(distributionToJson(i))).toEqual(i);
    expect(
      distributionFromJson(
        '{"name": "LogUniformDistribution", "attributes": {"low": 0.1, "high": 1.0}}',
      ),
    ).toMatchObject({ kind: 'float', log: true });
  });

  it('declarative spaces validate, and conditional sub-spaces appear only under their choice', async () => {
    expect(() => parseSpace({ lr: { type: 'float', low: 1, high: 0 } })).toThrow(
      'parameter "lr": low (1) must be ≤ high (0)',
    );
    expect(() => parseSpace({ lr: { type: 'floaty', low: 0, high: 1 } })).toThrow(
      /space: lr\.type/,
    );
    expect(() =>
      parseSpace({ r: { type: 'categorical', choices: ['m'], conditional: { a: {} } } }),
    ).toThrow('conditional key "a"');
    const space = parseSpace({
      rule: {
        type: 'categorical',
        choices: ['m', 'a'],
        conditional: {
          m: { mu: { type: 'float', low: 0.1, high: 0.99 } },
          a: { beta1: { type: 'float', low: 0.5, high: 0.99 } },
        },
      },
      lr: { type: 'float', low: 1e-4, high: 1e-2, log: true },
    });
    const study = await Study.create({ sampler: new RandomSampler(), seed: 3 });
    const seen = new Set<string>();
    await study.optimize(
      async (t) => {
        const p = await suggestSpace(t, space);
        seen.add(Object.keys(p).sort().join(','));
        expect(p.rule === 'm' ? 'mu' in p && !('beta1' in p) : 'beta1' in p && !('mu' in p)).toBe(
          true,
        );
        return p.lr as number;
      },
      { trials: 20 },
    );
    expect(seen).toEqual(new Set(['lr,mu,rule', 'beta1,lr,rule']));
  });
});

describe('Parzen estimator', () => {
  it('bandwidths follow the spec’s test vector for every preset (box [0, 10], one observation at 2)', () => {
    expect(
      univariateSigmas([2], 0, 10, OPTS({ hyperoptBandwidth: true, priorAsNeighbour: true })),
    ).toEqual([5]);
    expect(univariateSigmas([2], 0, 10, OPTS({ priorAsNeighbour: true }))[0]).toBeCloseTo(
      10 / 3,
      12,
    );
    expect(univariateSigmas([2], 0, 10, OPTS())).toEqual([8]);
  });

  it('linear forgetting and gamma match hyperopt/Optuna', () => {
    expect(linearForgettingWeights(3)).toEqual([1, 1, 1]);
    const w = linearForgettingWeights(30);
    expect(w.slice(0, 5).map((x) => +x.toFixed(6))).toEqual(
      [1 / 30, 0.275, 0.516667, 0.758333, 1].map((x) => +x.toFixed(6)),
    );
    expect(w.slice(5).every((x) => x === 1)).toBe(true);
    expect(linearForgettingWeights(26)).toEqual([1 / 26, ...new Array(25).fill(1)]);
    expect([optunaGamma(10), optunaGamma(11), optunaGamma(1000)]).toEqual([1, 2, 25]);
    expect([hyperoptGamma(16), hyperoptGamma(17)]).toEqual([1, 2]);
  });

  it('densities are normalised over the box (continuous) and masses sum to 1 (int, log-int, stepped)', () => {
    const cont = new ParzenEstimator([[2], [3.5], [9]], [floatDistribution('x', 0, 10)], OPTS());
    let integral = 0;
    for (let i = 0; i < 20000; i++) integral += Math.exp(cont.logPdf([(i + 0.5) * 5e-4])) * 5e-4;
    expect(integral).toBeCloseTo(1, 4);
    for (const d of [
      intDistribution('n', 1, 20),
      intDistribution('n', 1, 64, { log: true }),
      floatDistribution('s', 0, 1, { step: 0.25 }),
    ]) {
      const obs = d.kind === 'int' ? [[d.low + 1], [d.high]] : [[0.25], [0.75]];
      const e = new ParzenEstimator(obs, [d], OPTS());
      const grid =
        d.kind === 'int'
          ? Array.from({ length: d.high - d.low + 1 }, (_, i) => d.low + i)
          : [0, 0.25, 0.5, 0.75, 1];
      expect(grid.reduce((s, x) => s + Math.exp(e.logPdf([x])), 0)).toBeCloseTo(1, 8);
    }
    // Optuna 3.1's quirk: without −ln σ the continuous "density" no longer integrates to 1.
    const quirk = new ParzenEstimator(
      [[2], [3.5], [9]],
      [floatDistribution('x', 0, 10)],
      OPTS({ omitLogSigma: true }),
    );
    let q = 0;
    for (let i = 0; i < 2000; i++) q += Math.exp(quirk.logPdf([(i + 0.5) * 5e-3])) * 5e-3;
    expect(Math.abs(q - 1)).toBeGreaterThan(0.5);
  });

  it('categorical kernels: n + 1 kernels with the prior spread over choices (Optuna)', () => {
    const d = categoricalDistribution('c', ['a', 'b', 'c']);
    const e = new ParzenEstimator([[0], [0], [1]], [d], OPTS());
    const p = [0, 1, 2].map((k) => Math.exp(e.logPdf([k])));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // kernel i: (1[c = cᵢ] + pw/(n+1)) / (1 + K·pw/(n+1)) with n = 3, K = 3, pw = 1; prior uniform; weights 1/4 each.
    const k = (own: boolean) => ((own ? 1 : 0) + 0.25) / (1 + 3 * 0.25);
    expect(p[0]).toBeCloseTo((2 * k(true) + k(false) + 1 / 3) / 4, 12);
  });
});

const trial = (
  number: number,
  state: FrozenTrial['state'],
  value: number | null,
  intermediate: Record<number, number> = {},
): FrozenTrial => ({
  trialId: number,
  number,
  state,
  value,
  params: {},
  distributions: {},
  intermediate,
  userAttrs: {},
  systemAttrs: {},
  datetimeStart: null,
  datetimeComplete: null,
});

describe('good/bad split', () => {
  it('ranks COMPLETE by value, then PRUNED by later step then value; the liar puts RUNNING in the bad set', () => {
    const ts = [
      trial(0, 'COMPLETE', 5),
      trial(1, 'PRUNED', null, { 1: 0.1 }),
      trial(2, 'COMPLETE', 1),
      trial(3, 'PRUNED', null, { 1: 9, 5: 3 }),
      trial(4, 'RUNNING', null),
      trial(5, 'FAIL', null),
      ...Array.from({ length: 6 }, (_, i) => trial(6 + i, 'COMPLETE', 10 + i)),
    ];
    const r = splitTrials(ts, 'minimize', optunaGamma, { constantLiar: true, exclude: 99 });
    expect(r.n).toBe(10); // COMPLETE + PRUNED
    expect(r.good.map((t) => t.number)).toEqual([2]); // ⌈0.1·10⌉ = 1
    expect(r.bad.map((t) => t.number)).toContain(4);
    const max = splitTrials(ts, 'maximize', () => 3, { constantLiar: false });
    expect(max.good.map((t) => t.number)).toEqual([9, 10, 11]);
  });
});

const branin = (x1: number, x2: number) =>
  (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 +
  10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) +
  10;

async function bestOf(sampler: () => RandomSampler | TpeSampler, seed: number, trials = 60) {
  const study = await Study.create({ sampler: sampler(), seed });
  await study.optimize(
    async (t) => branin(await t.suggestFloat('x1', -5, 10), await t.suggestFloat('x2', 0, 15)),
    { trials },
  );
  return study;
}

describe('TPE', () => {
  it.each(['hyperopt', 'optuna-3.1', 'optuna-4.9', 'optuna-5'] as TpePreset[])(
    '%s: the same seed gives the same suggestions',
    async (preset) => {
      const a = await bestOf(() => new TpeSampler({ preset }), 11, 30);
      const b = await bestOf(() => new TpeSampler({ preset }), 11, 30);
      const c = await bestOf(() => new TpeSampler({ preset }), 12, 30);
      const params = async (s: Study) => (await s.trials()).map((t) => t.params);
      expect(await params(a)).toEqual(await params(b));
      expect(await params(a)).not.toEqual(await params(c));
    },
  );

  it('beats random search on Branin (median regret over 5 seeds, 60 trials)', async () => {
    const regret = async (mk: () => RandomSampler | TpeSampler) => {
      const r: number[] = [];
      for (let s = 0; s < 5; s++)
        r.push(((await (await bestOf(mk, s)).bestTrial())?.value as number) - 0.397887);
      return r.sort((x, y) => x - y)[2] as number;
    };
    const random = await regret(() => new RandomSampler());
    const tpe = await regret(() => new TpeSampler());
    expect(tpe).toBeLessThan(random * 0.5);
  });

  it('suggests every kind of parameter inside its distribution, also when maximising', async () => {
    const study = await Study.create({
      sampler: new TpeSampler({ nStartupTrials: 5 }),
      direction: 'maximize',
      seed: 1,
    });
    await study.optimize(
      async (t) => {
        const x = await t.suggestFloat('x', 1e-3, 1, { log: true });
        const s = await t.suggestFloat('s', 0, 1, { step: 0.1 });
        const n = await t.suggestInt('n', 1, 100, { log: true });
        const k = await t.suggestInt('k', 0, 20, { step: 4 });
        const c = await t.suggestCategorical('c', ['a', 'b', null]);
        expect(x).toBeGreaterThanOrEqual(1e-3);
        expect(Math.abs(s * 10 - Math.round(s * 10))).toBeLessThan(1e-9);
        expect(Number.isInteger(n) && n >= 1 && n <= 100).toBe(true);
        expect(k % 4).toBe(0);
        return -Math.abs(Math.log(x)) + (c === 'b' ? 1 : 0) + s - Math.abs(n - 10) / 100 - k / 100;
      },
      { trials: 40 },
    );
    const best = await study.bestTrial();
    expect(Study.paramsOf(best as FrozenTrial).c).toBe('b');
  });
});

describe('study', () => {
  it('records failures with the error, NaN as FAIL, pruned with the last value; enqueued trials run first', async () => {
    const study = await Study.create({ sampler: new RandomSampler() });
    await study.enqueue({ x: 0.5 }, { x: floatDistribution('x', 0, 1) });
    const seen: number[] = [];
    let i = 0;
    await study.optimize(
      async (t) => {
        const x = await t.suggestFloat('x', 0, 1);
        seen.push(x);
        i++;
        if (i === 2) throw new Error('boom');
        if (i === 3) return Number.NaN;
        if (i === 4) {
          await t.report(0.7, 3);
          throw new TrialPruned();
        }
        return x;
      },
      { trials: 5 },
    );
    const ts = await study.trials();
    expect(seen[0]).toBe(0.5);
    expect(ts.map((t) => t.state)).toEqual(['COMPLETE', 'FAIL', 'FAIL', 'PRUNED', 'COMPLETE']);
    expect(ts[1]?.userAttrs.error).toBe('Error: boom');
    expect(ts[3]?.value).toBe(0.7);
    await expect(study.tell(0, 1)).rejects.toThrow('already finished');
  });

  it('runs trials concurrently with workers (each its own trial number)', async () => {
    const study = await Study.create({ sampler: new TpeSampler({ nStartupTrials: 3 }) });
    let running = 0;
    let peak = 0;
    await study.optimize(
      async (t) => {
        running++;
        peak = Math.max(peak, running);
        const x = await t.suggestFloat('x', -1, 1);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return x * x;
      },
      { trials: 12, workers: 3 },
    );
    const ts = await study.trials();
    expect(ts.map((t) => t.number)).toEqual(Array.from({ length: 12 }, (_, k) => k));
    expect(peak).toBe(3);
  });
});

describe('pruners', () => {
  const ctx = (trials: FrozenTrial[], t: FrozenTrial) => ({
    trials,
    trial: t,
    direction: 'minimize' as const,
    studyName: 's',
    setSystemAttr: async (k: string, v: unknown) => {
      t.systemAttrs[k] = v;
    },
  });

  it('median: prunes a trial worse than the median of completed trials at the same step', async () => {
    const done = [1, 2, 3, 4, 5].map((v, i) => trial(i, 'COMPLETE', v, { 0: v, 1: v }));
    const p = new MedianPruner();
    expect(await p.prune(ctx(done, trial(9, 'RUNNING', null, { 1: 3.5 })))).toBe(true);
    expect(await p.prune(ctx(done, trial(9, 'RUNNING', null, { 1: 2.5 })))).toBe(false);
    expect(await p.prune(ctx(done.slice(0, 4), trial(9, 'RUNNING', null, { 1: 9 })))).toBe(false); // startup
    expect(nanPercentile([1, Number.NaN, 3, 2], 50)).toBe(2);
  });

  it('successive halving: keeps the best 1/η at each rung', async () => {
    const p = new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 });
    const others = [1, 2, 3].map((v, i) => ({
      ...trial(i, 'COMPLETE', v),
      systemAttrs: { completed_rung_0: v },
    }));
    expect(await p.prune(ctx(others, trial(7, 'RUNNING', null, { 1: 0.5 })))).toBe(false);
    expect(await p.prune(ctx(others, trial(8, 'RUNNING', null, { 1: 2.5 })))).toBe(true);
  });

  it('hyperband assigns brackets deterministically and prunes within them', async () => {
    const p = new HyperbandPruner({ minResource: 1, maxResource: 27 });
    const r = await p.prune(
      ctx([trial(0, 'COMPLETE', 1, { 26: 1 })], trial(5, 'RUNNING', null, { 0: 5 })),
    );
    expect(typeof r).toBe('boolean');
  });
});

describe('analysis', () => {
  it('PED-ANOVA ranks the parameter that matters first; study.html draws the charts', async () => {
    const study = await Study.create({ sampler: new RandomSampler(), seed: 2 });
    await study.optimize(
      async (t) => {
        const a = await t.suggestFloat('matters', 0, 1);
        const b = await t.suggestFloat('noise', 0, 1);
        return (a - 0.2) ** 2 + 0.001 * b;
      },
      { trials: 80 },
    );
    const imp = pedAnovaImportance(await study.trials(), 'minimize');
    expect(Object.keys(imp)[0]).toBe('matters');
    expect(imp.matters).toBeGreaterThan(0.8);
    const html = renderStudyHtml(study.name, study.direction, await study.trials());
    // history, parallel coordinates, importance, and a slice plot per parameter (2), as SVG
    expect(html.match(/<div class="chart" data-chart=/g)).toHaveLength(5);
    expect(html.match(/<svg/g)).toHaveLength(5);
    expect(html).not.toMatch(/<script>/); // no library given: static
    expect(html).toMatch(/Parameter importance \(PED-ANOVA\)/);
    expect(html).toMatch(/Best: trial \d+/);
  });
});
