import type { GuestMemory } from '../mem/guest-memory.ts';

/**
 * How the hypercall layer reaches a guest's buffers. On Arm a XEN_GUEST_HANDLE is a guest
 * *virtual* address: Xen translates it with the calling vCPU's stage-1 tables, 4 KiB page by
 * 4 KiB page (raw_copy_{from,to}_guest in xen/arch/arm/guestcopy.c walks with AT S12E1R/W),
 * and a page that does not translate, or whose output is not RAM, ends the copy. Pages copied
 * before it stay copied; the hypercall answers -EFAULT.
 *
 * The machine supplies one of these per hypercall (it knows the vCPU's registers); code that
 * runs the Xen layer without a CPU (tests, the library's model) gets `physicalHandles`, which
 * is exactly what a guest with its MMU off sees (VA = IPA).
 */
export interface GuestHandles {
  /** copy_from_guest: `len` bytes at `va`, or undefined when any page of them cannot be read. */
  copyFrom(va: bigint, len: number): Uint8Array | undefined;
  /** copy_to_guest: false at the first page that cannot be written (earlier pages are written). */
  copyTo(va: bigint, bytes: Uint8Array): boolean;
  /**
   * Set when handles are guest-physical addresses in this RAM (the MMU is off): struct codecs
   * then read and write fields in place, with no copy (the event-channel fast path).
   */
  readonly identity?: GuestMemory;
}

const MAX_ADDR = BigInt(Number.MAX_SAFE_INTEGER);

/** The identity view: handles are guest-physical addresses (a guest with SCTLR_EL1.M = 0). */
export function physicalHandles(mem: GuestMemory): GuestHandles {
  return {
    identity: mem,
    copyFrom(va, len) {
      // Page by page or all at once is the same for a read: it fails as a whole either way.
      return va >= 0n && va <= MAX_ADDR ? mem.read(Number(va), len) : undefined;
    },
    copyTo(va, bytes) {
      return va >= 0n && va <= MAX_ADDR && mem.writePagewise(Number(va), bytes);
    },
  };
}
