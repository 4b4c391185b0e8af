import { DOMID_SELF, Hypercall } from '../abi.ts';
import type { XenDomain } from '../domain.ts';
import type { HypercallHandler } from '../hypercall.ts';
import type { Hypervisor } from '../hypervisor.ts';
import { eventChannelOp } from '../evtchn/event-channel-op.ts';
import { EventChannels } from '../evtchn/event-channels.ts';
import type { Channel } from '../evtchn/channel.ts';
import { consoleIo } from './console-io.ts';
import { findDomain, HVM_NR_PARAMS, type XenDomainState, type XenOpsContext } from './context.ts';
import { hvmOp } from './hvm-op.ts';
import { memoryOp } from './memory-op.ts';
import { schedOp } from './sched-op.ts';
import { vcpuOp } from './vcpu-op.ts';
import { DEBIAN_XEN_4_17, xenVersion, type XenBuildInfo } from './xen-version.ts';
import { Xsm } from './xsm.ts';
import { GrantTables } from '../gnttab/grant-tables.ts';
import { grantTableOp } from '../gnttab/grant-table-op.ts';
import { HVM_PARAM } from './hvm-op.ts';
import { physdevOp } from './physdev-op.ts';
import { vmAssist } from './vm-assist.ts';

export interface InstallXenOptions {
  /** local_events_need_delivery(); default: evtchn_upcall_pending of the vCPU's vcpu_info. */
  eventsNeedDelivery?: (domain: XenDomain, vcpuId: number) => boolean;
  /** Called when a newly pending port ends a vCPU's SCHEDOP_poll. */
  onPollWake?: (domid: number, vcpuId: number) => void;
  /** What XENVER_* report (default: Debian's 4.17 build). */
  build?: XenBuildInfo;
}

export interface DomainStateOptions {
  /** d->max_evtchn_port (default 1023 for a domU, unlimited for a privileged domain). */
  maxEvtchnPort?: number;
  /** Initial HVM params by index (e.g. HVM_PARAM_CALLBACK_IRQ); all others start at 0. */
  hvmParams?: Partial<Record<number, bigint>>;
  /** d->is_console (dom0less: true for every domU). */
  isConsole?: boolean;
  /**
   * An "enhanced" dom0less domU (xen,enhanced). With `xenstoreDomid` (the hardware domain),
   * Xen 4.17's alloc_xenstore_evtchn: an unbound port towards it in HVM_PARAM_STORE_EVTCHN and
   * HVM_PARAM_STORE_PFN = ~0 ("xenstore comes later"). Without one, later Xen's no-xenstore
   * mode: both stay 0 (Xen 4.17 itself panics at boot instead).
   */
  enhanced?: { xenstoreDomid?: number };
}

/** One port as reports show it. */
export interface PortReport {
  port: number;
  state: Channel['binding']['state'];
  notifyVcpu: number;
  pending: boolean;
  masked: boolean;
  remoteDomid?: number;
  remotePort?: number;
  virq?: number;
}

/** What the machine needs from the Xen layer once the handlers are registered. */
export interface XenServices {
  readonly evtchn: EventChannels;
  readonly gnttab: GrantTables;
  /** Sets up Xen's per-domain state (evtchn_init & co). Call once per domain, before it runs. */
  createDomainState(domain: XenDomain, opts?: DomainStateOptions): void;
  /** evtchn_upcall_pending of the vCPU's current vcpu_info (what wakes a blocked vCPU). */
  eventPendingFor(domid: number, vcpuId: number): boolean;
  /** A newly pending port ended this vCPU's SCHEDOP_poll. */
  pollSatisfied(domid: number, vcpuId: number): boolean;
  /** The poll is over for any reason (woken, timeout, kicked): forget it. */
  endPoll(domid: number, vcpuId: number): void;
  /** Every port in use, with its bits, for deadlock reports. */
  portStates(domid: number): PortReport[];
}

