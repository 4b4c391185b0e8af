/**
 * Guest-visible layouts of `struct vcpu_info` and `struct shared_info` for an arm64 guest
 * (xen/include/public/xen.h with arch-arm.h: xen_ulong_t is a u64, arch_vcpu_info and
 * arch_shared_info are empty structs, XEN_LEGACY_MAX_VCPUS is 1).
 *
 * vcpu_info on Arm is 48 bytes, not the 64 of x86: x86's arch_vcpu_info adds 16 bytes
 * (cr2 + pad) that Arm does not have, so `time` sits right after evtchn_pending_sel.
 */
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

const MAX_GPA = BigInt(Number.MAX_SAFE_INTEGER);

/** A guest frame number as a byte address, or -1 past 2^53 (no RAM is there; GuestMemory then answers -1/false). */
export function frameGpa(gfn: bigint): number {
  const gpa = gfn << BigInt(PAGE_SHIFT);
  return gpa > MAX_GPA ? -1 : Number(gpa);
}

export const VcpuInfo = {
  /** u8: written non-zero by Xen when this vCPU has an event to look at. */
  upcallPending: 0,
  /** u8: guest-owned; Xen on Arm never reads it (the GIC does the masking). */
  upcallMask: 1,
  /** u64 at 8 (natural alignment): one bit per 64-port word of evtchn_pending. */
  pendingSel: 8,
  /** struct vcpu_time_info (32 bytes). */
  time: 16,
  size: 48,
  /** alignof(struct vcpu_info): map_vcpu_info rejects offsets that are not a multiple. */
  align: 8,
} as const;

/** Bits per selector / pending word (BITS_PER_EVTCHN_WORD on a 64-bit guest). */
export const BITS_PER_EVTCHN_WORD = 64;
/** 2-level ABI limit: 64 words of 64 bits (EVTCHN_2L_NR_CHANNELS). */
export const EVTCHN_2L_NR_CHANNELS = BITS_PER_EVTCHN_WORD * BITS_PER_EVTCHN_WORD;

export const SharedInfo = {
  /** vcpu_info[XEN_LEGACY_MAX_VCPUS]: only vCPU 0 has a slot here on Arm. */
  vcpuInfo: 0,
  legacyMaxVcpus: 1,
  /** xen_ulong_t evtchn_pending[64] */
  evtchnPending: 48,
  /** xen_ulong_t evtchn_mask[64] */
  evtchnMask: 48 + 512,
  wcVersion: 1072,
  wcSec: 1076,
  wcNsec: 1080,
  wcSecHi: 1084,
  size: 1088,
} as const;
