import { Errno } from '../errno.ts';
import type { HypercallHandler } from '../hypercall.ts';
import { handle, layout, readStruct } from '../evtchn/codec.ts';
import { PAGE_SHIFT, PAGE_SIZE, frameGpa } from '../evtchn/layout.ts';
import { anyDomain, type XenOpsContext } from './context.ts';

/** XENMEM_* (public/memory.h). The low 6 bits of the command are the op, the rest a continuation index. */
export const XENMEM = {
  increase_reservation: 0,
  decrease_reservation: 1,
  maximum_ram_page: 2,
  current_reservation: 3,
  maximum_reservation: 4,
  populate_physmap: 6,
  add_to_physmap: 7,
  maximum_gpfn: 14,
  remove_from_physmap: 15,
  add_to_physmap_batch: 23,
} as const;
const MEMOP_EXTENT_SHIFT = 6n;
const MEMOP_CMD_MASK = (1n << MEMOP_EXTENT_SHIFT) - 1n;

export const XENMAPSPACE = {
  shared_info: 0,
  grant_table: 1,
  gmfn: 2,
  gmfn_range: 3,
  gmfn_foreign: 4,
  dev_mmio: 5,
} as const;

/** struct xen_add_to_physmap: domid u16, size u16, space u32, idx xen_ulong_t, gpfn xen_pfn_t. */
export const XenAddToPhysmap = layout('xen_add_to_physmap', 24, {
  domid: [0, 'u16'],
  size: [2, 'u16'],
  space: [4, 'u32'],
  idx: [8, 'u64'],
  gpfn: [16, 'u64'],
});
/** struct xen_remove_from_physmap: domid u16, gpfn xen_pfn_t (at 8). */
export const XenRemoveFromPhysmap = layout('xen_remove_from_physmap', 16, {
  domid: [0, 'u16'],
  gpfn: [8, 'u64'],
});

const names = new Map<number, string>(Object.entries(XENMEM).map(([k, v]) => [v, `XENMEM_${k}`]));

/**
 * HYPERVISOR_memory_op: the two sub-ops a guest needs to see shared_info. Everything else
 * answers -ENOSYS (a divergence for the sub-ops real Xen implements; see the README).
 */
export function memoryOp(x: XenOpsContext): HypercallHandler {
  return (ctx, a) => {
    const cmd = BigInt.asUintN(64, a[0] ?? 0n);
    const op = Number(cmd & MEMOP_CMD_MASK);
    const startExtent = cmd >> MEMOP_EXTENT_SHIFT;
    const arg = handle(a[1]);
    ctx.op = names.get(op) ?? `XENMEM_${op}`;

    switch (op) {
      case XENMEM.add_to_physmap: {
        // The continuation index must fit xatp.size (u16).
        if (startExtent > 0xffffn) return -Errno.EDOM;
        const s = readStruct(ctx.guest, arg, XenAddToPhysmap);
        if (!s) return -Errno.EFAULT;
        ctx.args = { domid: s.domid, size: s.size, space: s.space, idx: s.idx, gpfn: s.gpfn };
        // Foreign mappings only go through add_to_physmap_batch.
        if (s.space === XENMAPSPACE.gmfn_foreign) return -Errno.ENOSYS;
        const d = anyDomain(x.hv, ctx.domain, s.domid);
        if (!d) return -Errno.ESRCH;
        if (s.space === XENMAPSPACE.dev_mmio && (!d.privileged || d !== ctx.domain)) return -Errno.EACCES;
        const denied = x.xsm.target(ctx.domain, d);
        if (denied) return -Errno[denied];
        switch (s.space) {
          case XENMAPSPACE.shared_info: {
            if (s.idx !== 0n) return -Errno.EINVAL;
            // Since 4.17 Xen refuses to map shared_info a second time until it is unmapped.
            if (d.sharedInfoGpa !== undefined) return -Errno.EBUSY;
            const target = frameGpa(s.gpfn);
            // Only guest RAM can back the page here (Xen could map it anywhere in the IPA space).
            if (!d.memory.contains(target, PAGE_SIZE)) return -Errno.EINVAL;
            x.evtchn.pages(d).map(target);
            ctx.out = { shared_info_gpa: target };
            return 0;
          }
          case XENMAPSPACE.grant_table: {
            // Frame idx of d's grant table at gpfn (outside RAM here; see gnttab/README.md).
            const e = x.gnttab.mapFrame(d, s.idx, s.gpfn);
            return e ? -Errno[e] : 0;
          }
          case XENMAPSPACE.gmfn_range:
            // Zero pages is a successful no-op; any page reaches Arm's unsupported-space answer.
            if (BigInt(s.size) < startExtent) return -Errno.EILSEQ;
            return BigInt(s.size) - startExtent === 0n ? 0 : -Errno.ENOSYS;
          default:
            // gmfn and unknown spaces: Arm has none.
            return -Errno.ENOSYS;
        }
      }
      case XENMEM.remove_from_physmap: {
        if (startExtent !== 0n) return -Errno.EINVAL;
        const s = readStruct(ctx.guest, arg, XenRemoveFromPhysmap);
        if (!s) return -Errno.EFAULT;
        ctx.args = { domid: s.domid, gpfn: s.gpfn };
        const d = anyDomain(x.hv, ctx.domain, s.domid);
        if (!d) return -Errno.ESRCH;
        const denied = x.xsm.target(ctx.domain, d);
        if (denied) return -Errno[denied];
        const target = s.gpfn << BigInt(PAGE_SHIFT);
        if (d.sharedInfoGpa !== undefined && BigInt(d.sharedInfoGpa) === target) {
          x.evtchn.pages(d).unmap();
          return 0;
        }
        if (x.gnttab.unmapFrameAt(d, s.gpfn)) return 0;
        if (d.memory.contains(frameGpa(s.gpfn), PAGE_SIZE)) {
          // A hole in plain RAM cannot be made in the shared host buffer.
          return -Errno.ENOSYS;
        }
        return -Errno.ENOENT;
      }
      default:
        ctx.args = { cmd: a[0] ?? 0n, arg: a[1] ?? 0n };
        return -Errno.ENOSYS;
    }
  };
}
