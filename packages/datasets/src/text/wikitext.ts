import type { DatasetCard } from '../card.js';
import { DatasetError } from '../card.js';
import { SPLITS, type TextSplits } from './corpus.js';

/** File names of the two WikiText layouts, per split. */
export const WIKITEXT_LAYOUTS = {
  /** The original release: `wiki.train.tokens`, `wiki.valid.tokens`, `wiki.test.tokens`. */
  tokens: { train: 'wiki.train.tokens', valid: 'wiki.valid.tokens', test: 'wiki.test.tokens' },
  /** The Transformer-XL / MomentumSMoE layout: `train.txt`, `valid.txt`, `test.txt`. */
  txt: { train: 'train.txt', valid: 'valid.txt', test: 'test.txt' },
} as const;

/**
 * Reads a WikiText-103 or WikiText-2 folder in either layout, line by line exactly as the
 * authors' data loader does (each line kept as is; the tokeniser adds `<eos>`). Empty lines are
 * kept: they become a lone `<eos>`, as in the reference.
 *
 * @throws DatasetError naming the folder and the files expected when it is missing or incomplete.
 */
export async function readWikiText(
  folder: string,
): Promise<TextSplits & { layout: keyof typeof WIKITEXT_LAYOUTS }> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let entries: string[];
  try {
    entries = await fs.readdir(folder);
  } catch {
    throw new DatasetError(
      `WikiText folder "${folder}" does not exist or cannot be read; expected ${Object.values(WIKITEXT_LAYOUTS.tokens).join(', ')} or ${Object.values(WIKITEXT_LAYOUTS.txt).join(', ')}`,
    );
  }
  const layout = (Object.keys(WIKITEXT_LAYOUTS) as (keyof typeof WIKITEXT_LAYOUTS)[]).find((l) =>
    SPLITS.every((s) => entries.includes(WIKITEXT_LAYOUTS[l][s])),
  );
  if (!layout) {
    throw new DatasetError(
      `WikiText folder "${folder}" has neither ${Object.values(WIKITEXT_LAYOUTS.tokens).join(', ')} nor ${Object.values(WIKITEXT_LAYOUTS.txt).join(', ')} (found: ${entries.slice(0, 10).join(', ') || 'nothing'})`,
    );
  }
  const out = { train: [], valid: [], test: [], layout } as TextSplits & {
    layout: keyof typeof WIKITEXT_LAYOUTS;
  };
  for (const split of SPLITS) {
    const file = path.join(folder, WIKITEXT_LAYOUTS[layout][split]);
    const bytes = await fs.readFile(file);
    // Checked before anything is trained: text, UTF-8, and not empty.
    if (bytes.includes(0))
      throw new DatasetError(`${file}: not a text file (it contains NUL bytes)`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new DatasetError(`${file}: not UTF-8 text`);
    }
    if (text.trim() === '')
      throw new DatasetError(`${file}: the ${split} split is empty (no words)`);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop(); // the final newline ends the last line
    out[split] = lines;
  }
  return out;
}

/** Card of WikiText-103 (read from a folder the user provides). */
export const WIKITEXT103_CARD: DatasetCard = {
  name: 'wikitext-103',
  description: 'Verified Good and Featured Wikipedia articles, tokenised (Merity et al., 2016).',
  source: 'a folder you provide (wiki.*.tokens or *.txt); msmoe never downloads it',
  license: 'CC BY-SA 3.0',
  size: '103 M training tokens, vocabulary 267,735',
  splits: {
    train: '28,475 articles',
    valid: '60 articles (217,646 tokens)',
    test: '60 articles (245,569 tokens)',
  },
  notes: ['word level, whitespace tokens plus <eos> per line, as the MomentumSMoE authors'],
};
