import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@msmoe/core/rng';
import { attackLine, attackLines, STOPWORDS, wordsFromText } from './attack.js';
import { attackSplits } from './cache.js';
import { noisyLine, noisyLines } from './noise.js';

const sample =
  'The game began development in 2010 , carrying over a large portion of the work done on Valkyria Chronicles II . While it retained the standard features of the series , it also underwent multiple adjustments , such as making the game more forgiving for series newcomers .';

describe('TextAttack word split', () => {
  it('keeps word runs, drops punctuation and WikiText markers, splits U.S.', () => {
    expect(wordsFromText("the U.S. @-@ based , 3 @.@ 5 don't")).toEqual([
      'the',
      'U',
      'S',
      'based',
      '3',
      '5',
      "don't",
    ]);
    expect(wordsFromText('  ')).toEqual([]);
    expect(STOPWORDS.size).toBe(179);
    expect(STOPWORDS.has('the')).toBe(true);
    expect(STOPWORDS.has('The')).toBe(false);
  });
});

describe('the AAA word-swap attack', () => {
  const n = wordsFromText(sample).length;

  it('swaps k = max(⌊0.025·n⌋, 1) non-stopword words, in place (exact count without the quirk)', () => {
    const k = Math.max(Math.floor(0.025 * n), 1);
    for (let seed = 0; seed < 50; seed++) {
      const out = attackLine(sample, new Rng(seed), { fastAugmentQuirk: false });
      expect(out.swapped).toHaveLength(k);
      const words = wordsFromText(sample);
      for (const i of out.swapped) expect(STOPWORDS.has(words[i]!)).toBe(false);
      expect(out.text.split(' ').length).toBe(sample.split(' ').length);
      expect(out.text.match(/AAA/g)).toHaveLength(k);
    }
  });

  it('with the fast_augment quirk swaps k − 1 or k, never a stopword', () => {
    const k = Math.max(Math.floor(0.025 * n), 1);
    for (let seed = 0; seed < 50; seed++) {
      const out = attackLine(sample, new Rng(seed));
      expect([k - 1, k]).toContain(out.swapped.length);
      const words = wordsFromText(sample);
      for (const i of out.swapped) expect(STOPWORDS.has(words[i]!)).toBe(false);
    }
  });

  it('keeps a line with one eligible word about half the time (k = 1, m = 1)', () => {
    let unchanged = 0;
    for (let seed = 0; seed < 2000; seed++)
      if (attackLine('the cat and the', new Rng(seed)).text === 'the cat and the') unchanged++;
    expect(unchanged / 2000).toBeGreaterThan(0.45);
    expect(unchanged / 2000).toBeLessThan(0.55);
    expect(attackLine('the and of', new Rng(1)).text).toBe('the and of');
    expect(attackLine('', new Rng(1)).text).toBe('');
  });

  it('replaces the occurrence inside its token: U.S. → AAA.S.', () => {
    const out = attackLine('of the U.S.', new Rng(3), { fastAugmentQuirk: false });
    expect(['of the AAA.S.', 'of the U.AAA.']).toContain(out.text);
  });

  it('is reproducible per seed and independent of the other lines', () => {
    const lines = [sample, 'Troops fought bravely .', sample];
    const a = attackLines(lines, 7);
    expect(attackLines(lines, 7)).toEqual(a);
    expect(attackLines([sample], 7)[0]).toBe(a[0]);
    expect(attackLines(lines, 8)).not.toEqual(a);
  });

  it('attacks valid and test only, caches the result and reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msmoe-attack-'));
    const splits = { train: [sample], valid: [sample, sample], test: ['Troops fought bravely .'] };
    const first = await attackSplits(splits, { seed: 3, cacheDir: dir });
    expect(first.fromCache).toBe(false);
    expect(first.train).toEqual([sample]);
    expect(readdirSync(dir)).toHaveLength(1);
    const second = await attackSplits(splits, { seed: 3, cacheDir: dir });
    expect(second.fromCache).toBe(true);
    expect(second.valid).toEqual(first.valid);
    const other = await attackSplits(splits, { seed: 4, cacheDir: dir });
    expect(other.fromCache).toBe(false);
    expect(readdirSync(dir)).toHaveLength(2);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('text noise', () => {
  it('word swap, deletion and typos grow with severity and are seeded', () => {
    const diff = (a: string, b: string) => a.split('').filter((c, i) => c !== b[i]).length;
    const typo1 = noisyLines([sample], 'char-typo', 1, 0)[0]!;
    const typo5 = noisyLines([sample], 'char-typo', 5, 0)[0]!;
    expect(diff(typo5, sample)).toBeGreaterThan(diff(typo1, sample));
    expect(noisyLines([sample], 'char-typo', 3, 0)).toEqual(
      noisyLines([sample], 'char-typo', 3, 0),
    );
    const del = noisyLine(sample, 'word-deletion', 5, new Rng(1));
    expect(del.split(' ').length).toBeLessThan(sample.split(' ').length);
    expect(noisyLine('one', 'word-deletion', 5, new Rng(1))).toBe('one');
    expect(noisyLine(sample, 'word-swap', 2, new Rng(1)).split(' ').sort()).toEqual(
      sample.split(' ').sort(),
    );
    expect(() => noisyLine(sample, 'shuffle' as never, 1, new Rng(0))).toThrow(
      /unknown text noise "shuffle"; allowed: word-swap, char-typo, word-deletion/,
    );
    expect(() => noisyLine(sample, 'char-typo', 6, new Rng(0))).toThrow(
      /severity must be an integer 1..5, got 6/,
    );
  });
});
