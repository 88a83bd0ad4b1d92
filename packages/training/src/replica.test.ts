import * as tf from '@tensorflow/tfjs';
import { packGradients, unpackGradients, weightsDigest } from './replica.js';

describe('data-parallel helpers', () => {
  it('pack and unpack round-trip gradients and the tail, with the squared norm', () => {
    const grads = {
      b: tf.tensor([
        [1, 2],
        [3, 4],
      ]),
      a: tf.tensor([0.5, -1.5, 2]),
    };
    const names = ['a', 'b'];
    const packed = packGradients(grads, names, [7, 8]);
    expect(Array.from(packed)).toEqual([0.5, -1.5, 2, 1, 2, 3, 4, 7, 8]);
    const out = unpackGradients(packed, grads, names);
    expect(out.grads.b?.shape).toEqual([2, 2]);
    expect(Array.from(out.grads.b?.dataSync() ?? [])).toEqual([1, 2, 3, 4]);
    expect(Array.from(out.tail)).toEqual([7, 8]);
    expect(out.squaredNorm).toBeCloseTo(0.25 + 2.25 + 4 + 1 + 4 + 9 + 16, 10);
    tf.dispose([...Object.values(grads), ...Object.values(out.grads)]);
  });

  it('the weights digest changes with one flipped bit and not with the order of the record', () => {
    const x = tf.variable(tf.tensor([1, 2, 3, 4]), true, 'dp_x');
    const y = tf.variable(tf.tensor([5, 6]), true, 'dp_y');
    const d = weightsDigest({ x, y });
    expect(weightsDigest({ y, x })).toBe(d);
    const bits = new Uint32Array(new Float32Array([3]).buffer);
    bits[0] = (bits[0] as number) ^ 1;
    x.assign(tf.tensor([1, 2, new Float32Array(bits.buffer)[0] as number, 4]));
    expect(weightsDigest({ x, y })).not.toBe(d);
    tf.dispose([x, y]);
  });
});
