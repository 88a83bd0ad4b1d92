import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTACK_TOKEN,
  attackSplits,
  MNIST_C_CORRUPTIONS,
  type MnistCCorruption,
  mnistCSet,
} from '@msmoe/corruptions';
import {
  DatasetError,
  type ImageDataset,
  type ImageSet,
  loadIdxDataset,
  loadMnist,
  loadSotu,
  loadSotuShift,
  readWikiText,
  type TextSplits,
  Vocabulary,
} from '@msmoe/datasets';
import type { RunConfig } from './config.js';

/** Token streams of an LM task: train, and validation/test clean and attacked. */
export interface TextData {
  kind: 'text';
  vocab: Vocabulary;
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
  attackedValid: Int32Array;
  attackedTest: Int32Array;
  /** A shifted test split (sotu-shift: the addresses of 2001–2021), when the task has one. */
  shift?: Int32Array;
}

/** Images of a vision task: train, test, and corrupted test sets by name. */
export interface ImageData {
  kind: 'image';
  dataset: ImageDataset;
  corrupted: Record<string, ImageSet>;
}

/** Loads (and attacks / corrupts) the data a run config asks for; throws before any run folder exists. */
/**
 * Attacked lines tokenised as the clean ones: the attack swaps a word inside its whitespace token
 * and keeps the punctuation around it (as TextAttack does), so in text that is not pre-tokenised
 * (`(Boston),` → `(AAA),`) a glued token no clean token matches is the attack token itself.
 */
export function gluedAttackTokens(lines: string[], vocab: Vocabulary): string[] {
  if (vocab.level !== 'word') return lines;
  const known = new Set(vocab.tokens);
  return lines.map((line) =>
    line.includes(ATTACK_TOKEN)
      ? line.replace(/\S+/g, (t) => (t.includes(ATTACK_TOKEN) && !known.has(t) ? ATTACK_TOKEN : t))
      : line,
  );
}

export async function loadTaskData(c: RunConfig, cacheDir: string): Promise<TextData | ImageData> {
  if (c.data.folder && !existsSync(c.data.folder))
    throw new DatasetError(`data.folder: ${c.data.folder} does not exist`);
  switch (c.task) {
    case 'sotu':
    case 'sotu-shift':
    case 'wikitext': {
      const shifted = c.task === 'sotu-shift' ? await loadSotuShift() : null;
      const splits: TextSplits =
        shifted ??
        (c.task === 'sotu' ? await loadSotu() : await readWikiText(c.data.folder as string));
      // The vocabulary comes from the training-time splits only: the shifted text's new words are <unk>.
      const built = Vocabulary.fromSplits(splits, { maxSize: c.data.vocabSize });
      // The attack token gets an id of its own (never seen in training), not <unk>'s: with a
      // capped vocabulary <unk> is frequent and would make attacked text look easy.
      const vocab = built.tokens.includes(ATTACK_TOKEN)
        ? built
        : Vocabulary.fromJSON({ level: built.level, tokens: [...built.tokens, ATTACK_TOKEN] });
      const attacked = await attackSplits(splits, {
        seed: 0,
        rate: c.data.attackRate,
        cacheDir: join(cacheDir, 'attacked'),
      });
      return {
        kind: 'text',
        vocab,
        train: vocab.encode(splits.train),
        valid: vocab.encode(splits.valid),
        test: vocab.encode(splits.test),
        attackedValid: vocab.encode(gluedAttackTokens(attacked.valid, vocab)),
        attackedTest: vocab.encode(gluedAttackTokens(attacked.test, vocab)),
        ...(shifted ? { shift: vocab.encode(shifted.shift) } : {}),
      };
    }
    case 'mnist':
    case 'mnist-c':
    case 'fashion-mnist':
    case 'fashion-mnist-c': {
      const dataset = c.task.startsWith('fashion')
        ? await loadIdxDataset(c.data.folder)
        : await loadMnist();
      const corrupted: Record<string, ImageSet> = {};
      if (c.task === 'mnist-c' || c.task === 'fashion-mnist-c') {
        const names = (c.data.corruptions ?? [...MNIST_C_CORRUPTIONS]) as MnistCCorruption[];
        for (const n of names) {
          if (!(MNIST_C_CORRUPTIONS as readonly string[]).includes(n))
            throw new DatasetError(
              `data.corruptions: "${n}" is not an MNIST-C corruption; allowed: ${MNIST_C_CORRUPTIONS.join(', ')}`,
            );
          corrupted[n] = mnistCSet(dataset.test, n, { seed: 0, limit: c.data.corruptedLimit });
        }
      }
      return { kind: 'image', dataset, corrupted };
    }
  }
}
