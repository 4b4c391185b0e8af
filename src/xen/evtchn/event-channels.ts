import { DOMID_SELF } from '../abi.ts';
import type { XenDomain } from '../domain.ts';
import type { ErrnoName } from '../errno.ts';
import type { TraceBus } from '../../trace/bus.ts';
import type { Fields } from '../../trace/events.ts';
import { type Channel, channelUsable, EVTCHNSTAT, NR_VIRQS, virqIsGlobal } from './channel.ts';
import { PortTable, DOM0LESS_MAX_EVTCHN_PORT, UNLIMITED_EVTCHN_PORT } from './port-table.ts';
import type { EvtchnPortOps } from './port-ops.ts';
import { SharedPages } from './shared-pages.ts';
import { TwoLevel, markEventsPending, upcallPending } from './two-level.ts';
import { Fifo, EVTCHN_FIFO, FifoControlBlock } from './fifo.ts';
import { EVTCHN_2L_NR_CHANNELS, PAGE_SIZE, VcpuInfo, frameGpa } from './layout.ts';

/** A typed answer: a value, or the errno Xen would return (as a name; the edge negates it). */
export type Result<T = void> = { ok: true; value: T } | { ok: false; error: ErrnoName };
const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T = never>(error: ErrnoName): Result<T> => ({ ok: false, error });
const done: Result<void> = { ok: true, value: undefined };

/** The XSM hooks event channels consult (xsm/dummy.h, xsm/silo.c); null = allowed. */
export interface EvtchnXsm {
  /** xsm_evtchn_unbound: `caller` allocates a port in `d` that `remoteDomid` may bind. */
  evtchnUnbound(caller: XenDomain, d: XenDomain, remoteDomid: number): ErrnoName | null;
  /** xsm_evtchn_interdomain: `ld` binds to a port of `rd`. */
  evtchnInterdomain(ld: XenDomain, rd: XenDomain): ErrnoName | null;
  /** xsm_evtchn_status: `caller` asks about a port of `d`. */
  evtchnStatus(caller: XenDomain, d: XenDomain): ErrnoName | null;
  /** xsm_evtchn_reset: `caller` resets `d`. */
  evtchnReset(caller: XenDomain, d: XenDomain): ErrnoName | null;
}

/** What EVTCHNOP_status reports. */
export interface EvtchnStatus {
  status: number;
  vcpu: number;
  /** unbound: the domain allowed to bind; interdomain: the peer domain */
  dom?: number;
  /** interdomain: the peer port */
  port?: number;
  virq?: number;
}

/** Everything Xen keeps per domain for event channels. */
interface DomainEvtchn {
  readonly domain: XenDomain;
  readonly table: PortTable;
  readonly pages: SharedPages;
  /**
   * d->evtchn_port_ops: `twoLevel` until the first init_control, then the domain's Fifo
   * (d->evtchn_fifo) until a reset brings `twoLevel` back. `abi.name` tells which.
   */
  abi: EvtchnPortOps & (TwoLevel | Fifo);
  readonly twoLevel: TwoLevel;
  /** v->virq_to_evtchn[virq] for each vCPU (0 = unbound). */
  readonly virqToEvtchn: number[][];
  /** vCPUs blocked in SCHEDOP_poll (d->poll_mask) and their v->poll_evtchn (-1 = any port). */
  readonly polling: Map<number, number>;
  /** vCPUs whose poll was ended by a newly pending port, until the machine collects them. */
  readonly pollWoken: Set<number>;
  /** d->next_evtchn: progress of an EVTCHNOP_reset (0 = none in progress). */
  nextEvtchn: number;
}

/**
 * Arm has no pirq support, but domain_create still sizes nr_pirqs. The real Xen 4.17 answers
 * -EINVAL from pirq 1024 up for a dom0less domU (measured: apps/evtchn-conformance), so no
 * extra pirqs are added on top of the 1024 static IRQs.
 */
export const ARM_DOMU_NR_PIRQS = 1024;

export interface EventChannelsOptions {
  /** rcu_lock_domain_by_id: a domain by id, or undefined (no DOMID_SELF handling). */
  findDomain(domid: number): XenDomain | undefined;
  xsm: EvtchnXsm;
  trace?: TraceBus;
  /** The machine's wake-up for a vCPU blocked in SCHEDOP_poll (called once per wake). */
  onPollWake?(domid: number, vcpuId: number): void;
}

