/** A text corpus as lines, split three ways. */
export interface TextSplits {
  /** Training lines. */
  train: string[];
  /** Validation lines. */
  valid: string[];
  /** Test lines. */
  test: string[];
}

/** The split names, in order. */
export const SPLITS = ['train', 'valid', 'test'] as const;
/** One of {@link SPLITS}. */
export type SplitName = (typeof SPLITS)[number];

/**
 * Cleans a document into one paragraph per line: paragraphs are separated by blank lines (or by
 * single newlines when the document has none), inner whitespace collapses to single spaces, and
 * empty paragraphs are dropped.
 */
export function paragraphs(text: string): string[] {
  const normalised = text.replace(/\r\n?/g, '\n');
  const blocks = /\n\s*\n/.test(normalised) ? normalised.split(/\n\s*\n/) : normalised.split('\n');
  return blocks.map((b) => b.replace(/\s+/g, ' ').trim()).filter((b) => b.length > 0);
}

/** Sentences of a text: cut after `.`, `!` or `?` (and closing quotes/brackets) before an upper-case start. */
export function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?]["'\u2019\u201d)\]]*)\s+(?=["'\u2018\u201c([]*[A-Z0-9])/)
    .filter((x) => x.length > 0);
}

/**
 * Groups consecutive sentences into lines of at most `maxWords` words (a longer sentence stands
 * alone): pseudo-paragraphs for texts stored without paragraph breaks.
 */
export function sentenceLines(text: string, maxWords = 100): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let words = 0;
  for (const s of sentences(text)) {
    const n = s.split(' ').length;
    if (current.length > 0 && words + n > maxWords) {
      out.push(current.join(' '));
      current = [];
      words = 0;
    }
    current.push(s);
    words += n;
  }
  if (current.length > 0) out.push(current.join(' '));
  return out;
}
