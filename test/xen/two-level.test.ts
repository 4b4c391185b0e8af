import { describe, expect, it } from 'vitest';
import { DOMID_SELF, Hypercall } from '../../src/xen/abi.ts';
import { Errno } from '../../src/xen/errno.ts';
import { SharedInfo, VcpuInfo } from '../../src/xen/evtchn/layout.ts';
import { ARG, RAM_BASE, SHINFO, rig, type Rig } from './helpers.ts';

const XENMEM_add_to_physmap = 7;
const XENMEM_remove_from_physmap = 15;
const VCPUOP_register_vcpu_info = 10;
const EVTCHNOP_unmask = 9;

/** The guest maps shared_info at `gpa` with XENMEM_add_to_physmap. */
function mapShinfo(r: Rig, i: number, gpa = SHINFO): number {
  const m = r.doms[i].memory;
  m.writeU16(ARG, DOMID_SELF);
  m.writeU16(ARG + 2, 0);
  m.writeU32(ARG + 4, 0); // XENMAPSPACE_shared_info
  m.writeU64(ARG + 8, 0n);
  m.writeU64(ARG + 16, BigInt(gpa >>> 12));
  return r.call(i, Hypercall.memory_op, XENMEM_add_to_physmap, ARG);
}

const pendingBit = (r: Rig, i: number, port: number, base = SHINFO) =>
  ((r.doms[i].memory.readU8(base + SharedInfo.evtchnPending + (port >> 3))! >> (port & 7)) & 1) === 1;
const sel = (r: Rig, i: number, base = SHINFO) => r.doms[i].memory.readU64(base + VcpuInfo.pendingSel)!;
const upcall = (r: Rig, i: number, base = SHINFO) => r.doms[i].memory.readU8(base + VcpuInfo.upcallPending)!;
const setMask = (r: Rig, i: number, port: number, on: boolean) => {
  const a = SHINFO + SharedInfo.evtchnMask + (port >> 3);
  const m = r.doms[i].memory;
  m.writeU8(a, on ? m.readU8(a)! | (1 << (port & 7)) : m.readU8(a)! & ~(1 << (port & 7)));
};

/** d1 <-> d2 on ports 1 <-> 1, shared_info of d2 mapped, d2's self-raise from binding cleared. */
function connected(): Rig {
  const r = rig();
  const [a, b] = r.doms;
  expect(mapShinfo(r, 1)).toBe(0);
  r.xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid);
  r.xen.evtchn.bindInterdomain(b, a.domid, 1);
  // The guest acknowledges the bind's event the usual way.
  b.memory.writeU8(SHINFO + VcpuInfo.upcallPending, 0);
  b.memory.writeU64(SHINFO + VcpuInfo.pendingSel, 0n);
  b.memory.writeU8(SHINFO + SharedInfo.evtchnPending, 0);
  b.vcpus[0].upcalls = 0;
  return r;
}

