import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError } from '../card.js';
import { readWikiText } from '../files.js';
import { batchify, lmBatchCount, lmBatches } from './batching.js';
import { paragraphs, sentenceLines, sentences } from './corpus.js';
import {
  loadSotu,
  loadSotuAddresses,
  loadSotuShift,
  SOTU_SHIFT_FROM,
  sotuSplitOfYear,
} from './sotu.js';
import { EOS, tokenizeLine, UNK, Vocabulary } from './vocab.js';

describe('text cleaning', () => {
  it('splits sentences and groups them into lines of at most N words', () => {
    expect(sentences('One two. Three four! "Five" six? 7 eight.')).toEqual([
      'One two.',
      'Three four!',
      '"Five" six?',
      '7 eight.',
    ]);
    expect(sentences('Mr. Smith went to Washington.')).toEqual([
      'Mr.',
      'Smith went to Washington.',
    ]); // no abbreviation list: documented cut
    expect(sentenceLines('A b c. D e. F g h i.', 5)).toEqual(['A b c. D e.', 'F g h i.']);
    expect(sentenceLines('A b c d e f g.', 3)).toEqual(['A b c d e f g.']); // a long sentence stands alone
    expect(paragraphs('a  b\n\n c \n\n\n')).toEqual(['a b', 'c']);
  });
});

describe('State of the Union corpus', () => {
  it('splits by year deterministically (8 → valid, 9 → test)', () => {
    expect([1790, 1798, 1799, 2008, 2019, 2021].map(sotuSplitOfYear)).toEqual([
      'train',
      'valid',
      'test',
      'valid',
      'test',
      'train',
    ]);
  });

  it('loads the embedded corpus: lines of whole sentences, same result every time', async () => {
    const a = await loadSotu();
    expect(a.train.length).toBeGreaterThan(15000);
    expect(a.valid.length).toBeGreaterThan(1500);
    expect(a.test.length).toBeGreaterThan(1500);
    for (const line of [...a.train.slice(0, 500), ...a.valid.slice(0, 200)]) {
      expect(line.trim()).toBe(line);
      expect(line.length).toBeGreaterThan(0);
    }
    expect(a.train[0]).toMatch(/^Fellow-Citizens of the Senate and House of Representatives:/);
    const b = await loadSotu();
    expect(b.valid).toEqual(a.valid);
    const words =
      a.train.reduce((n, l) => n + l.split(' ').length, 0) +
      a.valid.reduce((n, l) => n + l.split(' ').length, 0) +
      a.test.reduce((n, l) => n + l.split(' ').length, 0);
    expect(words).toBeGreaterThan(1_700_000);
  });
});

describe('vocabulary', () => {
  const lines = ['the cat sat', 'the dog', '', 'a cat'];
  it('puts <eos> first, then tokens by frequency (ties in first-appearance order)', () => {
    const v = Vocabulary.build(lines);
    expect(v.tokens).toEqual([EOS, 'the', 'cat', 'sat', 'dog', 'a']);
    expect(Array.from(v.encode(['the cat', '']))).toEqual([1, 2, 0, 0]);
    expect(v.decode([1, 2, 0])).toEqual(['the', 'cat', EOS]);
  });

  it('maps unknown tokens to <unk> when present, and fails clearly otherwise', () => {
    expect(() => Vocabulary.build(lines).encode(['zebra'])).toThrow('unknown token "zebra"');
    const v = Vocabulary.build(lines, { withUnk: true });
    expect(v.decode(v.encode(['zebra the']))).toEqual([UNK, 'the', EOS]);
    expect(Vocabulary.fromJSON(v.toJSON()).tokens).toEqual(v.tokens);
  });

  it('caps its size: the most frequent tokens, then <unk> for the rest', () => {
    const v = Vocabulary.build(lines, { maxSize: 4 });
    expect(v.tokens).toEqual([EOS, 'the', 'cat', UNK]);
    expect(v.decode(v.encode(['the dog sat']))).toEqual(['the', UNK, UNK, EOS]);
    expect(Vocabulary.build(lines, { maxSize: 50 }).size).toBe(6);
    expect(() => Vocabulary.build(lines, { maxSize: 2 })).toThrow('maxSize must be an integer ≥ 3');
  });

  it('has a character level', () => {
    expect(tokenizeLine(' ab  c ', 'char')).toEqual(['a', 'b', '▁', 'c']);
    const v = Vocabulary.build(['ab c'], { level: 'char' });
    expect(v.decode(v.encode(['ab c']))).toEqual(['a', 'b', '▁', 'c', EOS]);
  });
});

