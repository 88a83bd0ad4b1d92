/** A language-model batch: `input[b, t]` predicts `target[b, t]` (the next token). Row-major `[B, M]`. */
export interface LmBatch {
  input: Int32Array;
  target: Int32Array;
  /** Streams B. */
  batchSize: number;
  /** Tokens per stream in this block (the last block may be shorter than M). */
  length: number;
  /** Index of this block. */
  index: number;
}

/**
 * Cuts a token stream into B contiguous streams, as the authors' `LMOrderedIterator`: the stream is
 * trimmed to a multiple of B and stream b holds tokens `[b·L, (b+1)·L)`. Returns `[B, L]` row-major.
 */
export function batchify(
  stream: Int32Array,
  batchSize: number,
): { data: Int32Array; batchSize: number; length: number } {
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new Error(`batchify: batchSize must be a positive integer, got ${batchSize}`);
  const length = Math.floor(stream.length / batchSize);
  if (length < 2)
    throw new Error(`batchify: ${stream.length} tokens are too few for ${batchSize} streams`);
  return { data: stream.slice(0, length * batchSize), batchSize, length };
}

/**
 * Consecutive blocks of M tokens over the B streams (targets shifted by one), in order; the
 * blocks of one pass are contiguous so a Transformer-XL cache carries over from block to block.
 * `start` resumes from a given block index (exact resume).
 */
export function* lmBatches(
  batched: { data: Int32Array; batchSize: number; length: number },
  blockLength: number,
  start = 0,
): Generator<LmBatch> {
  const { data, batchSize: B, length: L } = batched;
  if (!Number.isInteger(blockLength) || blockLength <= 0)
    throw new Error(`lmBatches: blockLength must be a positive integer, got ${blockLength}`);
  const blocks = Math.ceil((L - 1) / blockLength);
  for (let index = start; index < blocks; index++) {
    const begin = index * blockLength;
    const len = Math.min(blockLength, L - 1 - begin);
    const input = new Int32Array(B * len);
    const target = new Int32Array(B * len);
    for (let b = 0; b < B; b++) {
      const row = b * L + begin;
      input.set(data.subarray(row, row + len), b * len);
      target.set(data.subarray(row + 1, row + 1 + len), b * len);
    }
    yield { input, target, batchSize: B, length: len, index };
  }
}

/** Number of blocks {@link lmBatches} yields for a batched stream. */
export function lmBatchCount(batched: { length: number }, blockLength: number): number {
  return Math.ceil((batched.length - 1) / blockLength);
}
