import type { XenVcpu } from '../domain.ts';
import { SharedInfo, VcpuInfo, EVTCHN_2L_NR_CHANNELS } from './layout.ts';
import type { EvtchnPortOps } from './port-ops.ts';
import type { SharedPages } from './shared-pages.ts';

/*
 * The 2-level event ABI: bit arrays in shared_info and a selector word per vcpu_info
 * (xen/common/event_2l.c). Bitmaps are arrays of little-endian u64 words, so bit `n` of the
 * array is bit n%8 of byte n/8: plain byte access gives the same bits the guest sees.
 * The guest and this code never run at the same time (see GuestMemory), so a read-modify-
 * write here is as atomic as Xen's locked bit operations.
 */

function testBit(buf: Uint8Array, base: number, bit: number): boolean {
  return (buf[base + (bit >>> 3)] & (1 << (bit & 7))) !== 0;
}

function testAndSetBit(buf: Uint8Array, base: number, bit: number): boolean {
  const i = base + (bit >>> 3);
  const m = 1 << (bit & 7);
  const was = (buf[i] & m) !== 0;
  buf[i] |= m;
  return was;
}

function testAndClearBit(buf: Uint8Array, base: number, bit: number): boolean {
  const i = base + (bit >>> 3);
  const m = 1 << (bit & 7);
  const was = (buf[i] & m) !== 0;
  buf[i] &= ~m;
  return was;
}

/**
 * vcpu_mark_events_pending on Arm: test-and-set bit 0 of evtchn_upcall_pending and, only on
 * its 0->1 edge, inject the event-channel PPI (here: `vcpu.raiseUpcall()`). While the guest
 * leaves upcall_pending set, further events raise nothing. Returns whether it raised.
 */
export function markEventsPending(pages: SharedPages, vcpu: XenVcpu): boolean {
  const vi = pages.vcpuInfo(vcpu.id);
  if (testAndSetBit(vi.buf, vi.off + VcpuInfo.upcallPending, 0)) return false;
  vcpu.raiseUpcall();
  return true;
}

/** The non-ABI work the 2-level code hands back to the channel layer. */
export interface TwoLevelHooks {
  /** vcpu_mark_events_pending for this domain's vCPU. */
  markEventsPending(vcpuId: number): void;
  /** evtchn_check_pollers: wake vCPUs blocked in SCHEDOP_poll on this domain. */
  checkPollers(port: number): void;
}

export class TwoLevel implements EvtchnPortOps {
  readonly name = '2-level' as const;

  constructor(
    private readonly pages: SharedPages,
    private readonly hooks: TwoLevelHooks,
  ) {}

  /**
   * Xen's order: pending bit first (a port already pending does nothing more, not even a
   * poller check); then, if unmasked, the selector bit of the port's word in the notified
   * vCPU's vcpu_info; a 0->1 selector edge marks events pending. Pollers are checked for
   * every newly pending port, masked or not.
   */
  setPending(vcpuId: number, port: number): void {
    const si = this.pages.sharedInfo();
    if (testAndSetBit(si.buf, si.off + SharedInfo.evtchnPending, port)) return;
    if (!testBit(si.buf, si.off + SharedInfo.evtchnMask, port)) {
      const vi = this.pages.vcpuInfo(vcpuId);
      if (!testAndSetBit(vi.buf, vi.off + VcpuInfo.pendingSel, Math.floor(port / 64))) {
        this.hooks.markEventsPending(vcpuId);
      }
    }
    this.hooks.checkPollers(port);
  }

  clearPending(port: number): void {
    const si = this.pages.sharedInfo();
    testAndClearBit(si.buf, si.off + SharedInfo.evtchnPending, port);
  }

  /**
   * Only a mask bit that was set, on a pending port, re-raises: then the selector bit, and
   * on its 0->1 edge the upcall, exactly as a fresh set_pending would.
   */
  unmask(vcpuId: number, port: number): void {
    const si = this.pages.sharedInfo();
    if (
      testAndClearBit(si.buf, si.off + SharedInfo.evtchnMask, port) &&
      testBit(si.buf, si.off + SharedInfo.evtchnPending, port)
    ) {
      const vi = this.pages.vcpuInfo(vcpuId);
      if (!testAndSetBit(vi.buf, vi.off + VcpuInfo.pendingSel, Math.floor(port / 64))) {
        this.hooks.markEventsPending(vcpuId);
      }
    }
  }

  isPending(port: number): boolean {
    if (port >= EVTCHN_2L_NR_CHANNELS) return false;
    const si = this.pages.sharedInfo();
    return testBit(si.buf, si.off + SharedInfo.evtchnPending, port);
  }

  isMasked(port: number): boolean {
    if (port >= EVTCHN_2L_NR_CHANNELS) return true;
    const si = this.pages.sharedInfo();
    return testBit(si.buf, si.off + SharedInfo.evtchnMask, port);
  }
}

export function upcallPending(pages: SharedPages, vcpuId: number): boolean {
  const vi = pages.vcpuInfo(vcpuId);
  return vi.buf[vi.off + VcpuInfo.upcallPending] !== 0;
}
