// Integration: each rule over 3 real MoE layers from @msmoe/router and @msmoe/experts (a test-only
// dependency; the package itself never imports them). Soft MoE routing is smooth, so finite
// differences see no routing flips.
import { checkVariableGradients, initBackend, initTensor, Rng } from '@msmoe/core';
import { ExpertBank, moeLayer } from '@msmoe/experts';
import { createRouter } from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';
import type { RuleConfigInput } from './config.js';
import { createUpdateRule } from './create.js';
import { MoEUpdate } from './structure.js';

beforeAll(() => initBackend({ prefer: 'cpu', fallback: false, env: {} }));

it.each([
  ['residual', { rule: 'residual' }],
  ['heavy-ball', { rule: 'heavy-ball' }],
  ['nesterov', { rule: 'nesterov' }],
  ['adam', { rule: 'adam', eps: 0.1 }],
  ['rmsprop', { rule: 'rmsprop', eps: 0.1 }],
  ['robust', { rule: 'robust' }],
  ['sam', { rule: 'sam' }],
] as [string, RuleConfigInput][])(
  'gradient check through 3 Soft-MoE layers: %s',
  (_name, config) => {
    const d = 4;
    const rng = new Rng(5);
    const layers = [0, 1, 2].map(() =>
      moeLayer({
        router: createRouter({ type: 'soft', dModel: d, numExperts: 3, groupSize: 3 }, rng),
        experts: new ExpertBank(
          { numExperts: 3, dModel: d, dHidden: 6, activation: 'gelu', init: 'linear' },
          rng,
        ),
      }),
    );
    const update = new MoEUpdate(createUpdateRule(config));
    const x0 = initTensor([6, d], { kind: 'normal', std: 1 }, rng);
    const target = initTensor([6, d], { kind: 'normal', std: 1 }, rng);
    const loss = () => {
      let x: tf.Tensor = x0;
      let state = update.init(x0);
      layers.forEach((layer, t) => {
        ({ x, state } = update.apply(x, (y) => layer(y).y, state, t));
      });
      return tf.sum(tf.mul(x, target)) as tf.Scalar;
    };
    const vars = layers.flatMap((l) => Object.values(l.variables()));
    const res = checkVariableGradients(loss, vars, {
      eps: 1e-2,
      samplesPerInput: 3,
      atol: 3e-3,
      rtol: 3e-2,
    });
    if (!res.ok) throw new Error(`gradient check failed: ${JSON.stringify(res.worst)}`);
    expect(res.checked).toBeGreaterThan(30);
  },
);
