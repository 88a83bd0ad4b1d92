import { Rng } from '@msmoe/core/rng';

/** Text noise kinds with severities 1–5. */
export const TEXT_NOISES = ['word-swap', 'char-typo', 'word-deletion'] as const;
/** One of {@link TEXT_NOISES}. */
export type TextNoise = (typeof TEXT_NOISES)[number];

/** Share of words (word-swap, word-deletion) or characters (char-typo) affected per severity 1..5. */
export const TEXT_NOISE_RATES: Readonly<Record<TextNoise, readonly number[]>> = {
  'word-swap': [0.02, 0.05, 0.1, 0.15, 0.25],
  'char-typo': [0.01, 0.02, 0.04, 0.06, 0.1],
  'word-deletion': [0.02, 0.05, 0.1, 0.15, 0.25],
};

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * Applies one kind of text noise at severity 1–5 to a line: `word-swap` swaps randomly chosen
 * adjacent word pairs, `char-typo` replaces letters by random letters (case kept), `word-deletion`
 * removes words (at least one word is always kept). Whitespace is normalised to single spaces.
 */
export function noisyLine(line: string, kind: TextNoise, severity: number, rng: Rng): string {
  const rates = TEXT_NOISE_RATES[kind];
  if (!rates)
    throw new Error(`noisyLine: unknown text noise "${kind}"; allowed: ${TEXT_NOISES.join(', ')}`);
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) {
    throw new Error(`noisyLine: severity must be an integer 1..5, got ${severity}`);
  }
  const rate = rates[severity - 1] as number;
  const words = line.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return line;
  if (kind === 'word-swap') {
    const n = Math.max(1, Math.round(rate * words.length));
    for (let s = 0; s < n && words.length > 1; s++) {
      const i = rng.int(words.length - 1);
      [words[i], words[i + 1]] = [words[i + 1] as string, words[i] as string];
    }
    return words.join(' ');
  }
  if (kind === 'word-deletion') {
    const n = Math.min(words.length - 1, Math.max(1, Math.round(rate * words.length)));
    for (let s = 0; s < n; s++) words.splice(rng.int(words.length), 1);
    return words.join(' ');
  }
  return words
    .join(' ')
    .split('')
    .map((ch) => {
      const lower = ch.toLowerCase();
      if (!LETTERS.includes(lower) || rng.random() >= rate) return ch;
      const r = LETTERS[rng.int(26)] as string;
      return ch === lower ? r : r.toUpperCase();
    })
    .join('');
}

/** Applies {@link noisyLine} to every line, line i with the stream `seed → fork("noise:i")`. */
export function noisyLines(
  lines: readonly string[],
  kind: TextNoise,
  severity: number,
  seed: number,
): string[] {
  const state = new Rng(seed).getState();
  return lines.map((l, i) =>
    noisyLine(l, kind, severity, Rng.fromState(state).fork(`noise:${kind}:${i}`)),
  );
}
