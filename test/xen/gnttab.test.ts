// Grant tables v1 (src/xen/gnttab) without a CPU: the model and the hypercall edge, on plain
// memory. The firmware app gnttab-share checks the same against the real Xen 4.17
// (test/golden/gnttab-share.*); these cases pin what a guest cannot easily observe there.
import { describe, expect, it } from 'vitest';
import { DOMID_SELF, Hypercall } from '../../src/xen/abi.ts';
import { Errno } from '../../src/xen/errno.ts';
import { GNTMAP, GNTST, GNTTABOP, GTF } from '../../src/xen/gnttab/layout.ts';
import { HVM_PARAM } from '../../src/xen/ops/hvm-op.ts';
import type { ForeignPhysmap } from '../../src/xen/domain.ts';
import { ARG, RAM_BASE, makeDomain, rig } from './helpers.ts';

const GT = Hypercall.grant_table_op;
/** A fake stage 2 beside RAM: what is mapped where. */
function physmap(): ForeignPhysmap & { pages: Map<bigint, { bytes: Uint8Array; writable: boolean }> } {
  const pages = new Map<bigint, { bytes: Uint8Array; writable: boolean }>();
  return {
    pages,
    map(gpa, bytes, writable) {
      if (gpa >= BigInt(RAM_BASE) && gpa < BigInt(RAM_BASE + (1 << 20))) return 'RAM is there';
      if (pages.has(gpa)) return 'already mapped';
      pages.set(gpa, { bytes, writable });
      return undefined;
    },
    unmap(gpa) {
      return pages.delete(gpa) ? undefined : 'nothing there';
    },
  };
}

function setup(xsm: 'dummy' | 'silo' = 'dummy') {
  const r = rig({ xsm });
  const pm = r.doms.map(() => physmap());
  r.doms.forEach((d, i) => ((d as { physmap?: ForeignPhysmap }).physmap = pm[i]));
  const g = r.xen.gnttab;
  const [d1, d2] = r.doms;
  // d1 grants its page at RAM_BASE + 0x10000 to d2 as ref 8 (writable) and ref 9 (read-only).
  const t1 = g.table(d1);
  const entry = (ref: number, flags: number, domid: number, frame: number) => {
    const v = new DataView(t1.shared.buffer, ref * 8, 8);
    v.setUint16(2, domid, true);
    v.setUint32(4, frame, true);
    v.setUint16(0, flags, true);
  };
  const frame = (RAM_BASE + 0x10000) / 4096;
  entry(8, GTF.permit_access, 2, frame);
  entry(9, GTF.permit_access | GTF.readonly, 2, frame + 1);
  d1.memory.write(RAM_BASE + 0x10000, new TextEncoder().encode('shared!'));
  return { r, g, d1, d2, t1, pm };
}

