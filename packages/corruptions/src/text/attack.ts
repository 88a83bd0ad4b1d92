import { Rng } from '@msmoe/core/rng';

/**
 * NLTK's English stopwords (179 entries, the default of TextAttack's StopwordModification), embedded
 * because later nltk_data releases may differ. Matched exactly and case-sensitively ("The" is not a
 * stopword), as the reference.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    "i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his " +
    "himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom this " +
    "that that'll these those am is are was were be been being have has had having do does did doing a an the and but " +
    'if or because as until while of at by for with about against between into through during before after above below ' +
    'to from up down in out on off over under again further then once here there when where why how all any both each ' +
    "few more most other some such no nor not only own same so than too very s t can will just don don't should " +
    "should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't " +
    "haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't " +
    "weren weren't won won't wouldn wouldn't"
  ).split(' '),
);

/** The replacement token of the MomentumSMoE attack. */
export const ATTACK_TOKEN = 'AAA';

const EXTRA = "'\\-_*@";
const HOMOGLYPHS = '˗৭Ȣ𝟕бƼᏎƷᒿlO`ɑЬϲԁе𝚏ɡհіϳ𝒌ⅼｍոорԛⲅѕ𝚝սѵԝ×уᴢ';
const WORD_RUN = new RegExp(`[\\p{L}\\p{N}\\p{M}_${EXTRA}${HOMOGLYPHS}]+`, 'gu');
const LEADING = new RegExp(`^[${EXTRA}]+`, 'u');

/**
 * TextAttack's `words_from_text`: per whitespace token, strip leading `' - _ * @`, take the maximal
 * runs of word characters (plus `' - _ * @` and TextAttack's homoglyphs), strip the same leading
 * characters from each run and drop empty runs. WikiText markers (`@-@`, `@,@`) and punctuation
 * are not words.
 */
export function wordsFromText(line: string): string[] {
  const out: string[] = [];
  for (const token of line.split(/\s+/)) {
    const t = token.replace(LEADING, '');
    for (const m of t.matchAll(WORD_RUN)) {
      const w = m[0].replace(LEADING, '');
      if (w.length > 0) out.push(w);
    }
  }
  return out;
}

/** Options of the word-swap attack. */
export interface AttackOptions {
  /** Share of words swapped per line (the authors: 0.025; Elliptical Attention: 0.015). */
  rate?: number;
  /** Replacement token (default `AAA`). */
  token?: string;
  /**
   * Reproduce TextAttack's `fast_augment` draw for the last swap, which keeps the line with
   * probability 1/(m+1) (default true, as the published attacked data). `false` swaps exactly k.
   */
  fastAugmentQuirk?: boolean;
}

/** Result of attacking one line. */
export interface AttackedLine {
  /** The line with the swapped word occurrences replaced in place. */
  text: string;
  /** Word indices (in {@link wordsFromText} order) that were swapped. */
  swapped: number[];
}

/** Character offsets of each word of `words` inside `line`, found left to right. */
function locate(line: string, words: string[]): number[] {
  const at: number[] = [];
  let cursor = 0;
  for (const w of words) {
    const i = line.indexOf(w, cursor);
    at.push(i);
    cursor = i + w.length;
  }
  return at;
}

/**
 * The MomentumSMoE "AAA" word swap on one line, reproducing TextAttack's behaviour: k =
 * max(⌊rate·n⌋, 1) of the n words; only non-stopword words that are not already the token are
 * eligible; k − 1 swaps at uniformly chosen eligible positions, then the `fast_augment` quirk for
 * the last one (draw j in 0..m over the m eligible positions left; j = m keeps the line). A swap
 * replaces that word occurrence inside the raw line, keeping every other character.
 */
export function attackLine(line: string, rng: Rng, options: AttackOptions = {}): AttackedLine {
  const rate = options.rate ?? 0.025;
  const token = options.token ?? ATTACK_TOKEN;
  const words = wordsFromText(line);
  if (words.length === 0) return { text: line, swapped: [] };
  const k = Math.max(Math.floor(rate * words.length), 1);
  const current = [...words];
  const eligible = () =>
    current.map((w, i) => (!STOPWORDS.has(w) && w !== token ? i : -1)).filter((i) => i >= 0);
  const swapped: number[] = [];
  for (let s = 0; s < k - 1; s++) {
    const e = eligible();
    if (e.length === 0) break;
    const i = e[rng.int(e.length)] as number;
    current[i] = token;
    swapped.push(i);
  }
  if (swapped.length === k - 1) {
    const e = eligible();
    if (e.length > 0) {
      const j = options.fastAugmentQuirk === false ? rng.int(e.length) : rng.int(e.length + 1);
      if (j < e.length) {
        current[e[j] as number] = token;
        swapped.push(e[j] as number);
      }
    }
  }
  if (swapped.length === 0) return { text: line, swapped };
  const offsets = locate(line, words);
  let text = '';
  let cursor = 0;
  for (const i of [...swapped].sort((a, b) => a - b)) {
    const at = offsets[i] as number;
    text += line.slice(cursor, at) + token;
    cursor = at + (words[i] as string).length;
  }
  return { text: text + line.slice(cursor), swapped: swapped.sort((a, b) => a - b) };
}

/**
 * Attacks every line of a split (validation or test: the training split stays clean), line i with
 * its own stream `seed → fork("attack:i")`, so the result does not depend on the other lines.
 */
export function attackLines(
  lines: readonly string[],
  seed: number,
  options: AttackOptions = {},
): string[] {
  const base = new Rng(seed);
  const state = base.getState();
  return lines.map((line, i) => {
    const rng = Rng.fromState(state).fork(`attack:${i}`);
    return attackLine(line, rng, options).text;
  });
}
