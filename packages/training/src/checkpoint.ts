import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type RngState,
  removeAtomicTempFiles,
  SafetensorsError,
  safetensorsToTensors,
  tensorsToSafetensors,
  withSafetensorsMetadata,
  writeFileAtomic,
} from '@msmoe/core';
import * as tf from '@tensorflow/tfjs';

/** A checkpoint that cannot be read (truncated, corrupted, or not a checkpoint). */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** Everything a run needs to continue exactly where it stopped. */
export interface CheckpointContent {
  /** Optimiser updates applied. */
  step: number;
  /** Data position: micro-batches consumed. */
  position: number;
  /** State of the training random stream (dropout, router noise). */
  rng: RngState;
  /** Metrics so far (JSON), e.g. evaluations and counters. */
  metrics: unknown;
  /** Model weights by name. */
  model: Record<string, tf.Tensor>;
  /** Optimiser state by name. */
  optimizer: Record<string, tf.Tensor>;
  /** Task state (e.g. LM caches) by name. */
  task: Record<string, tf.Tensor>;
}

const FORMAT = 'msmoe-checkpoint/2';
/** Format 1 hashed the tensor data only; still read (its header is not covered). */
const FORMAT_V1 = 'msmoe-checkpoint/1';
const GROUPS = ['model', 'optimizer', 'task'] as const;
const FILE = /^step-(\d{8})\.safetensors$/;

/** The header's tensor table (name → dtype, shape, offsets), sorted by name. */
function tensorTable(bytes: Uint8Array): { headerLength: number; table: string } {
  if (bytes.length < 8) throw new CheckpointError('shorter than a safetensors header');
  const headerLength = Number(
    new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true),
  );
  if (8 + headerLength > bytes.length) throw new CheckpointError('header runs past the end');
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)),
  ) as Record<string, unknown>;
  const names = Object.keys(header)
    .filter((k) => k !== '__metadata__')
    .sort();
  return {
    headerLength,
    table: JSON.stringify(names.map((n) => [n, header[n]])),
  };
}

/**
 * SHA-256 over everything a checkpoint says: the tensor table of the header (names, dtypes,
 * shapes, offsets), the checkpoint metadata (step, data position, RNG, metrics) and the tensor
 * data. Only the hash itself is left out, so an edited `position` fails like a flipped data byte.
 */
function checkpointHash(bytes: Uint8Array, info: string): string {
  const { headerLength, table } = tensorTable(bytes);
  return createHash('sha256')
    .update(table)
    .update('\0')
    .update(info)
    .update('\0')
    .update(bytes.subarray(8 + headerLength))
    .digest('hex');
}

/** Format 1's hash: the tensor data only. */
function dataSectionHash(bytes: Uint8Array): string {
  const { headerLength } = tensorTable(bytes);
  return createHash('sha256')
    .update(bytes.subarray(8 + headerLength))
    .digest('hex');
}

/**
 * A folder of checkpoints, `step-00000060.safetensors` …: one safetensors file each holding the
 * model weights (`model/<name>`), optimiser state (`optimizer/<name>`) and task state
 * (`task/<name>`), with step, data position, RNG state, metrics and a SHA-256 of the tensor data
 * in its metadata. Files are written atomically (temp + rename) and only the last `keep` are kept.
 * A file that fails to parse or whose checksum differs is reported and the previous one is used.
 */
export class CheckpointStore {
  constructor(
    readonly dir: string,
    readonly keep = 3,
  ) {
    if (!Number.isInteger(keep) || keep < 1)
      throw new Error(`CheckpointStore: keep must be a positive integer, got ${keep}`);
  }

  /** Path of the checkpoint of a step. */
  pathOf(step: number): string {
    return join(this.dir, `step-${String(step).padStart(8, '0')}.safetensors`);
  }

  /** Writes a checkpoint atomically, then deletes all but the newest `keep`. Returns its path. */
  async save(content: CheckpointContent): Promise<string> {
    const tensors: Record<string, tf.Tensor> = {};
    for (const g of GROUPS)
      for (const [name, t] of Object.entries(content[g])) tensors[`${g}/${name}`] = t;
    const info = JSON.stringify({
      format: FORMAT,
      step: content.step,
      position: content.position,
      rng: content.rng,
      metrics: content.metrics,
    });
    // The data section does not depend on the header: encode once, hash the data, add the hash to the header.
    const draft = await tensorsToSafetensors(tensors, { metadata: { checkpoint: info } });
    const bytes = withSafetensorsMetadata(draft, { sha256: checkpointHash(draft, info) });
    const path = this.pathOf(content.step);
    await writeFileAtomic(path, bytes);
    this.verified.add(path);
    await this.prune();
    return path;
  }

  /** Told of every checkpoint found defective by {@link prune} or {@link loadLatest} (e.g. to log it). */
  onInvalid: (path: string, error: CheckpointError) => void = () => {};

  /** Paths already known to be whole (written or checked by this store). */
  private readonly verified = new Set<string>();

