/**
 * Virtual time, exact. The machine counts 1 ns of guest time per instruction retired, plus idle
 * time it skips (a poll timeout or a timer deadline fast-forwards the clock). A guest can ask
 * for a deadline anywhere in Xen's 63-bit system time (SCHEDOP_poll's `timeout`) or the
 * counter's 64 bits (CNTV_CVAL_EL0), so time is not bounded by 2^53: a JS number would round it,
 * and CNTVCT_EL0 would stop counting in single ticks.
 *
 * The representation keeps the common case cheap: a `VTime` is a JS number while it is a safe
 * integer (every run that never jumps past 2^53 ns, about 104 days) and a bigint beyond that.
 * The two never mix up: a value is a number exactly when it is a safe integer. JS compares a
 * number with a bigint exactly (`<`, `>=`), so comparisons need no conversion; arithmetic does,
 * through the helpers here.
 */
export type VTime = number | bigint;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** The canonical form of an exact value: a number when safe, else the bigint. */
export function vtime(t: bigint): VTime {
  return t <= MAX_SAFE && t >= MIN_SAFE ? Number(t) : t;
}

/** As a bigint (exact). */
export function vbig(t: VTime): bigint {
  return typeof t === 'bigint' ? t : BigInt(t);
}

/** a - b, exact. */
export function vsub(a: VTime, b: VTime): VTime {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a - b;
    if (Number.isSafeInteger(s)) return s;
  }
  return vtime(vbig(a) - vbig(b));
}

/** The smaller of two times (either may be undefined: no deadline). */
export function vmin(a: VTime | undefined, b: VTime | undefined): VTime | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b < a ? b : a;
}

/** A count of instructions from now until `t`, clamped to [lo, hi] (a run budget). */
export function vclampDistance(t: VTime, now: VTime, lo: number, hi: number): number {
  const d = vsub(t, now);
  if (d < lo) return lo;
  if (d > hi) return hi;
  return Number(d);
}
