/**
 * The errno values Xen returns to guests (xen/include/public/errno.h: Xen's own
 * numbering, which on Arm equals Linux's asm-generic values for the ones used here).
 * A hypercall returns `-value` in x0, sign-extended to 64 bits.
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENOSYS: 38,
  ENODATA: 61,
  ETIME: 62,
  EILSEQ: 84,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

export type ErrnoName = keyof typeof Errno;

const byValue = new Map<number, ErrnoName>(
  (Object.entries(Errno) as [ErrnoName, number][]).map(([k, v]) => [v, k]),
);

/** "-EINVAL" for -22, "" for non-negative results, "-E?<n>" for an unknown code. */
export function errnoName(result: number | bigint): string {
  const r = Number(result);
  if (r >= 0) return '';
  const name = byValue.get(-r);
  return name ? `-${name}` : `-E?${-r}`;
}