/**
 * The event-channel state machine of xen/common/event_channel.c for every domain, ABI-
 * neutral: it owns ports and bindings; bits live behind `EvtchnPortOps` (2-level here).
 * Callers are plain domains, so the model runs without a CPU.
 */
export class EventChannels {
  private readonly doms = new Map<number, DomainEvtchn>();
  /** Xen's global dummy_vcpu_info. */
  private readonly dummyVcpuInfo = new Uint8Array(VcpuInfo.size);

  constructor(private readonly opts: EventChannelsOptions) {}

  // ---- domains ------------------------------------------------------------------------

  /** evtchn_init: port 0 reserved in a first bucket. Idempotent for an existing domain. */
  createDomain(domain: XenDomain, maxEvtchnPort?: number): void {
    if (this.doms.has(domain.domid)) return;
    const limit = maxEvtchnPort ?? (domain.privileged ? UNLIMITED_EVTCHN_PORT : DOM0LESS_MAX_EVTCHN_PORT);
    const table = new PortTable(limit);
    const pages = new SharedPages(domain, this.dummyVcpuInfo);
    const state: DomainEvtchn = {
      domain,
      table,
      pages,
      abi: undefined as unknown as TwoLevel,
      twoLevel: undefined as unknown as TwoLevel,
      virqToEvtchn: domain.vcpus.map(() => new Array<number>(NR_VIRQS).fill(0)),
      polling: new Map(),
      pollWoken: new Set(),
      nextEvtchn: 0,
    };
    const twoLevel = new TwoLevel(pages, {
      markEventsPending: (vcpuId) => this.markEventsPending(state, vcpuId),
      checkPollers: (port) => this.checkPollers(state, port),
    });
    (state as { twoLevel: TwoLevel }).twoLevel = twoLevel;
    state.abi = twoLevel;
    const first = table.allocate();
    if (!first.ok || first.port !== 0) throw new Error('evtchn_init: port 0 not first');
    table.get(0)!.binding = { state: 'reserved' };
    this.doms.set(domain.domid, state);
  }

  has(domid: number): boolean {
    return this.doms.has(domid);
  }

  private st(d: XenDomain): DomainEvtchn {
    let s = this.doms.get(d.domid);
    if (!s) {
      this.createDomain(d);
      s = this.doms.get(d.domid)!;
    }
    return s;
  }

  /** rcu_lock_domain_by_any_id: DOMID_SELF is the caller. */
  private anyId(caller: XenDomain, domid: number): XenDomain | undefined {
    return domid === DOMID_SELF ? caller : this.opts.findDomain(domid);
  }

  /** get_free_port: a dying domain gets -EINVAL, a full one -ENOSPC. */
  private freePort(s: DomainEvtchn): Result<Channel> {
    if (s.domain.dying) return fail('EINVAL');
    const a = s.table.allocate(s.abi.isBusy);
    return a.ok ? ok(s.table.get(a.port)!) : fail(a.error);
  }

  private vcpuExists(d: XenDomain, vcpu: number): boolean {
    return Number.isInteger(vcpu) && vcpu >= 0 && vcpu < d.vcpus.length && d.vcpus[vcpu] !== undefined;
  }

  // ---- EVTCHNOP_* ---------------------------------------------------------------------

  /** EVTCHNOP_alloc_unbound (6). */
  allocUnbound(caller: XenDomain, dom: number, remoteDom: number): Result<number> {
    const d = this.anyId(caller, dom);
    if (!d) return fail('ESRCH');
    const s = this.st(d);
    const c = this.freePort(s);
    if (!c.ok) return c;
    const denied = this.opts.xsm.evtchnUnbound(caller, d, remoteDom);
    if (denied) return fail(denied);
    const remoteDomid = remoteDom === DOMID_SELF ? caller.domid : remoteDom;
    c.value.binding = { state: 'unbound', remoteDomid };
    s.abi.init?.(c.value.port);
    this.note(d.domid, c.value.port, 'alloc_unbound', { remote_dom: remoteDomid });
    return ok(c.value.port);
  }

