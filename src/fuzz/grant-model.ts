import { GNTCOPY, GNTMAP, GNTST, GTF } from '../xen/gnttab/layout.ts';
import { FUZZ_RAM_BASE, FUZZ_RAM_SIZE, overRam } from './world.ts';

/*
 * The fuzzer's reference for grant tables (version 1, as Xen 4.17 on Arm answers; facts from
 * xen/include/public/grant_table.h and src/xen/gnttab/README.md, which the real Xen confirmed):
 * a shadow of each domain's grant frames (Xen's memory, written by the guest and by Xen's
 * GTF_reading/GTF_writing), its pins, its maptrack handles and the foreign pages mapped into
 * each domain. Nothing is shared with src/xen/gnttab: the campaign compares the two.
 */

const PAGE = 4096;
const ENTRY = 8;
const ENTRIES_PER_FRAME = PAGE / ENTRY;
export const MAX_GRANT_FRAMES = 64;
const HANDLES_PER_PAGE = 256;
const DOMID_SELF = 0x7ff0;
/** Where the fuzzer's guests map granted pages: outside every domain's RAM. */
export const GRANT_MAP_BASE = 0x5000_0000;

interface Pin {
  read: number;
  write: number;
  domid: number;
  frame: number;
}
export interface ModelMapping {
  domid: number;
  ref: number;
  readonly: boolean;
  hostPage: bigint;
}
/** A foreign page in a domain's physmap: whose RAM, at which offset, writable or not. */
export interface ForeignPage {
  domid: number;
  off: number;
  writable: boolean;
}

export interface GrantDom {
  readonly domid: number;
  readonly privileged: boolean;
  readonly table: Uint8Array;
  nrFrames: number;
  readonly pins: Map<number, Pin>;
  readonly maptrack: (ModelMapping | undefined)[];
  readonly free: number[];
  readonly foreign: Map<bigint, ForeignPage>;
}

export interface MapArgs {
  hostAddr: bigint;
  flags: number;
  ref: number;
  dom: number;
}
export interface CopySideArgs {
  ref: number;
  gmfn: bigint;
  domid: number;
  offset: number;
}

export class GrantModel {
  readonly doms = new Map<number, GrantDom>();

  constructor(
    domains: { domid: number; privileged: boolean }[],
    private readonly silo: boolean,
    /** Shadow RAM of a domain (the event model's shadow). */
    private readonly ram: (domid: number) => Uint8Array,
    /** Pages of a domain's stage 2 beyond RAM that the model did not map (grant frames). */
    private readonly otherwiseTaken: (domid: number, page: bigint) => boolean,
  ) {
    for (const d of domains) {
      this.doms.set(d.domid, { domid: d.domid, privileged: d.privileged, table: new Uint8Array(MAX_GRANT_FRAMES * PAGE), nrFrames: 1, pins: new Map(), maptrack: [], free: [], foreign: new Map() });
    }
  }

  private siloDenies(caller: GrantDom, a: GrantDom, b: GrantDom): boolean {
    return this.silo && !(caller.privileged || a.privileged || b.privileged || a === b);
  }

  private flags(g: GrantDom, ref: number): number {
    return g.table[ref * ENTRY] | (g.table[ref * ENTRY + 1] << 8);
  }
  private setFlags(g: GrantDom, ref: number, f: number): void {
    g.table[ref * ENTRY] = f & 0xff;
    g.table[ref * ENTRY + 1] = (f >> 8) & 0xff;
  }
  private entryDomid(g: GrantDom, ref: number): number {
    return g.table[ref * ENTRY + 2] | (g.table[ref * ENTRY + 3] << 8);
  }
  private entryFrame(g: GrantDom, ref: number): number {
    const o = ref * ENTRY + 4;
    return (g.table[o] | (g.table[o + 1] << 8) | (g.table[o + 2] << 16) | (g.table[o + 3] << 24)) >>> 0;
  }
  /** The entry grants access to `to` (writably unless `ro`): a plain permit_access v1 entry. */
  private permits(g: GrantDom, ref: number, to: number, ro: boolean): boolean {
    const f = this.flags(g, ref);
    if ((f & (GTF.type_mask | GTF.sub_page)) !== GTF.permit_access || this.entryDomid(g, ref) !== to) return false;
    return ro || (f & GTF.readonly) === 0;
  }
  /** Offset of a frame in the domain's RAM, or -1. */
  private ramOffset(frame: bigint): number {
    const off = frame * BigInt(PAGE) - BigInt(FUZZ_RAM_BASE);
    return off >= 0n && off + BigInt(PAGE) <= BigInt(FUZZ_RAM_SIZE) ? Number(off) : -1;
  }

