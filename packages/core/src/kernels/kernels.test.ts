import * as tf from '@tensorflow/tfjs';
import { maxAbsDiff } from '../compare.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { unsortedSegmentSumValues } from './unsorted-segment-sum.js';

describe('TopK gradient', () => {
  it.each(TEST_BACKENDS)('routes dy back to the chosen positions (%s)', async (backend) => {
    await useBackend(backend);
    const x = tf.tensor2d([
      [0.1, 0.9, 0.5, 0.3],
      [2.0, -1.0, 3.0, 0.0],
    ]);
    const w = tf.tensor2d([
      [1, 10],
      [100, 1000],
    ]);
    // loss = Σ values · w → d loss / d x is w placed at the top-2 positions.
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.topk(t as tf.Tensor2D, 2).values, w)))(x);
    expect(g.arraySync()).toEqual([
      [0, 1, 10, 0],
      [1000, 0, 100, 0],
    ]);
    tf.dispose([x, w, g]);
  });

  it.each(TEST_BACKENDS)(
    'matches a gather-based reference on a rank-3 input (%s)',
    async (backend) => {
      await useBackend(backend);
      const x = tf.randomNormal([3, 4, 6], 0, 1, 'float32', 7);
      const dy = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 8);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.topk(t, 2).values, dy)))(x);
      const idx = tf.topk(x, 2).indices.arraySync() as number[][][];
      const dyv = dy.arraySync() as number[][][];
      const expected = idx.map((plane, a) =>
        plane.map((row, b) => {
          const out = new Array(6).fill(0);
          row.forEach((j, k) => {
            out[j] += dyv[a]![b]![k]!;
          });
          return out;
        }),
      );
      expect(maxAbsDiff(g.dataSync(), expected.flat(2))).toBeLessThan(1e-6);
      tf.dispose([x, dy, g]);
    },
  );
});

describe('UnsortedSegmentSum (wasm: added, cpu: linear-time replacement)', () => {
  it.each(TEST_BACKENDS)('sums rows per segment, drops negative ids (%s)', async (backend) => {
    await useBackend(backend);
    const xs = [...Array(5 * 3).keys()].map((v) => v * 0.5 - 2);
    const ids = [2, 0, -1, 2, 3];
    const expected = new Array(4 * 3).fill(0);
    ids.forEach((s, r) => {
      if (s < 0) return;
      for (let j = 0; j < 3; j++) expected[s * 3 + j] += xs[r * 3 + j]!;
    });
    const out = tf.unsortedSegmentSum(tf.tensor2d(xs, [5, 3]), tf.tensor1d(ids, 'int32'), 4);
    expect(out.shape).toEqual([4, 3]);
    expect(Array.from(out.dataSync())).toEqual(expected);
    // Segment 1 receives nothing; row 2 (id −1) is dropped.
    expect(Array.from(out.dataSync().slice(3, 6))).toEqual([0, 0, 0]);
    out.dispose();
  });

  it.each(TEST_BACKENDS)('supports multi-axis segment ids (%s)', async (backend) => {
    await useBackend(backend);
    const out = tf.unsortedSegmentSum(
      tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]),
      // tfjs types segmentIds as 1-D, but the kernel contract allows any prefix of x's shape.
      tf.tensor2d(
        [
          [1, 0],
          [1, 1],
        ],
        [2, 2],
        'int32',
      ) as unknown as tf.Tensor1D,
      2,
    );
    expect(out.arraySync()).toEqual([
      [3, 4],
      [1 + 5 + 7, 2 + 6 + 8],
    ]);
    out.dispose();
  });

  it('makes tf.gather differentiable on wasm, equal to cpu', async () => {
    const table = [...Array(6 * 4).keys()].map((v) => Math.sin(v));
    const idx = [5, 1, 1, 3, 0, 5, 5];
    const grads: Float32Array[] = [];
    for (const backend of TEST_BACKENDS) {
      await useBackend(backend);
      const t = tf.tensor2d(table, [6, 4]);
      const w = tf.reshape(tf.linspace(-1, 1, 7 * 4), [7, 4]);
      const g = tf.grad((p: tf.Tensor) =>
        tf.sum(tf.mul(tf.gather(p, tf.tensor1d(idx, 'int32')), w)),
      )(t);
      grads.push(g.dataSync() as Float32Array);
      tf.dispose([t, w, g]);
    }
    expect(maxAbsDiff(grads[1]!, grads[0]!)).toBeLessThan(1e-6);
  });

  it('rejects ids ≥ numSegments and mismatched sizes with a clear message', () => {
    expect(() => unsortedSegmentSumValues([1, 2], [0, 3], 2, new Float32Array(2))).toThrow(
      'segment id 3 at position 1 is ≥ numSegments 2',
    );
    expect(() => unsortedSegmentSumValues([1, 2, 3], [0, 1], 2, new Float32Array(2))).toThrow(
      /do not split/,
    );
  });

  it('handles int32 inputs', async () => {
    await useBackend('wasm');
    const out = tf.unsortedSegmentSum(
      tf.tensor1d([1, 2, 3, 4], 'int32'),
      tf.tensor1d([1, 1, 0, 1], 'int32'),
      2,
    );
    expect(out.dtype).toBe('int32');
    expect(Array.from(out.dataSync())).toEqual([3, 7]);
    out.dispose();
  });
});

