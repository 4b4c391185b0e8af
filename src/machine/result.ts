/**
 * The outcome of an operation that can fail for an expected reason (bad input, a file
 * that is not there). Expected failures are values, not exceptions: callers must look
 * at `ok` before they can reach `value`, and the error text is meant for a human.
 */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E = string>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** `0x` followed by lower-case hex, for addresses and offsets in messages. */
export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
