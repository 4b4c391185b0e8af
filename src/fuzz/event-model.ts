import { PAGE_SIZE, SharedInfo, VcpuInfo, EVTCHN_2L_NR_CHANNELS } from '../xen/evtchn/layout.ts';
import { ECS } from '../xen/evtchn/channel.ts';
import { FUZZ_RAM_BASE, type World } from './world.ts';
import type { FifoState } from './fifo-model.ts';

/**
 * The fuzzer's reference for what Xen writes into guest-visible event state, kept apart from
 * the emulator's code: a shadow of every domain's RAM, of Xen's private shared_info page of
 * each domain (before the guest maps it) and of Xen's one global dummy vcpu_info. The
 * campaign applies to the shadow what each call should do (the guest's own writes, the
 * copy-out of its result, the event bits) and then demands the real bytes equal the shadow,
 * byte for byte, everywhere: a lost, invented or misplaced event bit, or a write into a
 * domain that nobody asked for, shows as a difference.
 *
 * Placement (where shared_info and each vcpu_info live) is the same for every event ABI; the
 * bits are the ABI's. `EventAbiModel` is the ABI part: `twoLevelModel` (xen/common/event_2l.c,
 * public/xen.h) for a world that stays on 2-level, and `fifoEventModel()` (fifo-model.ts:
 * queues in the guest's event-array pages and control blocks) for domains that switch to
 * FIFO and back. A model without the FIFO operations leaves a switched domain's event state
 * unchecked (`Shadow.unmodelled`).
 */
export interface EventAbiModel {
  readonly name: string;
  /** evtchn_port_set_pending: port raised towards `vcpu`. */
  setPending(shadow: Shadow, d: number, vcpu: number, port: number): void;
  /** evtchn_port_clear_pending (evtchn_free on close). */
  clearPending(shadow: Shadow, d: number, port: number): void;
  /** evtchn_port_unmask on a usable port bound to `vcpu`. */
  unmask(shadow: Shadow, d: number, vcpu: number, port: number): void;
  /** evtchn_port_init: `port` of `d` was just bound. */
  bind?(shadow: Shadow, d: number, port: number): void;
  /**
   * EVTCHNOP_init_control, _expand_array and _set_priority with their struct as Xen read it:
   * the answer the model expects (0 or -errno), its effects applied on success.
   */
  initControl?(shadow: Shadow, d: number, gfn: bigint, offset: number, vcpu: number): number;
  expandArray?(shadow: Shadow, d: number, gfn: bigint): number;
  setPriority?(shadow: Shadow, d: number, port: number, priority: number): number;
  /** A successful EVTCHNOP_reset of `d` (after its ports were closed). */
  reset?(shadow: Shadow, d: number): void;
}

/** The channel table as the campaign snapshots it: 4 ints a port (state, remote, port/virq, vCPU). */
export type PortSnap = Int32Array;


/** A window of bytes: a buffer and the offset of the structure in it. */
export interface Ref {
  buf: Uint8Array;
  off: number;
}

export class Shadow {
  /** Shadow RAM of each domain, by domid. */
  readonly ram = new Map<number, Uint8Array>();
  readonly xenPage = new Map<number, Uint8Array>();
  readonly dummy = new Uint8Array(VcpuInfo.size);
  readonly sharedInfoGpa = new Map<number, number | undefined>();
  /** vcpuInfoGpa of [domid][vcpu]. */
  readonly vcpuInfoGpa = new Map<number, (number | undefined)[]>();
  /** Upcalls each vCPU should have seen raised (the 0->1 edges of upcall_pending). */
  readonly upcalls = new Map<number, number[]>();
  /** SCHEDOP_poll: vCPUs polling and their poll_evtchn (-1: several ports). */
  readonly polling = new Map<number, Map<number, number>>();
  readonly pollWoken = new Map<number, Set<number>>();
  /**
   * Domains that switched to the FIFO ABI (EVTCHNOP_init_control succeeded), with the frames
   * they gave Xen for it, when the model has no FIFO operations (plain `twoLevelModel`):
   * their event state (these frames, shared_info, vcpu_infos, upcalls, polls) is taken as it
   * is, the rest of their RAM and every other invariant still checked.
   */
  readonly unmodelled = new Map<number, Set<number>>();
  /** Domains on the FIFO ABI as the FIFO model sees them (fifo-model.ts). */
  readonly fifo = new Map<number, FifoState>();
  /** What the FIFO model did, for the campaign's coverage report. */
  readonly fifoStats = { switches: 0, links: 0, heads: 0, saved: 0, reraised: 0, backTo2Level: 0 };
  /** The current channel table of a domain (set by the campaign). */
  portsOf: (d: number) => PortSnap = () => new Int32Array(0);

  constructor(
    world: World,
    readonly abi: EventAbiModel,
  ) {
    for (const d of world.doms) {
      this.ram.set(d.domid, d.memory.bytes.slice());
      this.xenPage.set(d.domid, world.xen.evtchn.pages(d).xenPage.slice());
      this.sharedInfoGpa.set(d.domid, d.sharedInfoGpa);
      this.vcpuInfoGpa.set(
        d.domid,
        d.vcpus.map((v) => v.vcpuInfoGpa),
      );
      this.upcalls.set(
        d.domid,
        d.vcpus.map((v) => v.upcalls),
      );
      this.polling.set(d.domid, new Map());
      this.pollWoken.set(d.domid, new Set());
    }
  }

  validPorts(d: number): number {
    return this.portsOf(d).length / 4;
  }

  notifyVcpu(d: number, port: number): number {
    return this.portsOf(d)[4 * port + 3];
  }