  /**
   * Keeps the newest `keep` readable checkpoints and deletes older ones. A file that fails its
   * check is set aside as `<name>.corrupt` (reported to `onInvalid`), never counted among the kept:
   * a corrupt newest file does not push the last good one out.
   */
  async prune(
    onInvalid: (path: string, error: CheckpointError) => void = this.onInvalid,
  ): Promise<void> {
    let kept = 0;
    for (const { path } of await this.list()) {
      if (kept >= this.keep) {
        await rm(path, { force: true });
        this.verified.delete(path);
        continue;
      }
      if (!this.verified.has(path)) {
        try {
          await CheckpointStore.verify(path);
          this.verified.add(path);
        } catch (err) {
          if (!(err instanceof CheckpointError)) throw err;
          onInvalid(path, err);
          await rename(path, `${path}.corrupt`).catch(() => {});
          continue;
        }
      }
      kept += 1;
    }
  }

  /** Deletes temp files left by writes that a crash interrupted (`.step-….tmp-*`). */
  removeOrphans(): Promise<string[]> {
    return removeAtomicTempFiles(this.dir);
  }

  /** Checks a checkpoint file's structure and checksum without making tensors. */
  static async verify(path: string): Promise<void> {
    const bytes = new Uint8Array(await readFile(path));
    let metadata: Record<string, string>;
    try {
      const { headerLength } = tensorTable(bytes);
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as {
        __metadata__?: Record<string, string>;
      };
      metadata = header.__metadata__ ?? {};
    } catch (err) {
      throw new CheckpointError(`checkpoint ${path} is unreadable: ${(err as Error).message}`);
    }
    CheckpointStore.checkIntegrity(path, bytes, metadata);
  }

  /** Throws unless the metadata is an msmoe checkpoint's and the checksum matches. */
  private static checkIntegrity(
    path: string,
    bytes: Uint8Array,
    metadata: Record<string, string>,
  ): { format: string } & Record<string, unknown> {
    if (!metadata.checkpoint || !metadata.sha256)
      throw new CheckpointError(`checkpoint ${path}: not an msmoe checkpoint (no metadata)`);
    let info: { format: string } & Record<string, unknown>;
    try {
      info = JSON.parse(metadata.checkpoint);
    } catch (err) {
      throw new CheckpointError(
        `checkpoint ${path}: metadata is not JSON (${(err as Error).message})`,
      );
    }
    const expected =
      info?.format === FORMAT_V1
        ? dataSectionHash(bytes)
        : checkpointHash(bytes, metadata.checkpoint);
    if (expected !== metadata.sha256)
      throw new CheckpointError(`checkpoint ${path}: checksum mismatch (the file is corrupted)`);
    if (info.format !== FORMAT && info.format !== FORMAT_V1)
      throw new CheckpointError(
        `checkpoint ${path}: format "${info.format}", expected "${FORMAT}"`,
      );
    return info;
  }

  /** Checkpoints present, newest first. */
  async list(): Promise<{ step: number; path: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .map((n) => FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ step: Number(m[1]), path: join(this.dir, m[0]) }))
      .sort((a, b) => b.step - a.step);
  }

  /** Reads one checkpoint; throws {@link CheckpointError} naming the file and what is wrong. */
  static async load(path: string): Promise<CheckpointContent> {
    const bytes = new Uint8Array(await readFile(path));
    let decoded: ReturnType<typeof safetensorsToTensors>;
    try {
      decoded = safetensorsToTensors(bytes);
    } catch (err) {
      // Any defect of the file is the file's (a torn or edited header included), so the caller
      // falls back to the previous checkpoint.
      throw new CheckpointError(
        `checkpoint ${path} is unreadable: ${err instanceof SafetensorsError ? err.message : (err as Error).message}`,
      );
    }
    const { tensors, metadata } = decoded;
    try {
      const info = CheckpointStore.checkIntegrity(path, bytes, metadata) as unknown as Omit<
        CheckpointContent,
        'model' | 'optimizer' | 'task'
      > & { format: string };
      const content: CheckpointContent = {
        step: info.step,
        position: info.position,
        rng: info.rng,
        metrics: info.metrics,
        model: {},
        optimizer: {},
        task: {},
      };
      for (const [key, t] of Object.entries(tensors)) {
        const slash = key.indexOf('/');
        const group = key.slice(0, slash) as (typeof GROUPS)[number];
        if (!GROUPS.includes(group))
          throw new CheckpointError(`checkpoint ${path}: unexpected tensor "${key}"`);
        content[group][key.slice(slash + 1)] = t;
      }
      return content;
    } catch (err) {
      tf.dispose(Object.values(tensors));
      throw err;
    }
  }

  /**
   * The newest readable checkpoint, or null when there is none. Each unreadable one is passed to
   * `onInvalid` (with the reason) and skipped.
   */
  async loadLatest(
    onInvalid: (path: string, error: CheckpointError) => void = this.onInvalid,
  ): Promise<CheckpointContent | null> {
    for (const { path } of await this.list()) {
      try {
        return await CheckpointStore.load(path);
      } catch (err) {
        if (!(err instanceof CheckpointError)) throw err;
        onInvalid(path, err);
      }
    }
    return null;
  }
}

/** Frees the tensors of a loaded checkpoint. */
export function disposeCheckpoint(content: CheckpointContent): void {
  for (const g of GROUPS) tf.dispose(Object.values(content[g]));
}
