import { initBackend } from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';
import { ParamRegistry } from './params.js';

beforeAll(() => initBackend({ prefer: 'wasm', fallback: false, env: {} }));

describe('ParamRegistry', () => {
  it('names weights once, in registration order, and refuses a name twice', () => {
    const reg = new ParamRegistry();
    const w = reg.add('a.weight', tf.variable(tf.ones([2, 3])));
    reg.addAll('b', { x: tf.variable(tf.zeros([1])), y: tf.variable(tf.zeros([2])) });
    const ln = reg.layerNorm('c', 4);
    const all = reg.all();
    expect(Object.keys(all)).toEqual(['a.weight', 'b.x', 'b.y', 'c.weight', 'c.bias']);
    expect(all['a.weight']).toBe(w);
    expect(all['c.weight']).toBe(ln.gamma);
    expect([...(ln.gamma.dataSync() as Float32Array)]).toEqual([1, 1, 1, 1]);
    expect(() => reg.add('b.x', tf.variable(tf.zeros([1])))).toThrow('"b.x" registered twice');
    delete all['a.weight']; // a copy
    expect(Object.keys(reg.all())).toHaveLength(5);
    tf.dispose(Object.values(reg.all()));
  });
});