  /** evtchn_usable: a valid port that is neither free nor reserved. */
  usable(d: number, port: number): boolean {
    const s = this.portsOf(d);
    return 4 * port < s.length && s[4 * port] !== ECS.free && s[4 * port] !== ECS.reserved;
  }

  sharedInfo(d: number): Ref {
    const gpa = this.sharedInfoGpa.get(d);
    if (gpa !== undefined) return { buf: this.ram.get(d)!, off: gpa - FUZZ_RAM_BASE };
    return { buf: this.xenPage.get(d)!, off: 0 };
  }

  vcpuInfo(d: number, v: number): Ref {
    const gpa = this.vcpuInfoGpa.get(d)![v];
    if (gpa !== undefined) return { buf: this.ram.get(d)!, off: gpa - FUZZ_RAM_BASE };
    if (v < SharedInfo.legacyMaxVcpus) return { buf: this.sharedInfo(d).buf, off: this.sharedInfo(d).off + SharedInfo.vcpuInfo + v * VcpuInfo.size };
    return { buf: this.dummy, off: 0 };
  }

  /** vcpu_mark_events_pending: test-and-set of upcall_pending bit 0; the edge raises the upcall. */
  markEventsPending(d: number, v: number): void {
    const vi = this.vcpuInfo(d, v);
    const i = vi.off + VcpuInfo.upcallPending;
    if (vi.buf[i] & 1) return;
    vi.buf[i] |= 1;
    this.upcalls.get(d)![v]++;
  }

  /** evtchn_check_pollers for a newly pending port of `d`. */
  checkPollers(d: number, port: number): void {
    const polling = this.polling.get(d)!;
    for (const [v, pe] of polling) {
      if (pe <= 0 || pe === port) {
        polling.delete(v);
        this.pollWoken.get(d)!.add(v);
      }
    }
  }

  /** XENMEM_add_to_physmap(shared_info): the page as it is now appears at `gpa`. */
  mapSharedInfo(d: number, gpa: number): void {
    const cur = this.sharedInfo(d);
    const page = cur.buf.slice(cur.off, cur.off + PAGE_SIZE);
    this.ram.get(d)!.set(page, gpa - FUZZ_RAM_BASE);
    this.sharedInfoGpa.set(d, gpa);
  }

  /** XENMEM_remove_from_physmap of the shared_info frame: Xen keeps the page. */
  unmapSharedInfo(d: number): void {
    const cur = this.sharedInfo(d);
    const xp = this.xenPage.get(d)!;
    if (cur.buf !== xp) xp.set(cur.buf.subarray(cur.off, cur.off + PAGE_SIZE));
    this.sharedInfoGpa.set(d, undefined);
  }

  /**
   * VCPUOP_register_vcpu_info once its checks passed (map_vcpu_info): the current vcpu_info
   * (zeros if it was the dummy) is copied to `gpa`, every selector bit set, events marked.
   */
  moveVcpuInfo(d: number, v: number, gpa: number): void {
    const old = this.vcpuInfo(d, v);
    const onDummy = old.buf === this.dummy;
    const fresh = onDummy ? new Uint8Array(VcpuInfo.size) : old.buf.slice(old.off, old.off + VcpuInfo.size);
    const ram = this.ram.get(d)!;
    const off = gpa - FUZZ_RAM_BASE;
    ram.set(fresh, off);
    this.vcpuInfoGpa.get(d)![v] = gpa;
    ram.fill(0xff, off + VcpuInfo.pendingSel, off + VcpuInfo.pendingSel + 8);
    this.markEventsPending(d, v);
  }
}

function bit(buf: Uint8Array, base: number, n: number): boolean {
  return (buf[base + (n >>> 3)] & (1 << (n & 7))) !== 0;
}
function setBit(buf: Uint8Array, base: number, n: number): boolean {
  const was = bit(buf, base, n);
  buf[base + (n >>> 3)] |= 1 << (n & 7);
  return was;
}

/** The 2-level ABI as public/xen.h describes it: pending and mask bitmaps, a selector per vCPU. */
export const twoLevelModel: EventAbiModel = {
  name: '2-level',
  setPending(sh, d, v, port) {
    if (port >= EVTCHN_2L_NR_CHANNELS || sh.unmodelled.has(d)) return;
    const si = sh.sharedInfo(d);
    if (setBit(si.buf, si.off + SharedInfo.evtchnPending, port)) return;
    if (!bit(si.buf, si.off + SharedInfo.evtchnMask, port)) {
      const vi = sh.vcpuInfo(d, v);
      if (!setBit(vi.buf, vi.off + VcpuInfo.pendingSel, port >>> 6)) sh.markEventsPending(d, v);
    }
    sh.checkPollers(d, port);
  },
  clearPending(sh, d, port) {
    if (port >= EVTCHN_2L_NR_CHANNELS || sh.unmodelled.has(d)) return;
    const si = sh.sharedInfo(d);
    si.buf[si.off + SharedInfo.evtchnPending + (port >>> 3)] &= ~(1 << (port & 7));
  },
  unmask(sh, d, v, port) {
    if (port >= EVTCHN_2L_NR_CHANNELS || sh.unmodelled.has(d)) return;
    const si = sh.sharedInfo(d);
    const mi = si.off + SharedInfo.evtchnMask + (port >>> 3);
    const m = 1 << (port & 7);
    if (!(si.buf[mi] & m)) return;
    si.buf[mi] &= ~m;
    if (!bit(si.buf, si.off + SharedInfo.evtchnPending, port)) return;
    const vi = sh.vcpuInfo(d, v);
    if (!setBit(vi.buf, vi.off + VcpuInfo.pendingSel, port >>> 6)) sh.markEventsPending(d, v);
  },
};