  private takeHandle(g: GrantDom): number | undefined {
    if (g.free.length <= 1) {
      const n = g.maptrack.length;
      if (n >= 1024 * HANDLES_PER_PAGE) return undefined;
      for (let i = 0; i < HANDLES_PER_PAGE; i++) {
        g.maptrack.push(undefined);
        g.free.push(n + i);
      }
    }
    return g.free.shift();
  }
  private putHandle(g: GrantDom, h: number): void {
    g.maptrack[h] = undefined;
    g.free.push(h);
  }

  querySize(caller: number, dom: number): { status: number; nr?: number } {
    const me = this.doms.get(caller)!;
    const d = this.doms.get(dom === DOMID_SELF ? caller : dom);
    if (!d) return { status: GNTST.bad_domain };
    if (d !== me && !me.privileged) return { status: GNTST.permission_denied };
    return { status: GNTST.okay, nr: d.nrFrames };
  }

  /** setup_table: the status before the frame list is written; grows the table. */
  setupTable(caller: number, dom: number, nr: number): number {
    const q = this.querySize(caller, dom);
    if (q.status !== GNTST.okay) return q.status;
    const d = this.doms.get(dom === DOMID_SELF ? caller : dom)!;
    if (nr > MAX_GRANT_FRAMES) return GNTST.general_error;
    if (nr > d.nrFrames) d.nrFrames = nr;
    return GNTST.okay;
  }

  /** GNTTABOP_map_grant_ref for one element: its status and handle. */
  map(caller: number, op: MapArgs): { status: number; handle?: number } {
    if ((op.flags & (GNTMAP.device_map | GNTMAP.host_map)) === 0) return { status: GNTST.bad_gntref };
    if (op.flags & (GNTMAP.device_map | GNTMAP.application_map | GNTMAP.contains_pte)) return { status: GNTST.general_error };
    const ld = this.doms.get(caller)!;
    const rd = this.doms.get(op.dom);
    if (!rd) return { status: GNTST.bad_domain };
    if (this.siloDenies(ld, ld, rd)) return { status: GNTST.permission_denied };
    const handle = this.takeHandle(ld);
    if (handle === undefined) return { status: GNTST.no_space };
    const fail = (status: number) => {
      this.putHandle(ld, handle);
      return { status };
    };
    const ro = (op.flags & GNTMAP.readonly) !== 0;
    if (op.ref >= rd.nrFrames * ENTRIES_PER_FRAME) return fail(GNTST.bad_gntref);
    const pin = rd.pins.get(op.ref);
    const pinned = pin !== undefined && pin.read + pin.write > 0;
    if (pinned && pin.domid !== caller) return fail(GNTST.general_error);
    let frame: number;
    let add = 0;
    if (!pinned || (!ro && pin.write === 0)) {
      if (!this.permits(rd, op.ref, caller, ro)) return fail(GNTST.general_error);
      add = (GTF.reading | (ro ? 0 : GTF.writing)) & ~this.flags(rd, op.ref);
      frame = pinned ? pin.frame : this.entryFrame(rd, op.ref);
    } else frame = pin.frame;
    const off = this.ramOffset(BigInt(frame));
    if (off < 0) return fail(GNTST.bad_page);
    const hostPage = op.hostAddr & ~0xfffn;
    if (overRam(hostPage) || ld.foreign.has(hostPage) || this.otherwiseTaken(caller, hostPage)) return fail(GNTST.general_error);
    ld.foreign.set(hostPage, { domid: rd.domid, off, writable: !ro });
    this.setFlags(rd, op.ref, this.flags(rd, op.ref) | add);
    const p = pinned ? pin : { read: 0, write: 0, domid: caller, frame };
    if (ro) p.read++;
    else p.write++;
    rd.pins.set(op.ref, p);
    ld.maptrack[handle] = { domid: rd.domid, ref: op.ref, readonly: ro, hostPage };
    return { status: GNTST.okay, handle };
  }