  /** EVTCHNOP_bind_interdomain (0). */
  bindInterdomain(caller: XenDomain, remoteDom: number, remotePort: number): Result<number> {
    const ld = caller;
    const rd = this.opts.findDomain(remoteDom === DOMID_SELF ? ld.domid : remoteDom);
    if (!rd) return fail('ESRCH');
    const ls = this.st(ld);
    const lc = this.freePort(ls);
    if (!lc.ok) return lc;
    const rs = this.st(rd);
    const rc = rs.table.get(remotePort);
    if (!rc) return fail('EINVAL');
    if (rc.binding.state !== 'unbound' || rc.binding.remoteDomid !== ld.domid) return fail('EINVAL');
    const denied = this.opts.xsm.evtchnInterdomain(ld, rd);
    if (denied) return fail(denied);
    const lport = lc.value.port;
    lc.value.binding = { state: 'interdomain', remoteDomid: rd.domid, remotePort };
    ls.abi.init?.(lport);
    rc.binding = { state: 'interdomain', remoteDomid: ld.domid, remotePort: lport };
    this.note(ld.domid, lport, 'bind_interdomain', { remote_dom: rd.domid, remote_port: remotePort });
    // Xen conservatively raises the new local port, in case the peer signalled while unbound.
    ls.abi.setPending(lc.value.notifyVcpu, lport);
    return ok(lport);
  }

  /** EVTCHNOP_bind_virq (1). `virq` and `vcpu` are the guest's u32 fields. */
  bindVirq(caller: XenDomain, virq: number, vcpu: number): Result<number> {
    if (virq >= NR_VIRQS) return fail('EINVAL');
    if (virqIsGlobal(virq) && vcpu !== 0) return fail('EINVAL');
    if (!this.vcpuExists(caller, vcpu)) return fail('ENOENT');
    const s = this.st(caller);
    if (s.virqToEvtchn[vcpu][virq] !== 0) return fail('EEXIST');
    const c = this.freePort(s);
    if (!c.ok) return c;
    c.value.binding = { state: 'virq', virq };
    c.value.notifyVcpu = vcpu;
    s.abi.init?.(c.value.port);
    s.virqToEvtchn[vcpu][virq] = c.value.port;
    this.note(caller.domid, c.value.port, 'bind_virq', { virq, vcpu });
    return ok(c.value.port);
  }

  /**
   * EVTCHNOP_bind_pirq (2). Arm domains are HVM and Arm's alloc_pirq_struct returns NULL,
   * so an in-range pirq reaches get_free_port and then fails -ENOMEM.
   */
  bindPirq(caller: XenDomain, pirq: number, nrPirqs = ARM_DOMU_NR_PIRQS): Result<number> {
    if (pirq >= 0x80000000 || pirq >= nrPirqs) return fail('EINVAL');
    const c = this.freePort(this.st(caller));
    if (!c.ok) return c;
    return fail('ENOMEM');
  }

  /** EVTCHNOP_close (3). */
  close(caller: XenDomain, port: number): Result {
    const s = this.st(caller);
    const c = s.table.get(port);
    if (!c) return fail('EINVAL');
    const b = c.binding;
    switch (b.state) {
      case 'free':
      case 'reserved':
        return fail('EINVAL');
      case 'unbound':
      case 'ipi':
        break;
      case 'virq':
        for (const table of s.virqToEvtchn) if (table[b.virq] === port) table[b.virq] = 0;
        break;
      case 'interdomain': {
        const peer = this.doms.get(b.remoteDomid);
        const pc = peer?.table.get(b.remotePort);
        if (!pc || pc.binding.state !== 'interdomain' || pc.binding.remoteDomid !== caller.domid) {
          throw new Error(`evtchn: d${caller.domid} port ${port}: peer d${b.remoteDomid}:${b.remotePort} inconsistent`);
        }
        pc.binding = { state: 'unbound', remoteDomid: caller.domid };
        this.note(b.remoteDomid, b.remotePort, 'peer_closed', { remote_dom: caller.domid });
        break;
      }
    }
    this.free(s, c);
    this.note(caller.domid, port, 'close');
    return done;
  }

