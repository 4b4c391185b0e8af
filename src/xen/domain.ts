import type { GuestMemory } from '../mem/guest-memory.ts';

/**
 * What the Xen layer knows of a vCPU. The machine supplies `raiseUpcall`, which asserts
 * the event-channel PPI in the vGIC; the Xen layer calls it only on the 0->1 edge of
 * evtchn_upcall_pending (Xen's vcpu_mark_events_pending on Arm).
 */
export interface XenVcpu {
  readonly id: number;
  /** Guest-physical address of this vCPU's vcpu_info, once the guest registered one with
   *  VCPUOP_register_vcpu_info; otherwise it lives in shared_info (vcpu 0..MAX_VIRT_CPUS-1). */
  vcpuInfoGpa?: number;
  /** false while the vCPU is down (Xen's VPF_down, before PSCI CPU_ON); absent means up. */
  online?: boolean;
  raiseUpcall(): void;
}

export type ShutdownReason = 'poweroff' | 'reboot' | 'suspend' | 'crash' | 'watchdog' | 'soft_reset';
export const SHUTDOWN_REASONS: readonly ShutdownReason[] = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];

/**
 * What the machine can do to a domain's stage 2 beyond its RAM: put pages of host memory
 * (grant-table frames, another domain's granted page) at a guest-physical address, where the
 * guest's loads and stores reach them directly, and take them away again.
 */
export interface ForeignPhysmap {
  /** Maps whole pages of `bytes` at `gpa`; an error text when the engine refuses (already mapped). */
  map(gpa: bigint, bytes: Uint8Array, writable: boolean): string | undefined;
  unmap(gpa: bigint, size: number): string | undefined;
}

/** A domain as the hypervisor sees it. Owned by the Xen layer; created by the machine. */
export interface XenDomain {
  readonly domid: number;
  readonly name: string;
  /** dom0 (the hardware/control domain) is privileged; dom0less domUs are not. */
  readonly privileged: boolean;
  readonly memory: GuestMemory;
  readonly vcpus: XenVcpu[];
  /** Where the guest placed shared_info with XENMEM_add_to_physmap, if it did. */
  sharedInfoGpa?: number;
  /** Pages outside RAM (grant frames, grant mappings); absent for a domain with no CPU (tests). */
  physmap?: ForeignPhysmap;
  /** Set once the domain is dying or dead; hypercalls naming it then fail as in Xen. */
  dying: boolean;
}
