import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@msmoe/core';
import { parseSpace } from '@msmoe/tuner';
import { abRows, claimsOf, runMetrics } from './analysis.js';
import { splitRules } from './cli.js';
import {
  merge,
  mergeRunConfigs,
  parseRuleFlag,
  parseRunConfig,
  readConfigFile,
  runConfigOf,
  runName,
  variantName,
} from './config.js';
import { checkSpaceAgainstConfig } from './tune.js';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');

describe('run config', () => {
  it('every example config validates', () => {
    const files = readdirSync(EXAMPLES).filter((f) => /\.(ya?ml|json)$/.test(f));
    const spaces = files.filter((f) => f.includes('space'));
    const configs = files.filter((f) => !f.includes('space'));
    expect(configs.length).toBeGreaterThanOrEqual(2);
    for (const f of configs)
      expect(() => parseRunConfig(readConfigFile(join(EXAMPLES, f)))).not.toThrow();
    // Search spaces parse, and every path is a field of a MomentumSMoE run config.
    const momentum = parseRunConfig({ model: { rule: 'm' } });
    expect(spaces.length).toBeGreaterThanOrEqual(1);
    for (const f of spaces)
      expect(() =>
        checkSpaceAgainstConfig(momentum, parseSpace(readConfigFile(join(EXAMPLES, f)))),
      ).not.toThrow();
    const c = parseRunConfig(readConfigFile(join(EXAMPLES, 'momentum-tiny.yaml')));
    expect(c.model).toMatchObject({
      preset: 'tiny',
      rule: { rule: 'heavy-ball', mu: { init: 0.7, learnable: true }, gamma: 1 },
    });
    expect(runName(c)).toBe('MomentumSMoE-s1');
  });

  it('fills defaults and names bad fields', () => {
    const c = parseRunConfig({});
    expect(c).toMatchObject({
      task: 'sotu',
      model: { preset: 'tiny', rule: { rule: 'residual' } },
      train: { steps: 300 },
    });
    expect(parseRunConfig({ task: 'mnist' }).model.preset).toBe('mnist-tiny');
    expect(() => parseRunConfig({ model: { rule: 'x' } })).toThrow(
      /model\.rule: is not a rule; allowed: g\|residual\|SMoE, m\|heavy-ball\|MomentumSMoE, .* \(got "x"\)/,
    );
    expect(() => parseRunConfig({ model: { rule: { rule: 'heavy-ball', mu: 1.5 } } })).toThrow(
      /model\.rule\.mu: .*\(got 1\.5\)/,
    );
    expect(() => parseRunConfig({ batchSize: 0 })).toThrow(ConfigError);
    expect(() => parseRunConfig({ task: 'mnist', model: { preset: 'tiny' } })).toThrow(
      /model\.preset: unknown preset for task mnist; allowed: mnist-tiny, cifar-tiny/,
    );
  });

  it('splits a --variants list on the commas outside JSON', () => {
    expect(
      splitRules('g, m,{"rule":"sam","inner":{"rule":"residual"}},{"rule":"heavy-ball","mu":0.9}'),
    ).toEqual([
      'g',
      'm',
      '{"rule":"sam","inner":{"rule":"residual"}}',
      '{"rule":"heavy-ball","mu":0.9}',
    ]);
    expect(
      splitRules('g,m,r,{"rule":"sam","inner":{"rule":"residual"}}').map((r) =>
        variantName(parseRunConfig({ task: 'mnist-c', model: { rule: parseRuleFlag(r) } })),
      ),
    ).toEqual(['V-MoE', 'MomentumV-MoE', 'Robust MomentumV-MoE', 'SAM-V-MoE']);
  });

  it('parses rule names and merges config layers (later wins, deep)', () => {
    expect(
      ['g', 'SMoE', 'heavy-ball', 'MomentumSMoE', 'adam', 'robust', 'nesterov'].map(
        (v) => parseRuleFlag(v).rule,
      ),
    ).toEqual(['residual', 'residual', 'heavy-ball', 'heavy-ball', 'adam', 'robust', 'nesterov']);
    expect(parseRuleFlag('{"rule":"heavy-ball","mu":0.9}')).toEqual({
      rule: 'heavy-ball',
      mu: 0.9,
      gamma: 1,
    });
    expect(() => parseRuleFlag('{"rule":')).toThrow(/rule: .* is not valid JSON/);
    expect(merge({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: 3 }, d: [2], e: undefined })).toEqual({
      a: { b: 3, c: 2 },
      d: [2],
    });
  });
});