  /** evtchn_free: pending cleared, back to vCPU 0. */
  private free(s: DomainEvtchn, c: Channel): void {
    s.abi.clearPending(c.port);
    c.binding = { state: 'free' };
    c.notifyVcpu = 0;
  }

  /** EVTCHNOP_send (4). */
  send(caller: XenDomain, port: number): Result {
    const s = this.st(caller);
    const c = s.table.get(port);
    if (!c) return fail('EINVAL');
    const b = c.binding;
    switch (b.state) {
      case 'interdomain': {
        const rs = this.doms.get(b.remoteDomid)!;
        const rc = rs.table.get(b.remotePort)!;
        if (this.opts.trace?.on) {
          this.note(b.remoteDomid, b.remotePort, 'set_pending', { from_dom: caller.domid, from_port: port, was_pending: this.isPending(b.remoteDomid, b.remotePort) });
        }
        rs.abi.setPending(rc.notifyVcpu, b.remotePort);
        return done;
      }
      case 'ipi':
        if (this.opts.trace?.on) this.note(caller.domid, port, 'set_pending', { from_dom: caller.domid, from_port: port, was_pending: this.isPending(caller.domid, port) });
        s.abi.setPending(c.notifyVcpu, port);
        return done;
      case 'unbound':
        // Nobody is listening yet: Xen drops the notification and reports success.
        return done;
      default:
        return fail('EINVAL');
    }
  }

  /** EVTCHNOP_status (5). */
  status(caller: XenDomain, dom: number, port: number): Result<EvtchnStatus> {
    const d = this.anyId(caller, dom);
    if (!d) return fail('ESRCH');
    const c = this.st(d).table.get(port);
    if (!c) return fail('EINVAL');
    const denied = this.opts.xsm.evtchnStatus(caller, d);
    if (denied) return fail(denied);
    const b = c.binding;
    const vcpu = c.notifyVcpu;
    switch (b.state) {
      case 'free':
      case 'reserved':
        return ok({ status: EVTCHNSTAT.closed, vcpu });
      case 'unbound':
        return ok({ status: EVTCHNSTAT.unbound, vcpu, dom: b.remoteDomid });
      case 'interdomain':
        return ok({ status: EVTCHNSTAT.interdomain, vcpu, dom: b.remoteDomid, port: b.remotePort });
      case 'virq':
        return ok({ status: EVTCHNSTAT.virq, vcpu, virq: b.virq });
      case 'ipi':
        return ok({ status: EVTCHNSTAT.ipi, vcpu });
    }
  }

  /** EVTCHNOP_bind_ipi (7). */
  bindIpi(caller: XenDomain, vcpu: number): Result<number> {
    if (!this.vcpuExists(caller, vcpu)) return fail('ENOENT');
    const s = this.st(caller);
    const c = this.freePort(s);
    if (!c.ok) return c;
    c.value.binding = { state: 'ipi' };
    c.value.notifyVcpu = vcpu;
    s.abi.init?.(c.value.port);
    this.note(caller.domid, c.value.port, 'bind_ipi', { vcpu });
    return ok(c.value.port);
  }

  /** EVTCHNOP_bind_vcpu (8): only unbound, interdomain and global-VIRQ channels can move. */
  bindVcpu(caller: XenDomain, port: number, vcpu: number): Result {
    if (!this.vcpuExists(caller, vcpu)) return fail('ENOENT');
    const c = this.st(caller).table.get(port);
    if (!c) return fail('EINVAL');
    const b = c.binding;
    if (b.state === 'unbound' || b.state === 'interdomain' || (b.state === 'virq' && virqIsGlobal(b.virq))) {
      c.notifyVcpu = vcpu;
      this.note(caller.domid, port, 'bind_vcpu', { vcpu });
      return done;
    }
    return fail('EINVAL');
  }

  /**
   * EVTCHNOP_unmask (9): any valid port answers 0, but only a usable one (not free, not
   * reserved) has its mask bit touched (evtchn_port_unmask checks evtchn_usable).
   */
  unmask(caller: XenDomain, port: number): Result {
    const s = this.st(caller);
    const c = s.table.get(port);
    if (!c) return fail('EINVAL');
    if (channelUsable(c)) s.abi.unmask(c.notifyVcpu, port);
    return done;
  }

