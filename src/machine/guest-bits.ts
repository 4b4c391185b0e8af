/**
 * The 2-level bits a guest changes itself in its shared_info page (clearing pending bits and
 * evtchn_upcall_pending, swapping the selector, masking ports), for the trace.
 *
 * Guests update these words with exclusive load/store pairs, which the engine's memory hooks do
 * not report reliably, so the machine compares the words with a snapshot instead, at the points
 * it controls: before every hypercall (what changed since is the guest's doing), after it (the
 * hypervisor's own changes are absorbed, not blamed on the guest), at every vGIC access and at
 * the end of every run. A change is placed at the sync point that saw it: after the guest made
 * it, before anything the guest did next through the hypervisor or the GIC.
 *
 * Only used while a trace sink listens; costs a 1 KiB comparison per sync point then.
 */
import { SharedInfo, VcpuInfo } from '../xen/evtchn/layout.ts';
import type { GuestMemory } from '../mem/guest-memory.ts';
import type { TraceBus } from '../trace/bus.ts';

/** Bytes watched: vcpu_info[0] up to the selector, then evtchn_pending[] and evtchn_mask[]. */
const WATCH_END = SharedInfo.evtchnMask + 512;

export class GuestBitWatch {
  private snapshot: Uint8Array | undefined;
  private gpa: number | undefined;

  constructor(
    private readonly domid: number,
    private readonly memory: GuestMemory,
    private readonly trace: TraceBus,
  ) {}

  /** Takes the page's current contents as known (after the hypervisor changed it). */
  absorb(sharedInfoGpa: number | undefined): void {
    this.gpa = sharedInfoGpa;
    this.snapshot = sharedInfoGpa === undefined ? undefined : this.memory.read(sharedInfoGpa, WATCH_END);
  }

  /** Emits what the guest changed since the last snapshot, then takes the new contents. */
  check(sharedInfoGpa: number | undefined): void {
    if (sharedInfoGpa !== this.gpa || this.snapshot === undefined || sharedInfoGpa === undefined) {
      this.absorb(sharedInfoGpa);
      return;
    }
    const now = this.memory.read(sharedInfoGpa, WATCH_END);
    if (!now) return;
    const old = this.snapshot;
    for (let i = 0; i < WATCH_END; i++) {
      if (old[i] !== now[i]) this.report(i, old[i], now[i]);
    }
    this.snapshot = now;
  }

  private report(offset: number, was: number, is: number): void {
    if (offset === VcpuInfo.upcallPending) {
      this.emit(0, is ? 'guest_set_upcall_pending' : 'guest_clear_upcall_pending', { vcpu: 0 });
      return;
    }
    if (offset === VcpuInfo.upcallMask) {
      this.emit(0, is ? 'guest_set_upcall_mask' : 'guest_clear_upcall_mask', { vcpu: 0 });
      return;
    }
    const perBit = (what: string, first: number, byteIndex: number, selector: boolean) => {
      for (let b = 0; b < 8; b++) {
        const m = 1 << b;
        if ((was & m) === (is & m)) continue;
        const n = first + byteIndex * 8 + b;
        const set = (is & m) !== 0;
        if (selector) this.emit(0, `guest_${set ? 'set' : 'clear'}_selector`, { vcpu: 0, word: n });
        else this.emit(n, `guest_${set ? 'set' : 'clear'}_${what}`);
      }
    };
    if (offset >= VcpuInfo.pendingSel && offset < VcpuInfo.pendingSel + 8) perBit('selector', 0, offset - VcpuInfo.pendingSel, true);
    else if (offset >= SharedInfo.evtchnPending && offset < SharedInfo.evtchnMask) perBit('pending', 0, offset - SharedInfo.evtchnPending, false);
    else if (offset >= SharedInfo.evtchnMask && offset < WATCH_END) perBit('mask', 0, offset - SharedInfo.evtchnMask, false);
  }

  private emit(port: number, change: string, fields?: Record<string, number>): void {
    this.trace.emit({ kind: 'evtchn', domid: this.domid, port, change, fields });
  }
}
