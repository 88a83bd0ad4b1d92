import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@msmoe/core';
import { parseSpace } from '@msmoe/tuner';
import { abRows, runMetrics } from './compare.js';
import { merge, parseRule, parseRunConfig, readConfigFile, runName } from './config.js';
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
    const momentum = parseRunConfig({ model: { rule: 'm', coefficients: { rule: 'heavy-ball' } } });
    expect(spaces.length).toBeGreaterThanOrEqual(1);
    for (const f of spaces)
      expect(() =>
        checkSpaceAgainstConfig(momentum, parseSpace(readConfigFile(join(EXAMPLES, f)))),
      ).not.toThrow();
    const c = parseRunConfig(readConfigFile(join(EXAMPLES, 'momentum-tiny.yaml')));
    expect(c.model).toMatchObject({ preset: 'tiny', rule: 'm' });
    expect(runName(c)).toBe('MomentumSMoE-s1');
  });

  it('fills defaults and names bad fields', () => {
    const c = parseRunConfig({});
    expect(c).toMatchObject({
      task: 'sotu',
      model: { preset: 'tiny', rule: 'g' },
      train: { steps: 300 },
    });
    expect(parseRunConfig({ task: 'mnist' }).model.preset).toBe('mnist-tiny');
    expect(() => parseRunConfig({ model: { rule: 'x' } })).toThrow(
      /model\.rule: .*"g".*"m".*"a".*"r".*\(got "x"\)/,
    );
    expect(() => parseRunConfig({ batchSize: 0 })).toThrow(ConfigError);
    expect(() => parseRunConfig({ task: 'mnist', model: { preset: 'tiny' } })).toThrow(
      /model\.preset: unknown preset for task mnist; allowed: mnist-tiny, cifar-tiny/,
    );
  });

  it('parses rule names and merges config layers (later wins, deep)', () => {
    expect(['g', 'SMoE', 'heavy-ball', 'MomentumSMoE', 'adam', 'robust'].map(parseRule)).toEqual([
      'g',
      'g',
      'm',
      'm',
      'a',
      'r',
    ]);
    expect(merge({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: 3 }, d: [2], e: undefined })).toEqual({
      a: { b: 3, c: 2 },
      d: [2],
    });
  });
});

describe('A/B rows', () => {
  it('flattens eval.json with the attacked − clean gap and tests against the baseline', () => {
    expect(runMetrics({ clean: { perplexity: 100 }, attacked: { perplexity: 130 } })).toEqual({
      'clean perplexity': 100,
      'attacked perplexity': 130,
      'attacked − clean perplexity': 30,
    });
    const rows = abRows([
      { variant: 'SMoE', metrics: [100, 101, 102].map((p) => ({ ppl: p })) },
      { variant: 'MomentumSMoE', metrics: [90, 91, 92].map((p) => ({ ppl: p })) },
    ]);
    expect(rows.map((r) => [r.variant, r.mean, r.p === null, r.significant])).toEqual([
      ['SMoE', 101, true, false],
      ['MomentumSMoE', 91, false, true],
    ]);
  });
});
