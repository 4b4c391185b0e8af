/**
 * Grant tables across domains: what each GNTTABOP does to the model, with Xen 4.17's checks in
 * Xen's order (xen/common/grant_table.c; Arm's create_grant_host_mapping). Results are the
 * per-op GNTST_* codes that Xen writes into the guest's struct; errno results are the
 * hypercall's own return value. Guest memory is reached only through the domains' RAM and
 * `physmap` (the machine's stage 2 beyond RAM).
 */
import { DOMID_SELF } from '../abi.ts';
import type { XenDomain } from '../domain.ts';
import { Errno, type ErrnoName } from '../errno.ts';
import type { Xsm } from '../ops/xsm.ts';
import { PAGE_SIZE, frameGpa } from '../evtchn/layout.ts';
import { GrantTable, type GrantMapping } from './grant-table.ts';
import { GNTCOPY, GNTMAP, GNTST, GTF } from './layout.ts';

const PAGE_SHIFT = 12n;

export interface MapOp {
  hostAddr: bigint;
  flags: number;
  ref: number;
  dom: number;
}
export interface CopySide {
  /** A grant reference (with GNTCOPY_{source,dest}_gref) or a frame of the caller. */
  ref: number;
  gmfn: bigint;
  domid: number;
  offset: number;
}

export class GrantTables {
  private readonly tables = new Map<number, GrantTable>();

  constructor(
    private readonly find: (domid: number) => XenDomain | undefined,
    private readonly xsm: Xsm,
  ) {}

  /** grant_table_init at domain creation. */
  create(d: XenDomain, maxFrames?: number): GrantTable {
    let t = this.tables.get(d.domid);
    if (!t) this.tables.set(d.domid, (t = new GrantTable(maxFrames)));
    return t;
  }

  table(d: XenDomain): GrantTable {
    return this.tables.get(d.domid) ?? this.create(d);
  }

  /** rcu_lock_domain_by_any_id */
  private any(caller: XenDomain, domid: number): XenDomain | undefined {
    return domid === DOMID_SELF ? caller : this.find(domid);
  }

  querySize(caller: XenDomain, domid: number): { status: number; nrFrames?: number; maxFrames?: number } {
    const d = this.any(caller, domid);
    if (!d) return { status: GNTST.bad_domain };
    if (this.xsm.target(caller, d)) return { status: GNTST.permission_denied };
    const t = this.table(d);
    return { status: GNTST.okay, nrFrames: t.nrFrames, maxFrames: t.maxFrames };
  }

  /** setup_table: grows the table to nr_frames and lists where each frame is (INVALID_GFN if nowhere). */
  setupTable(caller: XenDomain, domid: number, nrFrames: number): { status: number; gfns: bigint[] } {
    const d = this.any(caller, domid);
    if (!d) return { status: GNTST.bad_domain, gfns: [] };
    if (this.xsm.target(caller, d)) return { status: GNTST.permission_denied, gfns: [] };
    const t = this.table(d);
    if (nrFrames > t.maxFrames) return { status: GNTST.general_error, gfns: [] };
    if (nrFrames > t.nrFrames && !t.grow(nrFrames)) return { status: GNTST.general_error, gfns: [] };
    const gfns: bigint[] = [];
    for (let i = 0; i < nrFrames; i++) gfns.push(t.frameGfn[i] ?? 0xffff_ffff_ffff_ffffn);
    return { status: GNTST.okay, gfns };
  }

  /** set_version: Arm offers version 1 only; answers the errno and the version now in force. */
  setVersion(caller: XenDomain, version: number): { rc: number; version: number } {
    const t = this.table(caller);
    let rc = 0;
    if (version !== 1 && version !== 2) rc = -Errno.EINVAL;
    else if (version === 2) rc = -Errno.ENOSYS; // gt->max_version is 1 on Arm
    else if (t.version !== 1) t.version = 1;
    return { rc, version: t.version };
  }

  getVersion(caller: XenDomain, domid: number): { ok: true; version: number } | { ok: false; error: ErrnoName } {
    const d = this.any(caller, domid);
    if (!d) return { ok: false, error: 'ESRCH' };
    const denied = this.xsm.target(caller, d);
    if (denied) return { ok: false, error: denied };
    return { ok: true, version: this.table(d).version };
  }

