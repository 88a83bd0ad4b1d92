import { Rng } from '@msmoe/core';
import {
  batchify,
  channelStats,
  type ImageSet,
  lmBatchCount,
  lmBatches,
  normalize,
} from '@msmoe/datasets';
import { MoELanguageModel, type MoEVisionTransformer } from '@msmoe/models';
import type { Routing } from '@msmoe/router';
import * as tf from '@tensorflow/tfjs';
import { routingNumbers, type TaskReport, type TrainTask } from './task.js';

/** One replica's share of every batch in data-parallel training: replica `rank` of `size`. */
export interface Shard {
  rank: number;
  size: number;
}

/** Checks a shard against a global batch size (it must split evenly); returns the local size. */
function shardSize(batchSize: number, shard: Shard | undefined, what: string): number {
  if (!shard) return batchSize;
  const { rank, size } = shard;
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(rank) || rank < 0 || rank >= size)
    throw new Error(`${what}: shard ${rank} of ${size} is not a replica index 0…size−1`);
  if (batchSize % size !== 0)
    throw new Error(
      `${what}: a batch of ${batchSize} does not split evenly over ${size} replicas (choose a multiple of ${size})`,
    );
  return batchSize / size;
}

/** What both tasks share: the model's weights, rule and weight names, and the tail of a loss. */
abstract class ModelTask<M extends MoELanguageModel | MoEVisionTransformer> {
  constructor(readonly model: M) {}

  variables(): Record<string, tf.Variable> {
    return this.model.variables();
  }

  coefficients(): Record<string, number> {
    return this.model.rule.coefficients();
  }

  currentWeightName(name: string): string {
    return this.model.currentWeightName(name);
  }

  /** Reports the batch (its two scalars kept for the trainer's one read) and returns NLL + aux. */
  protected finish(
    out: { nll: tf.Scalar; auxLoss: tf.Scalar; routings: Routing[]; moeOutputs: tf.Tensor3D[] },
    items: number,
    report: (stats: TaskReport) => void,
    layerStats: boolean,
  ): tf.Scalar {
    report({
      nll: tf.keep(out.nll),
      aux: tf.keep(out.auxLoss),
      items,
      ...routingNumbers(out.routings, out.moeOutputs, layerStats),
    });
    return tf.add(out.nll, out.auxLoss) as tf.Scalar;
  }
}

/**
 * Language modelling on one token stream, as the authors: the stream is cut into B contiguous
 * streams, blocks of M tokens are visited in order and the attention caches carry from block to
 * block (reset at each epoch). Data position p is block `p mod blocks` of epoch `⌊p / blocks⌋`.
 * With a {@link Shard}, this replica trains on its contiguous share of the B streams.
 */
export class LmTask extends ModelTask<MoELanguageModel> implements TrainTask {
  readonly kind = 'lm';
  private readonly batched: { data: Int32Array; batchSize: number; length: number };
  /** Blocks per epoch. */
  readonly blocks: number;
  /** Streams this task trains on (the whole batch, or this replica's share of it). */
  readonly localBatchSize: number;
  private caches: tf.Tensor3D[];
  // Caches replaced by a forward pass stay alive until the gradient has been taken.
  private stale: tf.Tensor3D[] = [];

  constructor(
    model: MoELanguageModel,
    stream: Int32Array,
    readonly batchSize: number,
    shard?: Shard,
  ) {
    super(model);
    const local = shardSize(batchSize, shard, 'LmTask');
    const all = batchify(stream, batchSize);
    // Streams are stored one after another: a replica's streams are one contiguous slice.
    const from = (shard?.rank ?? 0) * local * all.length;
    this.batched = {
      data: all.data.subarray(from, from + local * all.length),
      batchSize: local,
      length: all.length,
    };
    this.localBatchSize = local;
    this.blocks = lmBatchCount(this.batched, model.config.blockLength);
    this.caches = model.initialCaches(local);
  }

  loss(
    position: number,
    rng: Rng,
    report: (stats: TaskReport) => void,
    layerStats = true,
  ): tf.Scalar {
    tf.dispose(this.stale);
    this.stale = [];
    const block = position % this.blocks;
    if (block === 0) {
      tf.dispose(this.caches);
      this.caches = this.model.initialCaches(this.localBatchSize);
    }
    const batch = lmBatches(this.batched, this.model.config.blockLength, block).next()
      .value as ReturnType<typeof lmBatches> extends Generator<infer B> ? B : never;
    const out = this.model.loss(batch.input, batch.target, this.localBatchSize, this.caches, {
      training: true,
      rng,
    });
    this.stale = this.caches;
    this.caches = out.caches;
    return this.finish(out, batch.input.length, report, layerStats);
  }