describe('OneHot on wasm', () => {
  it.each(['float32', 'int32'] as const)(
    'writes the requested dtype (%s), equal to cpu',
    async (dtype) => {
      const results: number[][] = [];
      for (const backend of TEST_BACKENDS) {
        await useBackend(backend);
        const o = tf.oneHot(
          tf.tensor2d(
            [
              [2, 0],
              [-1, 1],
            ],
            [2, 2],
            'int32',
          ),
          3,
          5,
          -1,
          dtype,
        );
        expect(o.dtype).toBe(dtype);
        expect(o.shape).toEqual([2, 2, 3]);
        results.push(Array.from(o.dataSync()));
        o.dispose();
      }
      expect(results[1]).toEqual(results[0]);
      expect(results[1]!.slice(0, 6)).toEqual([-1, -1, 5, 5, -1, -1]);
    },
  );

  it('registration is idempotent', async () => {
    const { registerMsmoeKernels } = await import('./register.js');
    registerMsmoeKernels();
    expect(registerMsmoeKernels()).toEqual([]);
  });
});

describe('UnsortedSegmentSum gradient', () => {
  it.each(TEST_BACKENDS)(
    'routes dy back to each row, zero for dropped (negative) ids (%s)',
    async (backend) => {
      await useBackend(backend);
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const w = tf.tensor2d([10, 20, 30, 40], [2, 2]);
      const grad = (ids: number[]) =>
        tf
          .grad((t: tf.Tensor) =>
            tf.sum(tf.mul(tf.unsortedSegmentSum(t, tf.tensor1d(ids, 'int32'), 2), w)),
          )(x)
          .arraySync();
      expect(grad([1, 0, 1])).toEqual([
        [30, 40],
        [10, 20],
        [30, 40],
      ]);
      expect(grad([1, -1, 0])).toEqual([
        [30, 40],
        [0, 0],
        [10, 20],
      ]);
    },
  );
});

