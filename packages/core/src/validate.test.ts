import { z } from 'zod';
import { ConfigError, parseOrThrow, refineIssue } from './validate.js';

const schema = z
  .object({ lo: z.number(), hi: z.number(), nested: z.object({ k: z.number() }).optional() })
  .strict()
  .superRefine((c, ctx) => {
    if (c.hi <= c.lo) refineIssue(ctx, ['hi'], `must be > lo (${c.lo})`, c.hi);
    if (c.nested && c.nested.k > c.hi)
      refineIssue(ctx, ['nested', 'k'], 'must be ≤ hi', c.nested.k);
  });

describe('parseOrThrow', () => {
  it('returns the parsed value', () => {
    expect(parseOrThrow(schema, { lo: 1, hi: 2 }, 'range')).toEqual({ lo: 1, hi: 2 });
  });

  it('names the field, the value and the rule of a refinement issue', () => {
    expect(() => parseOrThrow(schema, { lo: 3, hi: 2 }, 'range')).toThrow(
      'range: hi: must be > lo (3) (got 2)',
    );
    try {
      parseOrThrow(schema, { lo: 1, hi: 2, nested: { k: 5 } }, 'range');
      throw new Error('not thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe('nested.k');
      expect((e as ConfigError).message).toBe('range: nested.k: must be ≤ hi (got 5)');
    }
  });

  it('lists unknown fields', () => {
    expect(() => parseOrThrow(schema, { lo: 1, hi: 2, typo: 1 }, 'range')).toThrow(
      'range: typo: unknown field',
    );
  });
});