  /**
   * SCHEDOP_poll's look at one port (evtchn_port_poll): invalid or not usable -> -EINVAL,
   * else whether it is pending (mask does not matter).
   */
  pollPort(domid: number, port: number): Result<boolean> {
    const s = this.doms.get(domid);
    const c = s?.table.get(port);
    if (!s || !c || !channelUsable(c)) return fail('EINVAL');
    return ok(s.abi.isPending(port));
  }

  /**
   * EVTCHNOP_reset (10) and EVTCHNOP_reset_cont (14, `resuming`). Xen closes every port from 1
   * up, preempting now and then; the emulator never preempts, so a reset always completes
   * and reset_cont, which only continues a reset in progress, answers -EBUSY.
   */
  reset(caller: XenDomain, dom: number, resuming: boolean): Result {
    const d = this.anyId(caller, dom);
    if (!d) return fail('ESRCH');
    const denied = this.opts.xsm.evtchnReset(caller, d);
    if (denied) return fail(denied);
    // Resetting another domain needs it paused by its controller, which nothing does here.
    if (d !== caller) return fail('EINVAL');
    const s = this.st(d);
    let i = resuming ? s.nextEvtchn : s.nextEvtchn === 0 ? 1 : 0;
    if (i > s.nextEvtchn) s.nextEvtchn = i;
    if (i === 0) return fail('EBUSY');
    for (; s.table.isValid(i); i++) this.close(d, i);
    s.nextEvtchn = 0;
    // Every port is closed, so (no Xen-consumed channels here) the domain goes back to the
    // 2-level ABI: control blocks and event array pages are let go; shared_info's bits are
    // what they were before the switch (FIFO never touched them).
    if (s.abi.name === 'fifo') this.switchTo2Level(s);
    this.note(d.domid, 0, 'reset');
    return done;
  }

  /**
   * EVTCHNOP_init_control (11), evtchn_fifo_init_control: the vCPU must exist (-ENOENT), the
   * 72-byte control block must fit the page (-EINVAL) and be 8-byte aligned (-EINVAL). The
   * first successful call switches the domain to FIFO: every vCPU gets its 16 empty queues,
   * the event array starts with no pages, the port limit becomes 2^17 and each valid port
   * keeps its 2-level pending bit as saved state (setup_ports). A vCPU that already has a
   * control block, or a frame that is not RAM, is -EINVAL (the domain then stays as it was).
   * The value is link_bits (17), which Xen writes back only on success.
   */
  initControl(caller: XenDomain, controlGfn: bigint, offset: number, vcpu: number): Result<number> {
    if (!this.vcpuExists(caller, vcpu)) return fail('ENOENT');
    if (offset > PAGE_SIZE - FifoControlBlock.size) return fail('EINVAL');
    if (offset % 8 !== 0) return fail('EINVAL');
    const s = this.st(caller);
    const gpa = frameGpa(controlGfn);
    if (s.abi.name === 'fifo') {
      const r = s.abi.mapControlBlock(vcpu, gpa, offset);
      return r.ok ? ok(EVTCHN_FIFO.LINK_BITS) : fail(r.error);
    }
    const prevEvtchns = s.table.maxEvtchns;
    const fifo = new Fifo(caller.memory, caller.vcpus.length, {
      markEventsPending: (vcpuId) => this.markEventsPending(s, vcpuId),
      checkPollers: (port) => this.checkPollers(s, port),
      channelAt: (port) => s.table.get(port),
    });
    const r = fifo.mapControlBlock(vcpu, gpa, offset);
    if (!r.ok) return fail(r.error);
    s.abi = fifo;
    s.table.maxEvtchns = EVTCHN_FIFO.NR_CHANNELS;
    fifo.adoptPorts(s.table.validCount, prevEvtchns, (p) => s.twoLevel.isPending(p));
    this.note(caller.domid, 0, 'abi_fifo', { vcpu, control_gfn: controlGfn, offset });
    return ok(EVTCHN_FIFO.LINK_BITS);
  }