describe('lean elementwise gradients (Multiply, RealDiv, Square, Sqrt)', () => {
  // Each as a loss Σ w·f(a, b) with broadcasting, against finite differences and the closed form.
  const cases: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['a · b', (a, b) => tf.mul(a, b)],
    ['a / b', (a, b) => tf.div(a, b)],
    ['a² + √b', (a, b) => tf.add(tf.square(a), tf.sqrt(b))],
    [
      '√(a² + b) / a · b (a chain)',
      (a, b) => tf.mul(tf.div(tf.sqrt(tf.add(tf.square(a), b)), a), b),
    ],
  ];
  it.each(TEST_BACKENDS)('match finite differences, with broadcasting (%s)', async (backend) => {
    await useBackend(backend);
    const { checkGradients } = await import('../gradcheck.js');
    for (const [name, f] of cases) {
      for (const [sa, sb] of [
        [
          [3, 4],
          [3, 4],
        ],
        [
          [3, 4],
          [1, 4],
        ],
        [[3, 4], []],
        [
          [1, 4],
          [3, 1],
        ],
      ] as number[][][]) {
        const a = tf.add(tf.randomUniform(sa!, 0.5, 2, 'float32', 1), 0);
        const b = tf.randomUniform(sb!, 0.5, 2, 'float32', 2);
        const w = tf.randomNormal(
          tf.broadcast_util.assertAndGetBroadcastShape(sa!, sb!),
          0,
          1,
          'float32',
          3,
        );
        const res = checkGradients((x, y) => tf.sum(tf.mul(f(x!, y!), w)) as tf.Scalar, [a, b], {
          eps: 1e-3,
          atol: 2e-3,
          rtol: 2e-2,
        });
        if (!res.ok)
          throw new Error(`${name} ${JSON.stringify([sa, sb])}: ${JSON.stringify(res.worst)}`);
        tf.dispose([a, b, w]);
      }
    }
  });

  it.each(TEST_BACKENDS)(
    'run no Cast and no second Sqrt in the backward pass (%s)',
    async (backend) => {
      await useBackend(backend);
      const a = tf.randomUniform([8, 8], 0.5, 2);
      const b = tf.randomUniform([8, 8], 0.5, 2);
      const profile = await tf.profile(() => {
        tf.dispose(
          tf.grads((x: tf.Tensor, y: tf.Tensor) =>
            tf.sum(tf.div(tf.mul(tf.square(x), y), tf.sqrt(y))),
          )([a, b]),
        );
      });
      const names = profile.kernels.map((k) => k.name);
      expect(names.filter((n) => n === 'Cast')).toEqual([]);
      expect(names.filter((n) => n === 'Sqrt')).toHaveLength(1);
      // ∂/∂x of Σ x²y/√y = 2x√y, in closed form.
      const [gx] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.div(tf.mul(tf.square(x), y), tf.sqrt(y))),
      )([a, b]);
      expect(maxAbsDiff(gx!.dataSync(), tf.mul(tf.mul(a, 2), tf.sqrt(b)).dataSync())).toBeLessThan(
        1e-4,
      );
      tf.dispose([a, b, gx!]);
    },
  );
});

describe('Identity and Cast on wasm share the buffer (tfjs clones every tensor a gradient saves)', () => {
  it('a clone reads the same values, survives its source, and costs no new buffer', async () => {
    await useBackend('wasm');
    const x = tf.tensor2d([
      [1.5, -2],
      [3, 4.25],
    ]);
    const buffers = () => (tf.memory() as { numDataBuffers: number }).numDataBuffers;
    const before = buffers();
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    expect(buffers()).toBe(before); // shared: no new buffer
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3, 4.25]);
    expect(Array.from(z.dataSync())).toEqual([1.5, -2, 3, 4.25]);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1.5, -2, 3, 4.25]);
    z.dispose();
    expect(buffers()).toBe(before - 1); // the buffer is freed with its last tensor
  });

  it('other casts convert (to bool: non-zero is true, which the shipped kernel got wrong)', async () => {
    await useBackend('wasm');
    const f = tf.tensor1d([1.7, -2.7, 0, 3]);
    expect(Array.from(tf.cast(f, 'int32').dataSync())).toEqual([1, -2, 0, 3]);
    expect(Array.from(tf.cast(tf.tensor1d([1, 0, 5], 'int32'), 'float32').dataSync())).toEqual([
      1, 0, 5,
    ]);
    expect(Array.from(tf.cast(f, 'bool').dataSync())).toEqual([1, 1, 0, 1]);
  });
});

describe('GatherV2 on wasm (whole-slice copies)', () => {
  it('matches the cpu backend on every axis, with batch dims, and names an index out of range', async () => {
    const cases: [number[], number[], number, number][] = [
      [[7, 5], [3, 0, 6, 3], 0, 0],
      [[4, 6, 3], [5, 0, 2], 1, 0],
      [
        [4, 6, 20],
        [
          [1, 2],
          [0, 5],
          [3, 3],
          [4, 1],
        ].flat(),
        1,
        1,
      ],
      [[9], [8, 0, 1], 0, 0],
    ];
    const results: Record<string, number[][]> = { cpu: [], wasm: [] };
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      for (const [shape, idx, axis, batchDims] of cases) {
        const x = tf.tensor(
          Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.5 - 3),
          shape,
        );
        const ids = tf.tensor(
          idx,
          batchDims ? [shape[0]!, idx.length / shape[0]!] : [idx.length],
          'int32',
        );
        results[backend]!.push(Array.from(tf.gather(x, ids, axis, batchDims).dataSync()));
      }
    }
    expect(results.wasm).toEqual(results.cpu);
    expect(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([3], 'int32'))).toThrow(
      /index value 3 is not in \[0, 2\]/,
    );
  });
});