/** Registers event_channel_op, memory_op, sched_op, xen_version, hvm_op, vcpu_op, console_io, grant_table_op, physdev_op and vm_assist. */
export function installXen(hv: Hypervisor, opts: InstallXenOptions = {}): XenServices {
  const find = (domid: number) => findDomain(hv, domid);
  const xsm = new Xsm(hv.xsm, find);
  const evtchn = new EventChannels({ findDomain: find, xsm, trace: hv.trace, onPollWake: opts.onPollWake });
  const domainState = new Map<number, XenDomainState>();
  const gnttab = new GrantTables(find, xsm);

  const createDomainState = (domain: XenDomain, o: DomainStateOptions = {}): void => {
    evtchn.createDomain(domain, o.maxEvtchnPort);
    gnttab.create(domain);
    if (domainState.has(domain.domid)) return;
    const hvmParams = new Array<bigint>(HVM_NR_PARAMS).fill(0n);
    for (const [k, v] of Object.entries(o.hvmParams ?? {})) if (v !== undefined) hvmParams[Number(k)] = v;
    if (o.enhanced?.xenstoreDomid !== undefined) {
      // evtchn_alloc_unbound as Xen's domain builder calls it (no XSM caller but Xen itself).
      const port = evtchn.allocUnbound(domain, DOMID_SELF, o.enhanced.xenstoreDomid);
      if (port.ok) {
        hvmParams[HVM_PARAM.STORE_EVTCHN] = BigInt(port.value);
        hvmParams[HVM_PARAM.STORE_PFN] = 0xffff_ffff_ffff_ffffn;
      }
    }
    domainState.set(domain.domid, {
      hvmParams,
      isConsole: o.isConsole ?? true,
      consoleLine: '',
      runstateArea: new Map(),
      vmAssist: 0n,
    });
  };

  const x: XenOpsContext = {
    hv,
    evtchn,
    gnttab,
    xsm,
    domainState,
    eventsNeedDelivery: opts.eventsNeedDelivery ?? ((d, v) => evtchn.upcallPending(d.domid, v)),
  };

  // Every handler runs on a domain whose Xen state exists (created lazily with defaults).
  const withState =
    (h: HypercallHandler): HypercallHandler =>
    (ctx, a) => {
      if (!domainState.has(ctx.domain.domid)) createDomainState(ctx.domain);
      return h(ctx, a);
    };

  hv.register(Hypercall.event_channel_op, withState(eventChannelOp(evtchn)));
  hv.register(Hypercall.memory_op, withState(memoryOp(x)));
  hv.register(Hypercall.sched_op, withState(schedOp(x)));
  hv.register(Hypercall.xen_version, withState(xenVersion(opts.build ?? DEBIAN_XEN_4_17)));
  hv.register(Hypercall.hvm_op, withState(hvmOp(x)));
  hv.register(Hypercall.vcpu_op, withState(vcpuOp(x)));
  hv.register(Hypercall.console_io, withState(consoleIo(x)));
  hv.register(Hypercall.grant_table_op, withState(grantTableOp(gnttab)));
  hv.register(Hypercall.physdev_op, withState(physdevOp()));
  hv.register(Hypercall.vm_assist, withState(vmAssist(x)));

  return {
    evtchn,
    gnttab,
    createDomainState,
    eventPendingFor: (domid, vcpuId) => evtchn.upcallPending(domid, vcpuId),
    pollSatisfied: (domid, vcpuId) => evtchn.pollWoken(domid, vcpuId),
    endPoll: (domid, vcpuId) => evtchn.endPoll(domid, vcpuId),
    portStates: (domid) =>
      evtchn.channels(domid).map((c) => {
        const b = c.binding;
        const r: PortReport = {
          port: c.port,
          state: b.state,
          notifyVcpu: c.notifyVcpu,
          pending: evtchn.isPending(domid, c.port),
          masked: evtchn.isMasked(domid, c.port),
        };
        if (b.state === 'unbound') r.remoteDomid = b.remoteDomid;
        if (b.state === 'interdomain') {
          r.remoteDomid = b.remoteDomid;
          r.remotePort = b.remotePort;
        }
        if (b.state === 'virq') r.virq = b.virq;
        return r;
      }),
  };
}
