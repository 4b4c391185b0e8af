/**
 * Hypercall numbers and calling convention (xen/include/public/xen.h, arch-arm.h).
 *
 * On Arm a hypercall is `HVC #0xEA1`; the number is in x16, arguments in x0..x4,
 * the result comes back in x0. Xen clobbers x1..x4 in debug builds; we leave them.
 */
export const XEN_HYPERCALL_TAG = 0xea1;

export const Hypercall = {
  set_trap_table: 0,
  mmu_update: 1,
  memory_op: 12,
  multicall: 13,
  xen_version: 17,
  console_io: 18,
  grant_table_op: 20,
  vm_assist: 21,
  vcpu_op: 24,
  xsm_op: 27,
  sched_op: 29,
  event_channel_op: 32,
  physdev_op: 33,
  hvm_op: 34,
  sysctl: 35,
  domctl: 36,
  argo_op: 39,
  dm_op: 41,
  hypfs_op: 42,
} as const;

export type HypercallName = keyof typeof Hypercall;

const names = new Map<number, string>(Object.entries(Hypercall).map(([k, v]) => [v, k]));

export function hypercallName(nr: number): string {
  return names.get(nr) ?? `hypercall_${nr}`;
}

/** DOMID_SELF and friends (xen.h). */
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
export const DOMID_COW = 0x7ff3;
export const DOMID_INVALID = 0x7ff4;
export const DOMID_IDLE = 0x7fff;

/** CONSOLEIO_* sub-ops. */
export const ConsoleIo = { write: 0, read: 1 } as const;
