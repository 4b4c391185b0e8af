import { DOMID_SELF } from '../abi.ts';
import type { XenDomain } from '../domain.ts';
import type { Hypervisor } from '../hypervisor.ts';
import type { EventChannels } from '../evtchn/event-channels.ts';
import type { Xsm } from './xsm.ts';
import type { GrantTables } from '../gnttab/grant-tables.ts';

/** What every hypercall family here shares: one object, built once by installXen. */
export interface XenOpsContext {
  readonly hv: Hypervisor;
  readonly evtchn: EventChannels;
  readonly xsm: Xsm;
  readonly gnttab: GrantTables;
  /** Per-domain Xen state that is not event channels. */
  readonly domainState: Map<number, XenDomainState>;
  /**
   * local_events_need_delivery() for `vcpu`: IRQs unmasked in the guest's PSTATE and the
   * event-channel interrupt pending in its vGIC. The machine knows both; without it the
   * answer is evtchn_upcall_pending alone.
   */
  eventsNeedDelivery(domain: XenDomain, vcpuId: number): boolean;
}

export interface XenDomainState {
  /** d->arch.hvm.params[] (HVM_NR_PARAMS = 39 entries). */
  readonly hvmParams: bigint[];
  /** d->shutdown_code once SCHEDOP_shutdown_code or a shutdown set it. */
  shutdownCode?: number;
  /** d->is_console: dom0less creates every domU with it set (console_io allowed). */
  isConsole: boolean;
  /** d->pbuf: CONSOLEIO_write's line buffer for a non-hardware domain. */
  consoleLine: string;
  /** VCPUOP_register_runstate_memory_area addresses (recorded, never updated). */
  readonly runstateArea: Map<number, bigint>;
  /** d->vm_assist: the VMASST_TYPE_* bits HYPERVISOR_vm_assist enabled (kept, never read). */
  vmAssist: bigint;
}

/** rcu_lock_domain_by_id: Xen finds a domain by id even while it is dying. */
export function findDomain(hv: Hypervisor, domid: number): XenDomain | undefined {
  return hv.domains.get(domid);
}

/** rcu_lock_domain_by_any_id: DOMID_SELF is the caller. */
export function anyDomain(hv: Hypervisor, caller: XenDomain, domid: number): XenDomain | undefined {
  return domid === DOMID_SELF ? caller : hv.domains.get(domid);
}

export const HVM_NR_PARAMS = 39;
