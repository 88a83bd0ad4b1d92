// A small seeded generator for the tuner (no dependency): sfc32 seeded from a string key, so each
// suggestion's stream depends only on (study seed, trial number, parameter).
const math = Math;

/** FNV-1a hash of a string to 32 bits. */
function hash(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Seeded uniform generator (sfc32). */
export class TunerRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator whose stream is fixed by `key` (e.g. `"7/trial-12/lr"`). */
  constructor(key: string) {
    this.a = hash(key, 0x9e3779b9);
    this.b = hash(key, 0x243f6a88);
    this.c = hash(key, 0xb7e15162);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An index drawn with the given (unnormalised, non-negative) weights. */
  choice(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i] as number;
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.PI * this.next());
  }
}