  /**
   * EVTCHNOP_expand_array (12), evtchn_fifo_expand_array: -EOPNOTSUPP while the domain is on
   * 2-level; else one more page of 1024 event words (-ENOSPC past 2^17 ports, -EINVAL for a
   * frame that is not RAM). Ports of the new page with a saved pending event are raised.
   */
  expandArray(caller: XenDomain, arrayGfn: bigint): Result {
    const s = this.st(caller);
    const fifo = s.abi;
    if (fifo.name !== 'fifo') return fail('EOPNOTSUPP');
    const r = fifo.addArrayPage(frameGpa(arrayGfn), s.table.validCount);
    if (!r.ok) return fail(r.error);
    this.note(caller.domid, 0, 'expand_array', { array_gfn: arrayGfn, words: fifo.eventWords });
    return done;
  }

  /** evtchn_fifo_destroy + evtchn_2l_init. */
  private switchTo2Level(s: DomainEvtchn): void {
    s.abi = s.twoLevel;
    s.table.maxEvtchns = EVTCHN_2L_NR_CHANNELS;
    this.note(s.domain.domid, 0, 'abi_2level');
  }

  /**
   * EVTCHNOP_set_priority (13), in Xen's order: an invalid port -EINVAL; the 2-level ABI has no
   * priorities (-ENOSYS, whatever the port's state); under FIFO a free or reserved port is
   * -EACCES (evtchn_usable, checked before the priority: measured on the real Xen 4.17 with
   * apps/fifo-priorities and events-api-fifo); then the FIFO range check (-EINVAL above 15).
   */
  setPriority(caller: XenDomain, port: number, priority: number): Result {
    const s = this.st(caller);
    const c = s.table.get(port);
    if (!c) return fail('EINVAL');
    if (!s.abi.setPriority) return fail('ENOSYS');
    if (!channelUsable(c)) return fail('EACCES');
    const r = s.abi.setPriority(port, priority);
    return r === 0 ? done : fail('EINVAL');
  }

  // ---- events from Xen itself ---------------------------------------------------------

  /** send_guest_vcpu_virq / send_guest_global_virq. Returns whether a port was bound. */
  sendVirq(domain: XenDomain, vcpuId: number, virq: number): boolean {
    const s = this.st(domain);
    const global = virqIsGlobal(virq);
    const port = s.virqToEvtchn[global ? 0 : vcpuId]?.[virq] ?? 0;
    if (port === 0) return false;
    const c = s.table.get(port)!;
    if (this.opts.trace?.on) this.note(domain.domid, port, 'set_pending', { virq, was_pending: this.isPending(domain.domid, port) });
    s.abi.setPending(global ? c.notifyVcpu : vcpuId, port);
    return true;
  }

  /**
   * An event raised from the host on one of a domain's own ports, as QEMU's `xen-event-inject`
   * does for its emulated Xen: the port becomes pending (and the upcall raised, unless masked)
   * whatever it is bound to (unbound, VIRQ and PIRQ ports included, which EVTCHNOP_send would
   * ignore or refuse: the host is not a peer). Free and reserved ports answer -EINVAL.
   */
  hostSetPending(domid: number, port: number): Result {
    const s = this.doms.get(domid);
    const c = s?.table.get(port);
    if (!s || !c || c.binding.state === 'free' || c.binding.state === 'reserved') return fail('EINVAL');
    if (this.opts.trace?.on) this.note(domid, port, 'set_pending', { from_host: true, was_pending: this.isPending(domid, port) });
    s.abi.setPending(c.notifyVcpu, port);
    return done;
  }

  private markEventsPending(s: DomainEvtchn, vcpuId: number): void {
    const v = s.domain.vcpus[vcpuId];
    if (!v) return;
    if (markEventsPending(s.pages, v)) this.note(s.domain.domid, 0, 'upcall', { vcpu: vcpuId });
  }

  // ---- SCHEDOP_poll bookkeeping -------------------------------------------------------

  /** do_poll: the vCPU sleeps on `pollEvtchn` (a single port) or -1 (several ports). */
  beginPoll(domain: XenDomain, vcpuId: number, pollEvtchn: number): void {
    const s = this.st(domain);
    s.pollWoken.delete(vcpuId);
    s.polling.set(vcpuId, pollEvtchn);
  }

