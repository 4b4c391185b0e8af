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
  /** Set once the domain is dying or dead; hypercalls naming it then fail as in Xen. */
  dying: boolean;
}
