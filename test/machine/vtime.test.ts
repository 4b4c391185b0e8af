// Exact virtual time (src/machine/vtime.ts): a number while safe, a bigint beyond, never mixed.
import { describe, expect, it } from 'vitest';
import { vbig, vclampDistance, vmin, vsub, vtime } from '../../src/machine/vtime.ts';

const MAX = Number.MAX_SAFE_INTEGER;

describe('VTime', () => {
  it('is a number exactly when the value is a safe integer', () => {
    expect(vtime(5n)).toBe(5);
    expect(vtime(BigInt(MAX))).toBe(MAX);
    expect(vtime(BigInt(MAX) + 1n)).toBe(2n ** 53n);
    expect(vtime(-(2n ** 60n))).toBe(-(2n ** 60n));
  });
  it('subtracts exactly across the boundary', () => {
    expect(vsub(MAX, 1)).toBe(MAX - 1);
    expect(vsub(2n ** 62n + 3n, 2n ** 62n)).toBe(3);
    expect(vsub(2n ** 62n, 0)).toBe(2n ** 62n);
    expect(vsub(0, 2n ** 62n)).toBe(-(2n ** 62n));
    expect(vbig(vsub(2n ** 53n + 1n, 1))).toBe(2n ** 53n);
  });
  it('compares numbers with bigints exactly', () => {
    expect(vmin(2n ** 62n, MAX)).toBe(MAX);
    expect(vmin(undefined, 2n ** 62n)).toBe(2n ** 62n);
    expect(vmin(3, undefined)).toBe(3);
    // 2^53 + 1 is not a double: a number comparison would call these equal.
    expect(2n ** 53n + 1n > 2 ** 53).toBe(true);
    // The line above is JS itself; vmin must keep that exactness on the 2^53 boundary.
    expect(vmin(2n ** 53n + 1n, 2 ** 53)).toBe(2 ** 53);
    expect(vmin(2 ** 53, 2n ** 53n + 1n)).toBe(2 ** 53);
    expect(vmin(2n ** 53n + 1n, 2n ** 53n + 2n)).toBe(2n ** 53n + 1n);
    expect(vsub(2n ** 53n + 1n, 2 ** 53)).toBe(1);
  });
  it('clamps a distance to a run budget', () => {
    expect(vclampDistance(2n ** 62n, 5, 1, 100_000)).toBe(100_000);
    expect(vclampDistance(2n ** 62n + 7n, 2n ** 62n, 1, 100_000)).toBe(7);
    expect(vclampDistance(3, 10, 1, 100_000)).toBe(1);
  });
});