  /** GNTTABOP_unmap_grant_ref for one element. */
  unmap(caller: number, hostAddr: bigint, handle: number): number {
    const ld = this.doms.get(caller)!;
    const m = handle < ld.maptrack.length ? ld.maptrack[handle] : undefined;
    if (!m) return GNTST.bad_handle;
    const rd = this.doms.get(m.domid)!;
    if (this.siloDenies(ld, ld, rd)) return GNTST.permission_denied;
    if (hostAddr !== 0n && (hostAddr & ~0xfffn) !== m.hostPage) return GNTST.general_error;
    // host_addr 0: the handle and the pin go, the page stays mapped (as Xen leaves its p2m).
    if (hostAddr !== 0n) ld.foreign.delete(m.hostPage);
    this.putHandle(ld, handle);
    const pin = rd.pins.get(m.ref);
    if (pin) {
      if (m.readonly) pin.read--;
      else pin.write--;
      let f = this.flags(rd, m.ref);
      if (pin.write === 0) f &= ~GTF.writing;
      if (pin.read + pin.write === 0) {
        f &= ~GTF.reading;
        rd.pins.delete(m.ref);
      }
      this.setFlags(rd, m.ref, f);
    }
    return GNTST.okay;
  }

  /** GNTTABOP_copy for one element: the status; on success the bytes move in the shadow RAM. */
  copy(caller: number, src: CopySideArgs, dst: CopySideArgs, len: number, flags: number): number {
    const me = this.doms.get(caller)!;
    const srcGref = (flags & GNTCOPY.source_gref) !== 0;
    const dstGref = (flags & GNTCOPY.dest_gref) !== 0;
    const side = (s: CopySideArgs, gref: boolean): GrantDom | number => {
      if (s.domid !== DOMID_SELF && !gref) return GNTST.permission_denied;
      return this.doms.get(s.domid === DOMID_SELF ? caller : s.domid) ?? GNTST.bad_domain;
    };
    const sd = side(src, srcGref);
    if (typeof sd === 'number') return sd;
    const dd = side(dst, dstGref);
    if (typeof dd === 'number') return dd;
    if (this.siloDenies(me, sd, dd)) return GNTST.permission_denied;
    const page = (d: GrantDom, s: CopySideArgs, gref: boolean, ro: boolean): number => {
      let frame = s.gmfn;
      if (gref) {
        if (s.ref >= d.nrFrames * ENTRIES_PER_FRAME) return GNTST.bad_gntref;
        if (!this.permits(d, s.ref, caller, ro)) return GNTST.general_error;
        frame = BigInt(this.entryFrame(d, s.ref));
      }
      const off = this.ramOffset(frame);
      return off < 0 ? GNTST.bad_page : off;
    };
    const from = page(sd, src, srcGref, true);
    if (from < 0) return from;
    const to = page(dd, dst, dstGref, false);
    if (to < 0) return to;
    if (src.offset + len > PAGE || dst.offset + len > PAGE) return GNTST.bad_copy_arg;
    const bytes = this.ram(sd.domid).slice(from + src.offset, from + src.offset + len);
    this.ram(dd.domid).set(bytes, to + dst.offset);
    return GNTST.okay;
  }

  /** Entries of other domains (refs below `refs`) that grant `to` access: what a guest would map. */
  grantsTo(to: number, refs: number): { domid: number; ref: number; readonly: boolean }[] {
    const out: { domid: number; ref: number; readonly: boolean }[] = [];
    for (const g of this.doms.values()) {
      for (let ref = 0; ref < refs; ref++) {
        if (this.permits(g, ref, to, true)) out.push({ domid: g.domid, ref, readonly: (this.flags(g, ref) & GTF.readonly) !== 0 });
      }
    }
    return out;
  }
}
