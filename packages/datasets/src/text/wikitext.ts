import type { DatasetCard } from '../card.js';

/** File names of the two WikiText layouts, per split. */
export const WIKITEXT_LAYOUTS = {
  /** The original release: `wiki.train.tokens`, `wiki.valid.tokens`, `wiki.test.tokens`. */
  tokens: { train: 'wiki.train.tokens', valid: 'wiki.valid.tokens', test: 'wiki.test.tokens' },
  /** The Transformer-XL / MomentumSMoE layout: `train.txt`, `valid.txt`, `test.txt`. */
  txt: { train: 'train.txt', valid: 'valid.txt', test: 'test.txt' },
} as const;

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
