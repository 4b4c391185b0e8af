/**
 * The fuzzer's only source of randomness: a 32-bit xorshift (Marsaglia 2003) seeded by a
 * splitmix step, so any integer seed gives a usable, reproducible stream. Nothing here may
 * read the clock or Math.random: a seed and a step count are a complete replay.
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    // splitmix32 of the seed: seeds 0, 1, 2 ... start far apart.
    let z = (seed + 0x9e3779b9) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    this.s = z >>> 0 || 0x6d2b79f5;
  }

  /** A uniform u32. */
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }

  /** A uniform u64. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** One of `choices` by weight: [weight, value] pairs. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = this.below(total);
    for (const [w, v] of choices) {
      if (r < w) return v;
      r -= w;
    }
    return choices[choices.length - 1][1];
  }

  /** The stream state, for a sub-generator that must not disturb this one. */
  fork(): Rng {
    return new Rng(this.u32());
  }
}
