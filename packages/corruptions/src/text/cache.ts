import { type AttackOptions, attackLines } from './attack.js';

/** Clean train split and attacked validation/test splits. */
export interface AttackedSplits {
  train: string[];
  valid: string[];
  test: string[];
  /** Where the attacked splits were cached (null when not cached). */
  cacheFile: string | null;
  /** Whether they were read from the cache. */
  fromCache: boolean;
}

/**
 * The attacked corpus of the robustness protocol: the training split unchanged, validation and
 * test attacked with {@link attackLines}. With `cacheDir` the attacked splits are written once
 * (atomically) under a key made of the seed, rate, token and a hash of the clean text, and read
 * back afterwards, so every model of a study sees exactly the same attacked text (Node only).
 */
export async function attackSplits(
  splits: { train: string[]; valid: string[]; test: string[] },
  options: AttackOptions & { seed?: number; cacheDir?: string } = {},
): Promise<AttackedSplits> {
  const seed = options.seed ?? 0;
  const rate = options.rate ?? 0.025;
  const token = options.token ?? 'AAA';
  let cacheFile: string | null = null;
  if (options.cacheDir) {
    const { createHash } = await import('node:crypto');
    const path = await import('node:path');
    const h = createHash('sha256');
    for (const s of [splits.valid, splits.test]) for (const l of s) h.update(l).update('\n');
    const key = `${seed}-${rate}-${token}-${h.digest('hex').slice(0, 16)}`;
    cacheFile = path.join(options.cacheDir, `attacked-${key}.json`);
    const fs = await import('node:fs/promises');
    try {
      const cached = JSON.parse(await fs.readFile(cacheFile, 'utf8')) as {
        valid: string[];
        test: string[];
      };
      if (
        cached.valid.length === splits.valid.length &&
        cached.test.length === splits.test.length
      ) {
        return {
          train: splits.train,
          valid: cached.valid,
          test: cached.test,
          cacheFile,
          fromCache: true,
        };
      }
    } catch {
      // No cache yet (or unreadable): compute and write it.
    }
  }
  const valid = attackLines(splits.valid, seed, { rate, token });
  const test = attackLines(splits.test, seed + 1, { rate, token });
  if (cacheFile) {
    const { writeFileAtomic } = await import('@msmoe/core/fs');
    await writeFileAtomic(cacheFile, JSON.stringify({ seed, rate, token, valid, test }));
  }
  return { train: splits.train, valid, test, cacheFile, fromCache: false };
}
