/**
 * HYPERVISOR_grant_table_op(cmd, uop, count) as Xen 4.17 answers it on Arm: copy in, model
 * (grant-tables.ts), copy out. Arrays (map, unmap, copy) are handled op by op: each element is
 * copied in, done, and copied back before the next, so an unreadable element ends the batch
 * with -EFAULT after the ones before it took effect. Per-op failures are GNTST_* codes in the
 * element's `status`; the call itself then still returns 0.
 */
import { Errno } from '../errno.ts';
import type { HypercallCtx, HypercallHandler } from '../hypercall.ts';
import { handle, readStruct, writeFields, type Decoded, type FieldMap, type StructLayout } from '../evtchn/codec.ts';
import type { GrantTables } from './grant-tables.ts';
import {
  GNTST,
  GNTTABOP,
  GNTTABOP_CMD_MASK,
  GnttabCopy,
  GnttabGetVersion,
  GnttabMapGrantRef,
  GnttabQuerySize,
  GnttabSetVersion,
  GnttabSetupTable,
  GnttabUnmapGrantRef,
  gnttabOpName,
  gntstName,
  st16,
} from './layout.ts';

export function grantTableOp(g: GrantTables): HypercallHandler {
  return (ctx, a) => {
    const cmdFull = BigInt.asUintN(64, a[0] ?? 0n);
    const cmd = Number(cmdFull & GNTTABOP_CMD_MASK);
    const uop = handle(a[1]);
    const count = Number(BigInt.asUintN(32, a[2] ?? 0n));
    const me = ctx.domain;
    ctx.op = gnttabOpName(cmd);
    ctx.args = { count };

    // (int)count < 0
    if ((count | 0) < 0) return -Errno.EINVAL;
    // Continuation bits are only meaningful for cache_flush; a guest setting them is refused.
    if (cmdFull >> 12n !== 0n && cmd !== GNTTABOP.cache_flush) return -Errno.EINVAL;

    switch (cmd) {
      case GNTTABOP.query_size: {
        if (count !== 1) return -Errno.EINVAL;
        const s = readStruct(ctx.guest, uop, GnttabQuerySize);
        if (!s) return -Errno.EFAULT;
        const r = g.querySize(me, s.dom);
        ctx.args = { dom: s.dom };
        const out: { nr_frames?: number; max_nr_frames?: number; status: number } = { status: st16(r.status) };
        ctx.out = { status: gntstName(r.status) };
        if (r.nrFrames !== undefined) {
          out.nr_frames = ctx.out.nr_frames = r.nrFrames;
          out.max_nr_frames = ctx.out.max_nr_frames = r.maxFrames!;
        }
        return writeFields(ctx.guest, uop, GnttabQuerySize, out) ? 0 : -Errno.EFAULT;
      }
      case GNTTABOP.setup_table: {
        if (count !== 1) return -Errno.EINVAL;
        const s = readStruct(ctx.guest, uop, GnttabSetupTable);
        if (!s) return -Errno.EFAULT;
        ctx.args = { dom: s.dom, nr_frames: s.nr_frames };
        const r = g.setupTable(me, s.dom, s.nr_frames);
        let status = r.status;
        const word = new Uint8Array(8);
        const v = new DataView(word.buffer);
        for (let i = 0; i < r.gfns.length; i++) {
          v.setBigUint64(0, r.gfns[i], true);
          if (!ctx.guest.copyTo(s.frame_list + BigInt(i * 8), word)) status = GNTST.bad_virt_addr;
        }
        ctx.out = { status: gntstName(status) };
        // Only the status field goes back (__copy_field_to_guest).
        const st = new Uint8Array(2);
        new DataView(st.buffer).setUint16(0, st16(status), true);
        return ctx.guest.copyTo(uop + 8n, st) ? 0 : -Errno.EFAULT;
      }
      case GNTTABOP.set_version: {
        if (count !== 1) return -Errno.EINVAL;
        const s = readStruct(ctx.guest, uop, GnttabSetVersion);
        if (!s) return -Errno.EFAULT;
        ctx.args = { version: s.version };
        const r = g.setVersion(me, s.version);
        ctx.out = { version: r.version };
        return writeFields(ctx.guest, uop, GnttabSetVersion, { version: r.version }) ? r.rc : -Errno.EFAULT;
      }
      case GNTTABOP.get_version: {
        if (count !== 1) return -Errno.EINVAL;
        const s = readStruct(ctx.guest, uop, GnttabGetVersion);
        if (!s) return -Errno.EFAULT;
        ctx.args = { dom: s.dom };
        const r = g.getVersion(me, s.dom);
        if (!r.ok) return -Errno[r.error];
        ctx.out = { version: r.version };
        return writeFields(ctx.guest, uop, GnttabGetVersion, { version: r.version }) ? 0 : -Errno.EFAULT;
      }
      case GNTTABOP.map_grant_ref:
        return eachOp(ctx, uop, count, GnttabMapGrantRef, (s, first) => {
          const r = g.mapGrantRef(me, { hostAddr: s.host_addr, flags: s.flags, ref: s.ref, dom: s.dom });
          if (first) {
            ctx.args = { count, dom: s.dom, ref: s.ref, flags: s.flags, host_addr: s.host_addr };
            ctx.out = r.handle !== undefined ? { status: gntstName(r.status), handle: r.handle } : { status: gntstName(r.status) };
          }
          return r.handle !== undefined ? { status: st16(r.status), handle: r.handle, dev_bus_addr: 0n } : { status: st16(r.status) };
        });
      case GNTTABOP.unmap_grant_ref:
        return eachOp(ctx, uop, count, GnttabUnmapGrantRef, (s, first) => {
          const status = g.unmapGrantRef(me, s.host_addr, s.handle);
          if (first) {
            ctx.args = { count, handle: s.handle, host_addr: s.host_addr };
            ctx.out = { status: gntstName(status) };
          }
          return { status: st16(status) };
        });
      case GNTTABOP.copy:
        return eachOp(ctx, uop, count, GnttabCopy, (s, first) => {
          const status = g.copy(
            me,
            { ref: s.src_ref, gmfn: s.src_gmfn, domid: s.src_domid, offset: s.src_offset },
            { ref: s.dst_ref, gmfn: s.dst_gmfn, domid: s.dst_domid, offset: s.dst_offset },
            s.len,
            s.flags,
          );
          if (first) {
            ctx.args = { count, src_dom: s.src_domid, dst_dom: s.dst_domid, len: s.len, flags: s.flags };
            ctx.out = { status: gntstName(status) };
          }
          return { status: st16(status) };
        });
      default:
        // transfer, unmap_and_replace, get_status_frames, swap_grant_ref, dump_table,
        // cache_flush: not offered here.
        return -Errno.ENOSYS;
    }
  };
}

/**
 * An array op (map, unmap, copy), element by element: copy element i in, do it (`op` answers
 * the fields to copy back), copy it out, then the next. An element that cannot be read or
 * written ends the batch with -EFAULT; the ones before it stay done. `first` marks element 0,
 * whose arguments and results the trace shows.
 */
function eachOp<F extends FieldMap>(
  ctx: HypercallCtx,
  uop: bigint,
  count: number,
  l: StructLayout<F>,
  op: (s: Decoded<F>, first: boolean) => Partial<Decoded<F>>,
): number {
  for (let i = 0; i < count; i++) {
    const at = uop + BigInt(i * l.size);
    const s = readStruct(ctx.guest, at, l);
    if (!s) return -Errno.EFAULT;
    if (!writeFields(ctx.guest, at, l, op(s, i === 0))) return -Errno.EFAULT;
  }
  return 0;
}
