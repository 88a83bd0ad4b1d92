/** Largest |a[i] − b[i]| (∞ if any is NaN); throws when lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new Error(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    if (d > m) m = d;
  }
  return m;
}

/**
 * Largest relative difference `|a[i] − b[i]| / max(floor, |b[i]|)` with `b` the reference (∞ if
 * any is NaN). The floor (default 1) keeps values near zero from dominating; pass a smaller one for
 * a stricter check.
 */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1): number {
  if (a.length !== b.length)
    throw new Error(`maxRelDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d =
      Math.abs((a[i] as number) - (b[i] as number)) / Math.max(floor, Math.abs(b[i] as number));
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    if (d > m) m = d;
  }
  return m;
}