describe('one rule field', () => {
  it('`--rule m` and `--set model.rule.mu=…` (or a tuner patch) combine; another rule replaces', () => {
    const flags = { model: { rule: 'm' } };
    const set = { model: { rule: { mu: 0.9 } } };
    expect(parseRunConfig(mergeRunConfigs(flags, set)).model.rule).toEqual({
      rule: 'heavy-ball',
      mu: 0.9,
      gamma: 1,
    });
    const file = { model: { rule: { rule: 'robust', kappa: 4, rho: 0.6 } } };
    expect(parseRunConfig(mergeRunConfigs(file, flags)).model.rule).toEqual({
      rule: 'heavy-ball',
      mu: 0.7,
      gamma: 1,
    });
    // A tuner patch on a parsed config.
    const base = parseRunConfig({ model: { rule: 'm' } });
    const patched = parseRunConfig(
      merge(base as unknown as Record<string, unknown>, { model: { rule: { mu: 0.4 } } }),
    );
    expect(patched.model.rule).toMatchObject({ rule: 'heavy-ball', mu: 0.4 });
  });

  it('labels variants from the rule: a Nesterov run is not "SMoE", a ViT is a V-MoE', () => {
    expect(variantName(parseRunConfig({ model: { rule: 'nesterov' } }))).toBe('NesterovSMoE');
    expect(variantName(parseRunConfig({ task: 'mnist', model: { rule: 'm' } }))).toBe(
      'MomentumV-MoE',
    );
    expect(variantName(parseRunConfig({ task: 'mnist', model: { moe: 'soft' } }))).toBe('Soft-MoE');
  });

  it('old configs with `coefficients` still load (migrated at the boundary)', () => {
    const old = {
      task: 'sotu',
      variant: 'MomentumSMoE',
      model: {
        preset: 'tiny',
        rule: 'm',
        coefficients: { rule: 'heavy-ball', mu: 0.8, gamma: 1 },
        moe: 'vmoe',
      },
      backend: 'wasm',
      modelConfig: { architecture: 'smsm' },
      parameters: 123,
      vocabulary: 10001,
    };
    expect(runConfigOf(old).model.rule).toEqual({ rule: 'heavy-ball', mu: 0.8, gamma: 1 });
    expect(
      runConfigOf({ ...old, model: { rule: 'a', coefficients: undefined } }).model.rule.rule,
    ).toBe('adam');
  });

  it('checks the model the config builds before any data is read, naming the field', () => {
    expect(() => parseRunConfig({ model: { overrides: { k: 9 } } })).toThrow(
      /model\.overrides\.k: must be ≤ numExperts \(4\)/,
    );
    expect(() =>
      parseRunConfig({
        model: { rule: { rule: 'adam', layer0Quirk: true }, overrides: { structure: 'paper' } },
      }),
    ).toThrow(/model\.rule\.layer0Quirk: /);
  });
});

describe('claims and verdicts', () => {
  const study = (effect: number, noise: number[]) => [
    {
      variant: 'SMoE',
      metrics: [200, 210, 190, 205, 195, 215].map((p) => ({ 'clean perplexity': p })),
    },
    {
      variant: 'MomentumSMoE',
      metrics: [200, 210, 190, 205, 195, 215].map((p, i) => ({
        'clean perplexity': p * (1 + effect + (noise[i] as number)),
      })),
    },
  ];
  it('a clear improvement is a detected, better claim with its interval in the sentence', () => {
    const rows = abRows(study(-0.03, [0.001, -0.002, 0.002, -0.001, 0, 0.001]));
    const [c] = claimsOf(rows, 'sotu');
    expect(c?.claim).toBe('clean');
    expect(c?.detected).toBe(true);
    expect(c?.better).toBe(true);
    expect(c?.effectPct).toBeCloseTo(-2.98, 1);
    expect(c?.verdict).toMatch(
      /^MomentumSMoE lowered clean test perplexity by 3\.0% \[−3\.\d, −2\.\d\] against SMoE \(6 paired seeds, p < 0\.001\): better\.$/,
    );
  });
  it('noise only: no difference detectable above the minimal detectable effect', () => {
    const rows = abRows(study(0, [0.01, -0.012, 0.008, -0.009, 0.011, -0.01]));
    const [c] = claimsOf(rows, 'sotu');
    expect(c?.detected).toBe(false);
    expect(c?.better).toBeNull();
    expect(c?.verdict).toMatch(
      /^MomentumSMoE vs SMoE: no difference in clean test perplexity detectable above \d+\.\d% \(6 paired seeds; measured/,
    );
  });
});

describe('A/B rows', () => {
  it('flattens eval.json with the attacked − clean gap and tests against the baseline', () => {
    expect(
      runMetrics({
        clean: { perplexity: 100 },
        attacked: { perplexity: 130 },
        shift: { perplexity: 150 },
        stability: { lossOscillation: 0.2 },
      }),
    ).toEqual({
      'clean perplexity': 100,
      'attacked perplexity': 130,
      'attacked − clean perplexity': 30,
      'shift perplexity': 150,
      'stability lossOscillation': 0.2,
      diverged: 0,
    });
    // A diverged run keeps its spike count and nothing else.
    expect(runMetrics({ diverged: true, stability: { spikes: 4, lossOscillation: 1 } })).toEqual({
      diverged: 1,
      'stability spikes': 4,
      'stability lossOscillation': Number.NaN,
    });
    const data = [
      { variant: 'SMoE', metrics: [100, 101, 102].map((p) => ({ ppl: p })) },
      { variant: 'MomentumSMoE', metrics: [90, 91, 92].map((p) => ({ ppl: p })) },
    ];
    // Welch (unpaired): 101 vs 91 over 3 seeds each.
    expect(
      abRows(data, 'default', false).map((r) => [r.variant, r.mean, r.p === null, r.significant]),
    ).toEqual([
      ['SMoE', 101, true, false],
      ['MomentumSMoE', 91, false, true],
    ]);
    // Paired: each seed ~9.9% lower; with identical relative differences the interval is a point.
    const paired = abRows(data, 'default', true)[1]?.paired;
    expect(paired?.n).toBe(3);
    expect(paired?.effectPct).toBeCloseTo((-10 / 100 - 10 / 101 - 10 / 102) * (100 / 3), 9);
    expect(paired?.sign).toEqual({ positive: 0, negative: 3, p: 0.25 });
  });
});