describe('WikiText reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'msmoe-wt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const sample = {
    train:
      ' \n = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 : <unk> Chronicles ( Japanese : 戦場のヴァルキュリア3 ) , commonly referred to as Valkyria Chronicles III outside Japan , is a tactical role @-@ playing video game . \n',
    valid: ' \n = Homarus gammarus = \n',
    test: ' \n = Robert <unk> = \n \n Robert <unk> is an English film , television and theatre actor . \n',
  };

  it.each([
    [
      'tokens',
      { train: 'wiki.train.tokens', valid: 'wiki.valid.tokens', test: 'wiki.test.tokens' },
    ],
    ['txt', { train: 'train.txt', valid: 'valid.txt', test: 'test.txt' }],
  ] as const)('round-trips a sample in the %s layout', async (layout, names) => {
    const folder = join(dir, layout);
    require('node:fs').mkdirSync(folder);
    for (const split of ['train', 'valid', 'test'] as const)
      writeFileSync(join(folder, names[split]), sample[split]);
    const wt = await readWikiText(folder);
    expect(wt.layout).toBe(layout);
    expect(wt.train.join('\n') + '\n').toBe(sample.train);
    expect(wt.test).toHaveLength(4);
    const vocab = Vocabulary.fromSplits(wt);
    const ids = vocab.encode(wt.valid);
    expect(vocab.decode(ids)).toEqual([EOS, '=', 'Homarus', 'gammarus', '=', EOS]);
    expect(vocab.tokens).toContain('@-@');
  });

  it('names the folder and the expected files when they are missing', async () => {
    await expect(readWikiText(join(dir, 'nope'))).rejects.toThrow(DatasetError);
    await expect(readWikiText(join(dir, 'nope'))).rejects.toThrow(
      /WikiText folder ".*nope" does not exist .* expected wiki.train.tokens/,
    );
    const partial = join(dir, 'partial');
    require('node:fs').mkdirSync(partial);
    writeFileSync(join(partial, 'train.txt'), 'a\n');
    await expect(readWikiText(partial)).rejects.toThrow(
      /has neither wiki.train.tokens.* nor train.txt.*\(found: train.txt\)/,
    );
  });
});

describe('LM batching', () => {
  const stream = Int32Array.from({ length: 23 }, (_, i) => i);
  it('cuts B contiguous streams and walks them in blocks with shifted targets', () => {
    const b = batchify(stream, 3);
    expect(b.length).toBe(7);
    expect(Array.from(b.data.slice(7, 14))).toEqual([7, 8, 9, 10, 11, 12, 13]);
    const blocks = [...lmBatches(b, 4)];
    expect(blocks.map((x) => x.length)).toEqual([4, 2]);
    expect(lmBatchCount(b, 4)).toBe(2);
    expect(Array.from(blocks[0]!.input)).toEqual([0, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 17]);
    expect(Array.from(blocks[0]!.target)).toEqual([1, 2, 3, 4, 8, 9, 10, 11, 15, 16, 17, 18]);
    expect(Array.from(blocks[1]!.input)).toEqual([4, 5, 11, 12, 18, 19]);
    expect(Array.from(blocks[1]!.target)).toEqual([5, 6, 12, 13, 19, 20]);
  });

  it('resumes at a block index and validates sizes', () => {
    const b = batchify(stream, 3);
    expect([...lmBatches(b, 4, 1)].map((x) => x.index)).toEqual([1]);
    expect(() => batchify(stream, 0)).toThrow(/batchSize must be a positive integer/);
    expect(() => batchify(stream, 20)).toThrow(/too few/);
    expect(() => lmBatches(b, 0).next()).toThrow(/blockLength must be a positive integer/);
  });
});

describe('sotu-shift', () => {
  it('is disjoint by date: shift lines only from addresses of 2001 on, the others only from before', async () => {
    const splits = await loadSotuShift();
    const addresses = await loadSotuAddresses();
    const lineYears = new Map<string, Set<number>>();
    for (const a of addresses)
      for (const line of sentenceLines(a.text, 100)) {
        const years = lineYears.get(line) ?? new Set<number>();
        years.add(a.year);
        lineYears.set(line, years);
      }
    const years = (lines: string[]) => lines.flatMap((l) => [...(lineYears.get(l) ?? [])]);
    expect(splits.shift.length).toBeGreaterThan(500);
    expect(Math.min(...years(splits.shift))).toBeGreaterThanOrEqual(SOTU_SHIFT_FROM);
    for (const part of [splits.train, splits.valid, splits.test]) {
      expect(part.length).toBeGreaterThan(500);
      const ys = years(part).filter((y) => y < SOTU_SHIFT_FROM);
      // A line repeated verbatim in a later address may also carry that year; each line has an early one.
      expect(ys.length).toBeGreaterThanOrEqual(part.length);
      expect(Math.max(...ys)).toBeLessThan(SOTU_SHIFT_FROM);
    }
    const shift = new Set(splits.shift);
    const early = new Set(
      addresses.filter((a) => a.year < SOTU_SHIFT_FROM).flatMap((a) => sentenceLines(a.text, 100)),
    );
    // The earlier splits together are exactly the pre-2001 lines.
    expect(new Set([...splits.train, ...splits.valid, ...splits.test])).toEqual(early);
    // No line of the shifted split occurs in an earlier address.
    expect([...shift].filter((l) => early.has(l))).toEqual([]);
  });
});