  getState(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.caches.map((c, i) => [`cache.${i}`, tf.clone(c)]));
  }

  setState(state: Record<string, tf.Tensor>): void {
    const next = this.caches.map((c, i) => {
      const t = state[`cache.${i}`];
      if (!t || t.shape.join() !== c.shape.join())
        throw new Error(`LmTask state: "cache.${i}" is missing or has the wrong shape`);
      return tf.keep(tf.clone(t)) as tf.Tensor3D;
    });
    this.dispose();
    this.caches = next;
  }

  dispose(): void {
    tf.dispose([...this.caches, ...this.stale]);
    this.caches = [];
    this.stale = [];
  }
}

/**
 * Image classification: each epoch visits the training set in a fresh order drawn from
 * `(seed, epoch)`, in batches of B (the last partial batch is dropped), images normalised with
 * the training set's channel statistics. Data position p is batch `p mod batches` of epoch
 * `⌊p / batches⌋`: stateless, so resuming only needs p. With a {@link Shard}, this replica trains
 * on its contiguous share of each batch.
 */
export class VisionTask extends ModelTask<MoEVisionTransformer> implements TrainTask {
  readonly kind = 'vision';
  /** Batches per epoch. */
  readonly batches: number;
  /** Normalisation used for training (apply the same at evaluation). */
  readonly stats: { mean: number[]; std: number[] };
  private readonly images: Float32Array;
  private order: { epoch: number; indices: number[] } = { epoch: -1, indices: [] };
  private readonly imageSize: number;
  /** Images this task trains on per batch (the whole batch, or this replica's share of it). */
  readonly localBatchSize: number;
  private readonly shardStart: number;

  constructor(
    model: MoEVisionTransformer,
    private readonly train: ImageSet,
    readonly batchSize: number,
    private readonly seed = 0,
    shard?: Shard,
  ) {
    super(model);
    this.localBatchSize = shardSize(batchSize, shard, 'VisionTask');
    this.shardStart = (shard?.rank ?? 0) * this.localBatchSize;
    const c = model.config;
    if (train.height !== c.imageHeight || train.width !== c.imageWidth)
      throw new Error(
        `VisionTask: images are ${train.height}×${train.width}, the model expects ${c.imageHeight}×${c.imageWidth}`,
      );
    if (train.channels !== c.channels)
      throw new Error(
        `VisionTask: images have ${train.channels} channels, the model expects ${c.channels}`,
      );
    this.batches = Math.floor(train.count / batchSize);
    if (this.batches < 1)
      throw new Error(`VisionTask: ${train.count} images are fewer than a batch of ${batchSize}`);
    this.stats = channelStats(train);
    this.images = normalize(train, this.stats);
    this.imageSize = train.height * train.width * train.channels;
  }

  /** Images and labels of the batch at a data position (this replica's share of it). */
  batchAt(position: number): { images: Float32Array; labels: Int32Array } {
    const epoch = Math.floor(position / this.batches);
    if (this.order.epoch !== epoch) {
      const indices = Array.from({ length: this.train.count }, (_, i) => i);
      new Rng(this.seed).fork(`epoch-${epoch}`).shuffle(indices);
      this.order = { epoch, indices };
    }
    const start = (position % this.batches) * this.batchSize + this.shardStart;
    const B = this.localBatchSize;
    const images = new Float32Array(B * this.imageSize);
    const labels = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const j = this.order.indices[start + b] as number;
      images.set(
        this.images.subarray(j * this.imageSize, (j + 1) * this.imageSize),
        b * this.imageSize,
      );
      labels[b] = this.train.labels[j] as number;
    }
    return { images, labels };
  }

  loss(
    position: number,
    rng: Rng,
    report: (stats: TaskReport) => void,
    layerStats = true,
  ): tf.Scalar {
    const { images, labels } = this.batchAt(position);
    const B = this.localBatchSize;
    const out = this.model.forward(images, B, { training: true, rng });
    const nll = MoELanguageModel.nll(out.logits, labels);
    return this.finish({ ...out, nll }, B, report, layerStats);
  }

  getState(): Record<string, tf.Tensor> {
    return {};
  }

  setState(): void {}

  dispose(): void {}
}
