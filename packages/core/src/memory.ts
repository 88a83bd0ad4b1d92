import * as tf from '@tensorflow/tfjs';

/** Raised by {@link assertNoTensorLeak} when the live tensor count grows. */
export class TensorLeakError extends Error {
  /** Tensors alive before the measured repetitions. */
  readonly before: number;
  /** Tensors alive after them. */
  readonly after: number;
  constructor(message: string, before: number, after: number) {
    super(message);
    this.name = 'TensorLeakError';
    this.before = before;
    this.after = after;
  }
}

/** Options of {@link assertNoTensorLeak}. */
export interface LeakCheckOptions {
  /** Measured repetitions (default 10). */
  repetitions?: number;
  /** Unmeasured repetitions first, so lazily created state (optimiser slots, caches) exists (default 1). */
  warmup?: number;
  /** Label used in the error message. */
  label?: string;
}

/** Result of a leak check: live tensor counts before and after the measured repetitions. */
export interface LeakCheckResult {
  /** `tf.memory().numTensors` before. */
  before: number;
  /** `tf.memory().numTensors` after. */
  after: number;
  /** Repetitions measured. */
  repetitions: number;
}

/**
 * Runs `step` `warmup` times, then `repetitions` times, and throws {@link TensorLeakError} unless
 * `tf.memory().numTensors` is unchanged across the measured repetitions. `step` may be async (a
 * training step that awaits data). Use it in tests for anything that runs thousands of times.
 *
 * @example
 * ```ts
 * await assertNoTensorLeak(() => optimizer.minimize(() => loss(model, batch)), { repetitions: 200 });
 * ```
 */
export async function assertNoTensorLeak(
  step: (i: number) => unknown,
  options: LeakCheckOptions = {},
): Promise<LeakCheckResult> {
  const repetitions = options.repetitions ?? 10;
  const warmup = options.warmup ?? 1;
  let i = 0;
  const run = async () => {
    const out = step(i++);
    if (out instanceof Promise) await out;
    // A step that returns tensors it does not dispose leaks them: count it as such.
  };
  for (let w = 0; w < warmup; w++) await run();
  const before = tf.memory().numTensors;
  for (let r = 0; r < repetitions; r++) await run();
  const after = tf.memory().numTensors;
  if (after !== before) {
    const per = (after - before) / repetitions;
    throw new TensorLeakError(
      `${options.label ?? 'step'} leaked ${after - before} tensors over ${repetitions} repetitions ` +
        `(${per} per step; ${before} → ${after} live)`,
      before,
      after,
    );
  }
  return { before, after, repetitions };
}
