import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type RngState,
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

const FORMAT = 'msmoe-checkpoint/1';
const GROUPS = ['model', 'optimizer', 'task'] as const;
const FILE = /^step-(\d{8})\.safetensors$/;

function dataSectionHash(bytes: Uint8Array): string {
  const headerLength = Number(
    new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true),
  );
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
    const bytes = withSafetensorsMetadata(draft, { sha256: dataSectionHash(draft) });
    const path = this.pathOf(content.step);
    await writeFileAtomic(path, bytes);
    const all = await this.list();
    for (const old of all.slice(this.keep)) await rm(old.path, { force: true });
    return path;
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
      if (err instanceof SafetensorsError)
        throw new CheckpointError(`checkpoint ${path} is unreadable: ${err.message}`);
      throw err;
    }
    const { tensors, metadata } = decoded;
    try {
      if (!metadata.checkpoint || !metadata.sha256)
        throw new CheckpointError(`checkpoint ${path}: not an msmoe checkpoint (no metadata)`);
      if (dataSectionHash(bytes) !== metadata.sha256)
        throw new CheckpointError(`checkpoint ${path}: checksum mismatch (the file is corrupted)`);
      const info = JSON.parse(metadata.checkpoint) as Omit<
        CheckpointContent,
        'model' | 'optimizer' | 'task'
      > & { format: string };
      if (info.format !== FORMAT)
        throw new CheckpointError(
          `checkpoint ${path}: format "${info.format}", expected "${FORMAT}"`,
        );
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
    onInvalid: (path: string, error: CheckpointError) => void = () => {},
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