  /**
   * XENMAPSPACE_grant_table (gnttab_map_frame, Arm's add_to_physmap_one): frame `idx` of d's
   * table appears at `gpfn`, leaving the place it had before. Status frames (bit 31) exist only
   * for version 2: -EINVAL.
   */
  mapFrame(d: XenDomain, idx: bigint, gpfn: bigint): ErrnoName | null {
    const t = this.table(d);
    if (idx & (1n << 31n)) return 'EINVAL';
    if (idx >= BigInt(t.nrFrames) && idx < BigInt(t.maxFrames)) t.grow(Number(idx) + 1);
    if (idx >= BigInt(t.nrFrames)) return 'EINVAL';
    const i = Number(idx);
    const gpa = gpfn << PAGE_SHIFT;
    if (t.frameGfn[i] === gpfn) return null;
    if (d.physmap) {
      const old = t.frameGfn[i];
      if (old !== undefined) d.physmap.unmap(old << PAGE_SHIFT, PAGE_SIZE);
      // Only where the domain has nothing yet: this emulator cannot punch a hole in its RAM.
      if (d.physmap.map(gpa, t.frame(i), true) !== undefined) {
        t.frameGfn[i] = undefined;
        return 'EINVAL';
      }
    }
    t.frameGfn[i] = gpfn;
    return null;
  }

  /** XENMEM_remove_from_physmap of a page where one of d's grant frames is: the frame leaves. */
  unmapFrameAt(d: XenDomain, gpfn: bigint): boolean {
    const t = this.table(d);
    const i = t.frameGfn.indexOf(gpfn);
    if (i < 0) return false;
    d.physmap?.unmap(gpfn << PAGE_SHIFT, PAGE_SIZE);
    t.frameGfn[i] = undefined;
    return true;
  }

  /**
   * GNTTABOP_map_grant_ref (map_grant_ref): the status, and the handle on success. The order
   * is Xen's: flags, the granting domain (by id: DOMID_SELF is no domain here), XSM, a maptrack
   * handle (given back on any later failure), the ref, the entry, the frame, the mapping.
   */
  mapGrantRef(ld: XenDomain, op: MapOp): { status: number; handle?: number } {
    if ((op.flags & (GNTMAP.device_map | GNTMAP.host_map)) === 0) return { status: GNTST.bad_gntref };
    // A translated (every Arm) domain has no device or PTE mappings.
    if (op.flags & (GNTMAP.device_map | GNTMAP.application_map | GNTMAP.contains_pte)) return { status: GNTST.general_error };
    const rd = this.find(op.dom);
    if (!rd || rd.dying) return { status: GNTST.bad_domain };
    if (this.xsm.grant(ld, ld, rd)) return { status: GNTST.permission_denied };
    const lgt = this.table(ld);
    const handle = lgt.takeHandle();
    if (handle === undefined) return { status: GNTST.no_space };
    const r = this.pinForMap(ld, rd, op);
    if (r.status !== GNTST.okay) {
      lgt.putHandle(handle);
      return { status: r.status };
    }
    lgt.maptrack[handle] = r.mapping!;
    return { status: GNTST.okay, handle };
  }

  private pinForMap(ld: XenDomain, rd: XenDomain, op: MapOp): { status: number; mapping?: GrantMapping } {
    const rgt = this.table(rd);
    const readonly = (op.flags & GNTMAP.readonly) !== 0;
    if (op.ref >= rgt.nrEntries) return { status: GNTST.bad_gntref };
    const act = rgt.active.get(op.ref);
    const pinned = act !== undefined && act.pinRead + act.pinWrite > 0;
    if (pinned && act.domid !== ld.domid) return { status: GNTST.general_error };
    let frame: number;
    let newlyFlagged = 0;
    if (!pinned || (!readonly && act.pinWrite === 0)) {
      // _set_status_v1: the entry must permit access to this very domain, writably if asked.
      const flags = rgt.entryFlags(op.ref);
      if ((flags & (GTF.type_mask | GTF.sub_page)) !== GTF.permit_access || rgt.entryDomid(op.ref) !== ld.domid) {
        return { status: GNTST.general_error };
      }
      if (!readonly && flags & GTF.readonly) return { status: GNTST.general_error };
      newlyFlagged = (GTF.reading | (readonly ? 0 : GTF.writing)) & ~flags;
      frame = pinned ? act.frame : rgt.entryFrame(op.ref);
    } else {
      frame = act.frame;
    }
    // get_paged_frame: the granted frame must be RAM of the granting domain.
    const off = rd.memory.offsetOf(frameGpa(BigInt(frame)), PAGE_SIZE);
    if (off < 0) return { status: GNTST.bad_page };
    // create_grant_host_mapping: the page appears at host_addr in the mapping domain.
    const hostPage = (op.hostAddr >> PAGE_SHIFT) << PAGE_SHIFT;
    if (ld.physmap && ld.physmap.map(hostPage, rd.memory.bytes.subarray(off, off + PAGE_SIZE), !readonly) !== undefined) {
      return { status: GNTST.general_error };
    }
    rgt.setEntryFlags(op.ref, rgt.entryFlags(op.ref) | newlyFlagged);
    const a = pinned ? act : { pinRead: 0, pinWrite: 0, domid: ld.domid, frame };
    if (readonly) a.pinRead++;
    else a.pinWrite++;
    rgt.active.set(op.ref, a);
    return { status: GNTST.okay, mapping: { domid: rd.domid, ref: op.ref, readonly, hostAddr: hostPage } };
  }

