// An all-reduce over shared memory for replicas running as worker threads of one process: each
// replica writes its numbers into its own slot, a barrier, each averages its part of the vector
// into one shared mean (reduce-scatter), a barrier, every replica reads the same mean. Two
// barriers per step and no copies through the event loop.

/** Layout of the control words (an Int32Array over a SharedArrayBuffer). */
const ARRIVED = 0;
const GENERATION = 1;
/** Set by the coordinator (Ctrl-C): stop after the current step. */
const STOP_ASKED = 2;
/** Replica 0's reading of STOP_ASKED for the current step, so all replicas see the same value. */
const STOP_NOW = 3;
/** Set by the coordinator when a replica died: the others leave their barriers with an error. */
const ABORTED = 4;
/** Words in the control block. */
export const CONTROL_WORDS = 8;

/** The shared buffers of a run: control words, one slot per replica, the mean. */
export interface SharedBuffers {
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  mean: SharedArrayBuffer;
}

/** A new control block. */
export function newControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_WORDS * 4);
}

/** Buffers for `size` replicas of `length` numbers each. */
export function newBuffers(
  control: SharedArrayBuffer,
  size: number,
  length: number,
): SharedBuffers {
  return {
    control,
    slots: new SharedArrayBuffer(size * length * 4),
    mean: new SharedArrayBuffer(length * 4),
  };
}

/** Coordinator side: ask every replica to stop after the step in flight. */
export function askStop(control: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(control), STOP_ASKED, 1);
}

/** Coordinator side: a replica died; the others throw out of their barriers. */
export function abortAll(control: SharedArrayBuffer): void {
  const c = new Int32Array(control);
  Atomics.store(c, ABORTED, 1);
  Atomics.notify(c, GENERATION);
}

/** Replica side: the mean of every replica's vector (call from a worker thread: it blocks). */
export class SharedAllReduce {
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  private readonly meanView: Float32Array;

  constructor(
    buffers: SharedBuffers,
    readonly rank: number,
    readonly size: number,
    readonly length: number,
  ) {
    this.control = new Int32Array(buffers.control);
    this.slots = new Float32Array(buffers.slots);
    this.meanView = new Float32Array(buffers.mean);
    if (this.slots.length !== size * length || this.meanView.length !== length)
      throw new Error(`SharedAllReduce: buffers are not ${size} slots of ${length} numbers`);
  }

  /**
   * The element-wise mean of all replicas' `values` (summed in replica order, so the result does
   * not depend on who computes which part) and whether the run stops after this step. The mean
   * is a view of shared memory, valid until this replica's next call.
   */
  reduce(values: Float32Array): { mean: Float32Array; stop: boolean } {
    const { rank, size, length } = this;
    if (values.length !== length)
      throw new Error(`SharedAllReduce: ${values.length} numbers, expected ${length}`);
    this.slots.set(values, rank * length);
    this.barrier();
    const lo = Math.floor((rank * length) / size);
    const hi = Math.floor(((rank + 1) * length) / size);
    const k = 1 / size;
    const slots = this.slots;
    const mean = this.meanView;
    for (let i = lo; i < hi; i++) {
      let s = 0;
      for (let r = 0; r < size; r++) s += slots[r * length + i] as number;
      mean[i] = s * k;
    }
    if (rank === 0) Atomics.store(this.control, STOP_NOW, Atomics.load(this.control, STOP_ASKED));
    this.barrier();
    return { mean, stop: Atomics.load(this.control, STOP_NOW) === 1 };
  }

  /** Waits until every replica has arrived (a generation barrier). */
  private barrier(): void {
    const c = this.control;
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.add(c, ARRIVED, 1) === this.size - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    while (Atomics.load(c, GENERATION) === generation) {
      if (Atomics.load(c, ABORTED)) throw new Error('data parallel: another replica failed');
      Atomics.wait(c, GENERATION, generation, 1000);
    }
  }
}