  /** True once a newly pending port ended the poll (evtchn_check_pollers). */
  pollWoken(domid: number, vcpuId: number): boolean {
    return this.doms.get(domid)?.pollWoken.has(vcpuId) ?? false;
  }

  /** The poll is over (woken, timed out, or the vCPU was kicked): forget it. */
  endPoll(domid: number, vcpuId: number): void {
    const s = this.doms.get(domid);
    s?.polling.delete(vcpuId);
    s?.pollWoken.delete(vcpuId);
  }

  isPolling(domid: number, vcpuId: number): boolean {
    return this.doms.get(domid)?.polling.has(vcpuId) ?? false;
  }

  private checkPollers(s: DomainEvtchn, port: number): void {
    for (const [vcpuId, pe] of s.polling) {
      if (pe <= 0 || pe === port) {
        s.polling.delete(vcpuId);
        s.pollWoken.add(vcpuId);
        this.opts.onPollWake?.(s.domain.domid, vcpuId);
      }
    }
  }

  // ---- shared_info / vcpu_info placement ----------------------------------------------

  pages(domain: XenDomain): SharedPages {
    return this.st(domain).pages;
  }

  /**
   * map_vcpu_info's effect once its checks passed: the vCPU's current vcpu_info is copied to
   * `gpa` (or zeroed if it was on the dummy), every selector bit is set and events are
   * marked pending, so the guest rescans and nothing is lost.
   */
  moveVcpuInfo(domain: XenDomain, vcpuId: number, gpa: number): void {
    const s = this.st(domain);
    const v = domain.vcpus[vcpuId];
    const off = domain.memory.offsetOf(gpa, VcpuInfo.size);
    if (!v || off < 0) throw new RangeError('moveVcpuInfo: bad vCPU or GPA');
    const old = s.pages.vcpuInfo(vcpuId);
    const fresh = s.pages.usesDummy(vcpuId)
      ? new Uint8Array(VcpuInfo.size)
      : old.buf.slice(old.off, old.off + VcpuInfo.size);
    domain.memory.bytes.set(fresh, off);
    v.vcpuInfoGpa = gpa;
    domain.memory.writeU64(gpa + VcpuInfo.pendingSel, ~0n);
    this.markEventsPending(s, vcpuId);
  }

  // ---- queries (reports, tests, the machine) ------------------------------------------

  channel(domid: number, port: number): Readonly<Channel> | undefined {
    return this.doms.get(domid)?.table.get(port);
  }

  /** Every port not free, for reports (deadlock, "e" debug-key style dumps). */
  channels(domid: number): Readonly<Channel>[] {
    const s = this.doms.get(domid);
    if (!s) return [];
    return [...s.table.all()].filter((c) => c.binding.state !== 'free');
  }

  validCount(domid: number): number {
    return this.doms.get(domid)?.table.validCount ?? 0;
  }

  maxEvtchnPort(domid: number): number {
    return this.doms.get(domid)?.table.maxEvtchnPort ?? 0;
  }

  /** The ABI a domain uses now. */
  abiName(domid: number): EvtchnPortOps['name'] | undefined {
    return this.doms.get(domid)?.abi.name;
  }

  /** The domain's FIFO state while it uses that ABI (tests, reports). */
  fifo(domid: number): Fifo | undefined {
    const abi = this.doms.get(domid)?.abi;
    return abi?.name === 'fifo' ? abi : undefined;
  }

  isPending(domid: number, port: number): boolean {
    return this.doms.get(domid)?.abi.isPending(port) ?? false;
  }

  isMasked(domid: number, port: number): boolean {
    return this.doms.get(domid)?.abi.isMasked(port) ?? true;
  }

  /** evtchn_upcall_pending of the vCPU's current vcpu_info is non-zero. */
  upcallPending(domid: number, vcpuId: number): boolean {
    const s = this.doms.get(domid);
    return s ? upcallPending(s.pages, vcpuId) : false;
  }

  virqPort(domid: number, vcpuId: number, virq: number): number {
    return this.doms.get(domid)?.virqToEvtchn[vcpuId]?.[virq] ?? 0;
  }

  private note(domid: number, port: number, change: string, fields?: Fields): void {
    const t = this.opts.trace;
    if (t?.on) t.emit({ kind: 'evtchn', domid, port, change, fields });
  }
}

