/**
 * Writes `data` to `path` atomically: the bytes go to a temporary file in the same folder, are
 * flushed to disk, then renamed over `path`. Readers see the old file or the new one, never a
 * half-written one; on failure the temporary file is removed. Node only.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const dir = nodePath.dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const tmp = nodePath.join(
    dir,
    `.${nodePath.basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
  );
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  // Make the rename itself durable where the platform allows syncing a directory.
  try {
    const dh = await fs.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Not supported (e.g. Windows): the rename is still atomic.
  }
}

/** Whether a file name is a temporary file of {@link writeFileAtomic} (`.<name>.tmp-…`). */
export const isAtomicTempFile = (name: string): boolean => /^\..*\.tmp-/.test(name);

/**
 * Deletes the temporary files of {@link writeFileAtomic} that a crash left in `dir` (not its
 * subfolders); returns their paths. A missing folder has none. Call it only where no write to
 * that folder is in flight (e.g. on resume, before training starts). Node only.
 */
export async function removeAtomicTempFiles(dir: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const orphans = names.filter(isAtomicTempFile).map((n) => nodePath.join(dir, n));
  for (const o of orphans) await fs.rm(o, { force: true });
  return orphans;
}