describe('2-level ABI on shared_info in guest RAM', () => {
  it('layout: vcpu_info is 48 bytes on arm64 and the bitmaps follow the one legacy slot', () => {
    expect(VcpuInfo.size).toBe(48);
    expect(VcpuInfo.pendingSel).toBe(8);
    expect(VcpuInfo.time).toBe(16);
    expect(SharedInfo.evtchnPending).toBe(48);
    expect(SharedInfo.evtchnMask).toBe(560);
    expect(SharedInfo.wcVersion).toBe(1072);
  });

  it('send sets pending, the selector bit of the word and upcall_pending, raising once on 0->1', () => {
    const r = connected();
    expect(r.xen.evtchn.send(r.doms[0], 1).ok).toBe(true);
    expect(pendingBit(r, 1, 1)).toBe(true);
    expect(sel(r, 1)).toBe(1n);
    expect(upcall(r, 1)).toBe(1);
    expect(r.doms[1].vcpus[0].upcalls).toBe(1);
    // Already pending: nothing more happens.
    r.xen.evtchn.send(r.doms[0], 1);
    expect(r.doms[1].vcpus[0].upcalls).toBe(1);
  });

  it('no second upcall while upcall_pending stays set; one again after the guest clears it', () => {
    const r = connected();
    const [a, b] = r.doms;
    // A second channel whose port lives in word 1 (port 64+).
    for (let p = 2; p < 70; p++) r.xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid);
    for (let p = 2; p < 70; p++) expect(r.xen.evtchn.bindInterdomain(b, a.domid, p).ok).toBe(true);
    b.memory.write(SHINFO + SharedInfo.evtchnPending, new Uint8Array(16));
    b.memory.writeU64(SHINFO + VcpuInfo.pendingSel, 0n);
    b.memory.writeU8(SHINFO + VcpuInfo.upcallPending, 0);
    b.vcpus[0].upcalls = 0;

    r.xen.evtchn.send(a, 1);
    expect(b.vcpus[0].upcalls).toBe(1);
    r.xen.evtchn.send(a, 69); // b's port for a:69 — find it through status
    const st = r.xen.evtchn.status(a, DOMID_SELF, 69);
    expect(st.ok && st.value.port).toBeGreaterThanOrEqual(64);
    expect(sel(r, 1)).toBe(3n);
    expect(b.vcpus[0].upcalls).toBe(1);

    // The guest clears upcall_pending but leaves the selector: a new port in word 0 sets no
    // new selector bit, so there is no new upcall (Xen's edge is on the selector bit).
    b.memory.writeU8(SHINFO + VcpuInfo.upcallPending, 0);
    r.xen.evtchn.send(a, 2);
    expect(upcall(r, 1)).toBe(0);
    expect(b.vcpus[0].upcalls).toBe(1);

    // After clearing the selector too, the next event raises again.
    b.memory.writeU64(SHINFO + VcpuInfo.pendingSel, 0n);
    r.xen.evtchn.send(a, 3);
    expect(upcall(r, 1)).toBe(1);
    expect(b.vcpus[0].upcalls).toBe(2);
  });

  it('a masked port only gets its pending bit; EVTCHNOP_unmask then re-raises it', () => {
    const r = connected();
    const [a, b] = r.doms;
    setMask(r, 1, 1, true);
    r.xen.evtchn.send(a, 1);
    expect(pendingBit(r, 1, 1)).toBe(true);
    expect(sel(r, 1)).toBe(0n);
    expect(upcall(r, 1)).toBe(0);
    expect(b.vcpus[0].upcalls).toBe(0);

    b.memory.writeU32(ARG, 1);
    expect(r.call(1, Hypercall.event_channel_op, EVTCHNOP_unmask, ARG)).toBe(0);
    expect(sel(r, 1)).toBe(1n);
    expect(upcall(r, 1)).toBe(1);
    expect(b.vcpus[0].upcalls).toBe(1);
    expect(r.xen.evtchn.isMasked(b.domid, 1)).toBe(false);
  });

  it('unmask of a port that was not masked, or not pending, raises nothing', () => {
    const r = connected();
    const [a, b] = r.doms;
    setMask(r, 1, 1, true);
    r.xen.evtchn.unmask(b, 1); // masked, not pending
    expect(b.vcpus[0].upcalls).toBe(0);
    r.xen.evtchn.send(a, 1); // unmasked now: raises normally
    expect(b.vcpus[0].upcalls).toBe(1);
    b.memory.writeU8(SHINFO + VcpuInfo.upcallPending, 0);
    b.memory.writeU64(SHINFO + VcpuInfo.pendingSel, 0n);
    r.xen.evtchn.unmask(b, 1); // pending but not masked
    expect(sel(r, 1)).toBe(0n);
    expect(b.vcpus[0].upcalls).toBe(1);
  });

  it('unmask of a free or reserved port answers 0 and leaves its mask bit alone', () => {
    const r = connected();
    const [, b] = r.doms;
    setMask(r, 1, 0, true);
    setMask(r, 1, 60, true);
    b.memory.writeU32(ARG, 0);
    expect(r.call(1, Hypercall.event_channel_op, EVTCHNOP_unmask, ARG)).toBe(0);
    b.memory.writeU32(ARG, 60);
    expect(r.call(1, Hypercall.event_channel_op, EVTCHNOP_unmask, ARG)).toBe(0);
    expect(r.xen.evtchn.isMasked(b.domid, 0)).toBe(true);
    expect(r.xen.evtchn.isMasked(b.domid, 60)).toBe(true);
    // A bound port is unmasked as usual.
    setMask(r, 1, 1, true);
    b.memory.writeU32(ARG, 1);
    expect(r.call(1, Hypercall.event_channel_op, EVTCHNOP_unmask, ARG)).toBe(0);
    expect(r.xen.evtchn.isMasked(b.domid, 1)).toBe(false);
  });

  it('events before the guest maps shared_info land in Xen\'s page and appear once mapped', () => {
    const r = rig();
    const [a, b] = r.doms;
    r.xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid);
    r.xen.evtchn.bindInterdomain(b, a.domid, 1); // raises b:1 while unmapped
    expect(b.vcpus[0].upcalls).toBe(1);
    expect(pendingBit(r, 1, 1)).toBe(false); // nothing in RAM yet
    expect(mapShinfo(r, 1)).toBe(0);
    expect(b.sharedInfoGpa).toBe(SHINFO);
    expect(pendingBit(r, 1, 1)).toBe(true);
    expect(upcall(r, 1)).toBe(1);
    expect(sel(r, 1)).toBe(1n);
  });

  it('mapping twice is -EBUSY; remove_from_physmap then a new GPA moves the contents', () => {
    const r = connected();
    const [a, b] = r.doms;
    r.xen.evtchn.send(a, 1);
    expect(mapShinfo(r, 1, SHINFO + 0x1000)).toBe(-Errno.EBUSY);
    b.memory.writeU16(ARG, DOMID_SELF);
    b.memory.writeU64(ARG + 8, BigInt(SHINFO >>> 12));
    expect(r.call(1, Hypercall.memory_op, XENMEM_remove_from_physmap, ARG)).toBe(0);
    expect(b.sharedInfoGpa).toBeUndefined();
    // While unmapped, events still go to Xen's copy.
    r.xen.evtchn.close(b, 1);
    expect(mapShinfo(r, 1, SHINFO + 0x2000)).toBe(0);
    expect(pendingBit(r, 1, 1, SHINFO + 0x2000)).toBe(false); // cleared by the close
    expect(upcall(r, 1, SHINFO + 0x2000)).toBe(1);
  });

  it('VCPUOP_register_vcpu_info moves vCPU 0 there, copies it, sets every selector bit and raises', () => {
    const r = connected();
    const [a, b] = r.doms;
    const target = RAM_BASE + 0x3000;
    b.memory.writeU64(ARG, BigInt(target >>> 12));
    b.memory.writeU32(ARG + 8, 0x40);
    b.memory.writeU32(ARG + 12, 0);
    b.memory.writeU32(SHINFO + VcpuInfo.time, 0x1234); // something to be copied
    expect(r.call(1, Hypercall.vcpu_op, VCPUOP_register_vcpu_info, 0, ARG)).toBe(0);
    const vi = target + 0x40;
    expect(b.vcpus[0].vcpuInfoGpa).toBe(vi);
    expect(b.memory.readU32(vi + VcpuInfo.time)).toBe(0x1234);
    expect(b.memory.readU64(vi + VcpuInfo.pendingSel)).toBe(0xffffffffffffffffn);
    expect(b.memory.readU8(vi)).toBe(1);
    expect(b.vcpus[0].upcalls).toBe(1);
    // Events now use the new vcpu_info: the old slot stays quiet.
    b.memory.writeU8(vi, 0);
    b.memory.writeU64(vi + VcpuInfo.pendingSel, 0n);
    r.xen.evtchn.send(a, 1);
    expect(b.memory.readU8(vi)).toBe(1);
    expect(b.memory.readU64(vi + VcpuInfo.pendingSel)).toBe(1n);
    expect(upcall(r, 1)).toBe(0);
    expect(b.vcpus[0].upcalls).toBe(2);
    // Registering again is refused.
    expect(r.call(1, Hypercall.vcpu_op, VCPUOP_register_vcpu_info, 0, ARG)).toBe(-Errno.EINVAL);
  });

  it('a vCPU without vcpu_info of its own gets its events on the dummy, lost to the guest', () => {
    const r = rig({ vcpus: 2 });
    const [a] = r.doms;
    expect(mapShinfo(r, 0)).toBe(0);
    const port = r.xen.evtchn.bindIpi(a, 1);
    expect(port.ok).toBe(true);
    r.xen.evtchn.send(a, 1);
    expect(pendingBit(r, 0, 1)).toBe(true); // the port's bit is in shared_info
    expect(upcall(r, 0)).toBe(0); // vCPU 0's slot is untouched
    expect(a.vcpus[1].upcalls).toBe(1); // the PPI is still injected on vCPU 1
    // Registering vCPU 1 starts from a zeroed vcpu_info, then rescans everything.
    const target = RAM_BASE + 0x5000;
    a.memory.writeU64(ARG, BigInt(target >>> 12));
    a.memory.writeU32(ARG + 8, 0);
    expect(r.callAs(0, 1, Hypercall.vcpu_op, VCPUOP_register_vcpu_info, 1, ARG)).toBe(0);
    expect(a.memory.readU64(target + VcpuInfo.pendingSel)).toBe(0xffffffffffffffffn);
    expect(a.memory.readU8(target)).toBe(1);
    expect(a.vcpus[1].upcalls).toBe(2);
  });
});
