/** Result of assigning token choices to bounded expert buffers. */
export interface CapacityAssignment {
  /** 1 where assignment (t, j) is kept (row-major `[N, k]`). */
  kept: Uint8Array;
  /** Slot of each kept assignment in its expert's buffer, −1 when dropped. */
  position: Int32Array;
  /** Kept assignments per expert. */
  load: number[];
  /** Assignments dropped. */
  dropped: number;
}

/**
 * Capacity per expert: `max(minCapacity, ceil(factor · k · N / E))` (GShard / V-MoE convention:
 * with factor 1 the buffers exactly hold a perfectly balanced assignment).
 */
export function expertCapacity(
  numTokens: number,
  numExperts: number,
  k: number,
  factor: number,
  minCapacity = 1,
): number {
  return Math.max(minCapacity, Math.ceil((factor * k * numTokens) / numExperts));
}

/**
 * Fills expert buffers of size `capacity` with the router's choices and drops the overflow.
 * Choices are served rank by rank (every token's first choice, then every token's second, …, as
 * GShard and V-MoE do); within a rank, tokens go in `tokenOrder` (default 0..N−1; V-MoE's batch
 * priority routing passes tokens sorted by their top gate). `capacity = null` keeps everything.
 *
 * @param expertIndex - row-major `[N, k]` expert choices.
 */
export function assignCapacity(
  expertIndex: ArrayLike<number>,
  numTokens: number,
  k: number,
  numExperts: number,
  capacity: number | null,
  tokenOrder?: ArrayLike<number>,
): CapacityAssignment {
  const kept = new Uint8Array(numTokens * k);
  const position = new Int32Array(numTokens * k).fill(-1);
  const load = new Array<number>(numExperts).fill(0);
  let dropped = 0;
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < numTokens; i++) {
      const t = tokenOrder ? (tokenOrder[i] as number) : i;
      const a = t * k + j;
      const e = expertIndex[a] as number;
      if (capacity === null || (load[e] as number) < capacity) {
        kept[a] = 1;
        position[a] = load[e] as number;
        load[e] = (load[e] as number) + 1;
      } else {
        dropped++;
      }
    }
  }
  return { kept, position, load, dropped };
}