describe('grant tables v1', () => {
  it('a table starts at version 1 with 1 of 64 frames; set_version 2 is -ENOSYS on Arm', () => {
    const { g, d1 } = setup();
    expect(g.getVersion(d1, DOMID_SELF)).toEqual({ ok: true, version: 1 });
    expect(g.querySize(d1, DOMID_SELF)).toEqual({ status: GNTST.okay, nrFrames: 1, maxFrames: 64 });
    expect(g.setVersion(d1, 2)).toEqual({ rc: -Errno.ENOSYS, version: 1 });
    expect(g.setVersion(d1, 0)).toEqual({ rc: -Errno.EINVAL, version: 1 });
    expect(g.querySize(d1, 2).status).toBe(GNTST.permission_denied);
    expect(g.querySize(d1, 99).status).toBe(GNTST.bad_domain);
  });

  it('frames appear where the guest puts them, move when put elsewhere, and grow the table', () => {
    const { g, d1, pm, t1 } = setup();
    expect(g.setupTable(d1, DOMID_SELF, 1).gfns).toEqual([0xffff_ffff_ffff_ffffn]);
    expect(g.mapFrame(d1, 0n, 0x38000n)).toBeNull();
    expect(pm[0].pages.get(0x3800_0000n)?.bytes.buffer).toBe(t1.shared.buffer);
    expect(g.mapFrame(d1, 0n, 0x38010n)).toBeNull();
    expect([...pm[0].pages.keys()]).toEqual([0x3801_0000n]);
    expect(g.mapFrame(d1, 3n, 0x38003n)).toBeNull();
    expect(t1.nrFrames).toBe(4);
    expect(g.mapFrame(d1, 64n, 0x38040n)).toBe('EINVAL');
    expect(g.mapFrame(d1, 1n << 31n, 0x38040n)).toBe('EINVAL');
    // Over RAM: this emulator cannot replace a RAM page (Xen would).
    expect(g.mapFrame(d1, 1n, BigInt(RAM_BASE) >> 12n)).toBe('EINVAL');
    expect(g.setupTable(d1, DOMID_SELF, 65).status).toBe(GNTST.general_error);
    // XENMEM_remove_from_physmap takes a frame out again.
    expect(g.unmapFrameAt(d1, 0x38010n)).toBe(true);
    expect(g.unmapFrameAt(d1, 0x38010n)).toBe(false);
    expect(g.setupTable(d1, DOMID_SELF, 1).gfns).toEqual([0xffff_ffff_ffff_ffffn]);
  });

  it('map pins the entry (GTF_reading/writing), unmap unpins it; the page is the granter\'s RAM', () => {
    const { g, d1, d2, t1, pm } = setup();
    const m = g.mapGrantRef(d2, { hostAddr: 0x5000_0000n, flags: GNTMAP.host_map, ref: 8, dom: 1 });
    expect(m).toEqual({ status: GNTST.okay, handle: 0 });
    expect(t1.entryFlags(8)).toBe(GTF.permit_access | GTF.reading | GTF.writing);
    const page = pm[1].pages.get(0x5000_0000n)!;
    expect(page.writable).toBe(true);
    expect(new TextDecoder().decode(page.bytes.subarray(0, 7))).toBe('shared!');
    page.bytes[100] = 42; // the grantee's store lands in the granter's RAM
    expect(d1.memory.readU8(RAM_BASE + 0x10000 + 100)).toBe(42);
    expect(g.unmapGrantRef(d2, 0x5000_0000n, m.handle!)).toBe(GNTST.okay);
    expect(t1.entryFlags(8)).toBe(GTF.permit_access);
    expect(pm[1].pages.size).toBe(0);
    expect(g.unmapGrantRef(d2, 0n, m.handle!)).toBe(GNTST.bad_handle);
    // host_addr 0: the handle and the pin go, the page stays where it was (as in Xen's p2m).
    const m2 = g.mapGrantRef(d2, { hostAddr: 0x5000_0000n, flags: GNTMAP.host_map | GNTMAP.readonly, ref: 8, dom: 1 });
    expect(m2.status).toBe(GNTST.okay);
    expect(t1.entryFlags(8)).toBe(GTF.permit_access | GTF.reading);
    expect(g.unmapGrantRef(d2, 0n, m2.handle!)).toBe(GNTST.okay);
    expect(t1.entryFlags(8)).toBe(GTF.permit_access);
    expect(pm[1].pages.get(0x5000_0000n)?.writable).toBe(false);
  });

  it('refuses what was not granted, in Xen\'s order, and hands out handles as Xen\'s free list does', () => {
    const { g, d1, d2 } = setup();
    const map = (ref: number, flags: number, dom = 1) => g.mapGrantRef(d2, { hostAddr: 0x5000_0000n, flags, ref, dom });
    expect(map(8, 0).status).toBe(GNTST.bad_gntref);
    expect(map(8, GNTMAP.host_map | GNTMAP.device_map).status).toBe(GNTST.general_error);
    expect(map(8, GNTMAP.host_map, DOMID_SELF).status).toBe(GNTST.bad_domain);
    expect(map(100000, GNTMAP.host_map).status).toBe(GNTST.bad_gntref); // handle 0 taken and given back
    expect(map(10, GNTMAP.host_map).status).toBe(GNTST.general_error); // 1
    expect(map(9, GNTMAP.host_map).status).toBe(GNTST.general_error); // 2: read-only grant
    expect(g.mapGrantRef(d1, { hostAddr: 0x5000_0000n, flags: GNTMAP.host_map, ref: 8, dom: 1 }).status).toBe(GNTST.general_error);
    expect(map(8, GNTMAP.host_map)).toEqual({ status: GNTST.okay, handle: 3 });
    expect(map(9, GNTMAP.host_map | GNTMAP.readonly).status).toBe(GNTST.general_error); // 0x50000000 is taken
  });

  it('copy: through grants of the other side, or the caller\'s own frames', () => {
    const { g, d1, d2 } = setup();
    const own = BigInt((RAM_BASE + 0x20000) / 4096);
    const side = (ref: number, gmfn: bigint, domid: number, offset = 0) => ({ ref, gmfn, domid, offset });
    expect(g.copy(d2, side(8, 0n, 1), side(0, own, DOMID_SELF), 7, 1)).toBe(GNTST.okay);
    expect(new TextDecoder().decode(d2.memory.read(RAM_BASE + 0x20000, 7))).toBe('shared!');
    expect(g.copy(d2, side(0, own, DOMID_SELF), side(9, 0n, 1), 4, 2)).toBe(GNTST.general_error);
    expect(g.copy(d2, side(0, own, DOMID_SELF), side(8, 0n, 1, 4090), 7, 2)).toBe(GNTST.bad_copy_arg);
    expect(g.copy(d2, side(0, own, DOMID_SELF), side(0, own, 1), 4, 0)).toBe(GNTST.permission_denied);
    expect(g.copy(d2, side(0, own, DOMID_SELF), side(8, 0n, 1, 100), 4, 2)).toBe(GNTST.okay);
    expect(d1.memory.readU32(RAM_BASE + 0x10000 + 100)).toBe(new DataView(new TextEncoder().encode('shar').buffer).getUint32(0, true));
  });

  it('silo: no maps or copies between two domUs', () => {
    const { g, d2 } = setup('silo');
    expect(g.mapGrantRef(d2, { hostAddr: 0x5000_0000n, flags: GNTMAP.host_map, ref: 8, dom: 1 }).status).toBe(GNTST.permission_denied);
    expect(g.copy(d2, { ref: 8, gmfn: 0n, domid: 1, offset: 0 }, { ref: 0, gmfn: 0x40020n, domid: DOMID_SELF, offset: 0 }, 4, 1)).toBe(GNTST.permission_denied);
  });

  it('the hypercall edge: count and pointer checks, unknown commands', () => {
    const { r } = setup();
    const m = r.doms[1].memory;
    m.writeU16(ARG, DOMID_SELF);
    expect(r.call(1, GT, GNTTABOP.query_size, ARG, 2)).toBe(-Errno.EINVAL);
    expect(r.call(1, GT, GNTTABOP.query_size, 0x10, 1)).toBe(-Errno.EFAULT);
    expect(r.call(1, GT, GNTTABOP.query_size, ARG, 1)).toBe(0);
    expect(m.readU32(ARG + 4)).toBe(1);
    expect(m.readU32(ARG + 8)).toBe(64);
    expect(r.call(1, GT, 13, ARG, 1)).toBe(-Errno.ENOSYS);
    expect(r.call(1, GT, GNTTABOP.query_size | 0x1000, ARG, 1)).toBe(-Errno.EINVAL);
    expect(r.call(1, GT, GNTTABOP.map_grant_ref, 0x10, 1)).toBe(-Errno.EFAULT);
    expect(r.call(1, GT, GNTTABOP.map_grant_ref, 0x10, 0)).toBe(0);
  });
});

