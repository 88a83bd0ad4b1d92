import type { TextSplits } from './corpus.js';

/** End-of-line token appended to every line (Transformer-XL / MomentumSMoE convention). */
export const EOS = '<eos>';
/** Unknown-token symbol (used for tokens absent from the vocabulary). */
export const UNK = '<unk>';

/** Tokenisation level. */
export type TokenLevel = 'word' | 'char';

/** Splits one line into tokens: whitespace words, or characters (spaces kept as `▁`). */
export function tokenizeLine(line: string, level: TokenLevel): string[] {
  if (level === 'word') return line.split(/\s+/).filter((t) => t.length > 0);
  return Array.from(line.trim().replace(/\s+/g, ' ')).map((c) => (c === ' ' ? '▁' : c));
}

/**
 * A token ↔ id map built as the authors' (Transformer-XL) `Vocab`: the special `<eos>` first
 * (id 0), then every token of the given lines by descending frequency, ties in order of first
 * appearance (Python's `Counter.most_common`); `<unk>` is appended only if asked.
 */
export class Vocabulary {
  private readonly ids = new Map<string, number>();
  /** Tokens by id. */
  readonly tokens: string[] = [];

  private constructor(
    readonly level: TokenLevel,
    tokens: string[],
  ) {
    for (const t of tokens) this.add(t);
  }

  private add(token: string): number {
    let id = this.ids.get(token);
    if (id === undefined) {
      id = this.tokens.length;
      this.ids.set(token, id);
      this.tokens.push(token);
    }
    return id;
  }

  /**
   * Builds a vocabulary from lines (for WikiText: all three splits, as the authors). `maxSize`
   * keeps `<eos>`, the `maxSize − 2` most frequent tokens and `<unk>` (which then stands for the
   * rest): a smaller output softmax for CPU-sized runs.
   */
  static build(
    lines: Iterable<string>,
    options: { level?: TokenLevel; withUnk?: boolean; maxSize?: number } = {},
  ): Vocabulary {
    const level = options.level ?? 'word';
    const counts = new Map<string, number>();
    const bump = (t: string) => counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const line of lines) for (const t of tokenizeLine(line, level)) bump(t);
    counts.delete(EOS);
    // Array.prototype.sort is stable: ties keep their first-appearance order.
    let order = [EOS, ...[...counts.entries()].sort((a, b) => b[1] - a[1]).map(([t]) => t)];
    const max = options.maxSize;
    if (max !== undefined) {
      if (!Number.isInteger(max) || max < 3)
        throw new Error(`Vocabulary: maxSize must be an integer ≥ 3, got ${max}`);
      if (order.length > max) order = [...order.slice(0, max - 1).filter((t) => t !== UNK), UNK];
    }
    if (options.withUnk && !order.includes(UNK)) order.push(UNK);
    return new Vocabulary(level, order);
  }

  /** Builds from all splits of a corpus. */
  static fromSplits(
    splits: TextSplits,
    options: { level?: TokenLevel; withUnk?: boolean; maxSize?: number } = {},
  ): Vocabulary {
    return Vocabulary.build([...splits.train, ...splits.valid, ...splits.test], options);
  }

  /** Restores a vocabulary saved with {@link Vocabulary.toJSON}. */
  static fromJSON(json: { level: TokenLevel; tokens: string[] }): Vocabulary {
    return new Vocabulary(json.level, json.tokens);
  }

  /** Number of tokens. */
  get size(): number {
    return this.tokens.length;
  }

  /** Id of a token, or of `<unk>` (throws when the token is unknown and there is no `<unk>`). */
  id(token: string): number {
    const id = this.ids.get(token) ?? this.ids.get(UNK);
    if (id === undefined)
      throw new Error(`Vocabulary: unknown token "${token}" and no ${UNK} in the vocabulary`);
    return id;
  }

  /** Encodes lines into one stream of ids, `<eos>` after each line. */
  encode(lines: Iterable<string>): Int32Array {
    const out: number[] = [];
    const eos = this.id(EOS);
    for (const line of lines) {
      for (const t of tokenizeLine(line, this.level)) out.push(this.id(t));
      out.push(eos);
    }
    return Int32Array.from(out);
  }

  /** Tokens of an id sequence. */
  decode(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (i) => this.tokens[i] ?? UNK);
  }

  /** JSON form (for ONNX metadata, run folders). */
  toJSON(): { level: TokenLevel; tokens: string[] } {
    return { level: this.level, tokens: [...this.tokens] };
  }
}