  /** GNTTABOP_unmap_grant_ref (unmap_common): drops the mapping and its pin. */
  unmapGrantRef(ld: XenDomain, hostAddr: bigint, handle: number): number {
    const lgt = this.table(ld);
    const m = handle < lgt.maptrack.length ? lgt.maptrack[handle] : undefined;
    if (!m) return GNTST.bad_handle;
    const rd = this.find(m.domid);
    if (!rd) return GNTST.bad_domain;
    if (this.xsm.grant(ld, ld, rd)) return GNTST.permission_denied;
    // replace_grant_host_mapping: host_addr must be where this handle's page is. With host_addr
    // 0 Xen releases the handle and the pin but leaves the page in the p2m; so does this.
    if (hostAddr !== 0n && (hostAddr >> PAGE_SHIFT) << PAGE_SHIFT !== m.hostAddr) return GNTST.general_error;
    if (hostAddr !== 0n) ld.physmap?.unmap(m.hostAddr, PAGE_SIZE);
    lgt.putHandle(handle);
    const rgt = this.table(rd);
    const act = rgt.active.get(m.ref);
    if (act) {
      if (m.readonly) act.pinRead--;
      else act.pinWrite--;
      let flags = rgt.entryFlags(m.ref);
      if (act.pinWrite === 0) flags &= ~GTF.writing;
      if (act.pinRead + act.pinWrite === 0) {
        flags &= ~GTF.reading;
        rgt.active.delete(m.ref);
      }
      rgt.setEntryFlags(m.ref, flags);
    }
    return GNTST.okay;
  }

  /**
   * GNTTABOP_copy (gnttab_copy_one): `len` bytes from source to dest, each side a grant
   * reference of another domain (granted to the caller; the source may be read-only) or a
   * frame of the caller's own (DOMID_SELF only). Xen's order, which the real Xen confirms
   * under silo: both domains (frame without gref and not DOMID_SELF: permission_denied; no such
   * domain: bad_domain), XSM, the source's and the dest's grant, then the bounds (bad_copy_arg).
   */
  copy(caller: XenDomain, src: CopySide, dst: CopySide, len: number, flags: number): number {
    const srcGref = (flags & GNTCOPY.source_gref) !== 0;
    const dstGref = (flags & GNTCOPY.dest_gref) !== 0;
    const lock = (side: CopySide, gref: boolean): XenDomain | number => {
      if (side.domid !== DOMID_SELF && !gref) return GNTST.permission_denied;
      return this.any(caller, side.domid) ?? GNTST.bad_domain;
    };
    const sd = lock(src, srcGref);
    if (typeof sd === 'number') return sd;
    const dd = lock(dst, dstGref);
    if (typeof dd === 'number') return dd;
    if (this.xsm.grant(caller, sd, dd)) return GNTST.permission_denied;
    const from = this.copyFrame(caller, sd, src, srcGref, true);
    if (from < 0) return from;
    const to = this.copyFrame(caller, dd, dst, dstGref, false);
    if (to < 0) return to;
    if (src.offset + len > PAGE_SIZE || dst.offset + len > PAGE_SIZE) return GNTST.bad_copy_arg;
    dd.memory.bytes.set(sd.memory.bytes.slice(from + src.offset, from + src.offset + len), to + dst.offset);
    return GNTST.okay;
  }

  /** The host offset of one side's page in its domain's RAM, or a GNTST code. */
  private copyFrame(caller: XenDomain, d: XenDomain, side: CopySide, gref: boolean, readOnly: boolean): number {
    let gfn: bigint;
    if (gref) {
      const t = this.table(d);
      if (side.ref >= t.nrEntries) return GNTST.bad_gntref;
      const f = t.entryFlags(side.ref);
      if ((f & (GTF.type_mask | GTF.sub_page)) !== GTF.permit_access || t.entryDomid(side.ref) !== caller.domid) return GNTST.general_error;
      if (!readOnly && f & GTF.readonly) return GNTST.general_error;
      gfn = BigInt(t.entryFrame(side.ref));
    } else {
      gfn = side.gmfn;
    }
    const off = d.memory.offsetOf(frameGpa(gfn), PAGE_SIZE);
    return off < 0 ? GNTST.bad_page : off;
  }
}
