/** Learning rate as a function of the update count (0-based step). */
export type Schedule = (step: number) => number;

/** Linear warm-up from 0 to `lr` over `warmup` updates, then constant (the authors' schedule). */
export function warmupConstant(lr: number, warmup: number): Schedule {
  return (step) => (warmup > 0 && step < warmup ? (lr * (step + 1)) / warmup : lr);
}

/** Linear warm-up, then cosine decay from `lr` to `minLr` at `total` updates (constant after). */
export function warmupCosine(lr: number, warmup: number, total: number, minLr = 0): Schedule {
  if (!(total > warmup))
    throw new Error(`warmupCosine: total (${total}) must exceed warmup (${warmup})`);
  return (step) => {
    if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
    const p = Math.min(1, (step - warmup) / (total - warmup));
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * p));
  };
}
