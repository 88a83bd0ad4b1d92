import { assignCapacity, expertCapacity } from './capacity.js';

describe('capacity', () => {
  it('computes ceil(factor · k · N / E) with a floor', () => {
    expect(expertCapacity(6, 2, 1, 1)).toBe(3);
    expect(expertCapacity(2048, 8, 2, 1.25)).toBe(640);
    expect(expertCapacity(10, 4, 2, 1.05)).toBe(6);
    expect(expertCapacity(3, 8, 1, 1, 2)).toBe(2);
  });

  it('drops exactly the overflow, first come first served', () => {
    const a = assignCapacity([0, 0, 0, 0, 1, 1], 6, 1, 2, 3);
    expect(Array.from(a.kept)).toEqual([1, 1, 1, 0, 1, 1]);
    expect(Array.from(a.position)).toEqual([0, 1, 2, -1, 0, 1]);
    expect(a.load).toEqual([3, 2]);
    expect(a.dropped).toBe(1);
  });

  it('serves every token’s first choice before any second choice', () => {
    // Token 0 chooses (1, 0); tokens 1 and 2 choose (0, 1). Capacity 2.
    const a = assignCapacity([1, 0, 0, 1, 0, 1], 3, 2, 2, 2);
    // Rank 0: t0→1, t1→0, t2→0 (expert 0 now full). Rank 1: t0→0 dropped, t1→1, t2→1 dropped.
    expect(Array.from(a.kept)).toEqual([1, 0, 1, 1, 1, 0]);
    expect(a.dropped).toBe(2);
  });

  it('follows a priority order when given (batch priority routing)', () => {
    const a = assignCapacity([0, 0, 0], 3, 1, 1, 1, [2, 0, 1]);
    expect(Array.from(a.kept)).toEqual([0, 0, 1]);
  });

  it('keeps everything without a capacity', () => {
    const a = assignCapacity([0, 0, 0, 0], 4, 1, 2, null);
    expect(a.dropped).toBe(0);
    expect(a.load).toEqual([4, 0]);
  });
});