describe('an enhanced domU\'s HVM params, vm_assist, physdev_op', () => {
  it('with a dom0: an unbound store channel towards it and STORE_PFN ~0; without: zeros', () => {
    const r = rig({ domains: 0 });
    const dom0 = makeDomain(0, { privileged: true });
    r.hv.addDomain(dom0);
    r.xen.createDomainState(dom0);
    const d1 = makeDomain(1);
    r.xen.createDomainState(d1, { enhanced: { xenstoreDomid: 0 } });
    r.hv.addDomain(d1);
    const ch = r.xen.evtchn.channel(1, 1);
    expect(ch?.binding).toEqual({ state: 'unbound', remoteDomid: 0 });
    const d2 = makeDomain(2);
    r.xen.createDomainState(d2, { enhanced: {} });
    r.hv.addDomain(d2);
    expect(r.xen.evtchn.channel(2, 1)?.binding.state ?? 'free').toBe('free');
    // HVMOP_get_param reads them back.
    const get = (i: number, index: number) => {
      const m = [d1, d2][i].memory;
      m.writeU16(ARG, DOMID_SELF);
      m.writeU32(ARG + 4, index);
      expect(r.hv.hypercall([d1, d2][i], [d1, d2][i].vcpus[0], Hypercall.hvm_op, [1n, BigInt(ARG)], 0).value).toBe(0);
      return m.readU64(ARG + 8);
    };
    expect(get(0, HVM_PARAM.STORE_EVTCHN)).toBe(1n);
    expect(get(0, HVM_PARAM.STORE_PFN)).toBe(0xffff_ffff_ffff_ffffn);
    expect(get(1, HVM_PARAM.STORE_EVTCHN)).toBe(0n);
    expect(get(1, HVM_PARAM.STORE_PFN)).toBe(0n);
  });

  it('vm_assist takes only runstate_update_flag on Arm; physdev_op is -ENOSYS', () => {
    const r = rig();
    expect(r.call(0, Hypercall.vm_assist, 0, 5)).toBe(0);
    expect(r.call(0, Hypercall.vm_assist, 1, 5)).toBe(0);
    expect(r.call(0, Hypercall.vm_assist, 0, 4)).toBe(-Errno.EINVAL);
    expect(r.call(0, Hypercall.vm_assist, 7, 5)).toBe(-Errno.ENOSYS);
    expect(r.call(0, Hypercall.physdev_op, 1, ARG)).toBe(-Errno.ENOSYS);
  });
});
