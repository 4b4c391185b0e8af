import { describe, expect, it } from 'vitest';
import { DOMID_SELF, Hypercall } from '../../src/xen/abi.ts';
import { Errno } from '../../src/xen/errno.ts';
import { EVTCHNOP } from '../../src/xen/evtchn/codec.ts';
import { EVTCHNSTAT, VIRQ } from '../../src/xen/evtchn/channel.ts';
import { ARG, RAM_BASE, RAM_SIZE, rig } from './helpers.ts';

const EC = Hypercall.event_channel_op;
const BAD = RAM_BASE + RAM_SIZE - 1; // every struct here runs off the end of RAM

describe('event_channel_op at the hypercall edge', () => {
  it('alloc_unbound: dom u16 @0, remote_dom u16 @2, port u32 @4 written back', () => {
    const r = rig();
    const m = r.doms[0].memory;
    m.writeU16(ARG, DOMID_SELF);
    m.writeU16(ARG + 2, 2);
    m.writeU32(ARG + 4, 0xdeadbeef);
    expect(r.call(0, EC, EVTCHNOP.alloc_unbound, ARG)).toBe(0);
    expect(m.readU32(ARG + 4)).toBe(1);
    expect(m.readU16(ARG)).toBe(DOMID_SELF); // inputs untouched
  });

  it('bind_interdomain: remote_dom u16 @0, remote_port u32 @4, local_port u32 @8', () => {
    const r = rig();
    r.xen.evtchn.allocUnbound(r.doms[0], DOMID_SELF, 2);
    const m = r.doms[1].memory;
    m.writeU16(ARG, 1);
    m.writeU32(ARG + 4, 1);
    expect(r.call(1, EC, EVTCHNOP.bind_interdomain, ARG)).toBe(0);
    expect(m.readU32(ARG + 8)).toBe(1);
  });

  it('bind_virq / bind_ipi / bind_vcpu layouts', () => {
    const r = rig({ vcpus: 2 });
    const m = r.doms[0].memory;
    m.writeU32(ARG, VIRQ.TIMER);
    m.writeU32(ARG + 4, 1);
    expect(r.call(0, EC, EVTCHNOP.bind_virq, ARG)).toBe(0);
    expect(m.readU32(ARG + 8)).toBe(1);
    m.writeU32(ARG, 1); // vcpu
    expect(r.call(0, EC, EVTCHNOP.bind_ipi, ARG)).toBe(0);
    expect(m.readU32(ARG + 4)).toBe(2);
    r.xen.evtchn.allocUnbound(r.doms[0], DOMID_SELF, 2); // port 3
    m.writeU32(ARG, 3);
    m.writeU32(ARG + 4, 1);
    expect(r.call(0, EC, EVTCHNOP.bind_vcpu, ARG)).toBe(0);
    expect(r.xen.evtchn.channel(1, 3)?.notifyVcpu).toBe(1);
  });

  it('status: writes status @8, vcpu @12 and the union member for the state', () => {
    const r = rig();
    const [a, b] = r.doms;
    r.xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid);
    r.xen.evtchn.bindInterdomain(b, a.domid, 1);
    const m = a.memory;
    m.writeU16(ARG, DOMID_SELF);
    m.writeU32(ARG + 4, 1);
    expect(r.call(0, EC, EVTCHNOP.status, ARG)).toBe(0);
    expect(m.readU32(ARG + 8)).toBe(EVTCHNSTAT.interdomain);
    expect(m.readU32(ARG + 12)).toBe(0);
    expect(m.readU16(ARG + 16)).toBe(b.domid);
    expect(m.readU32(ARG + 20)).toBe(1);
    // A closed port: status 0, the union keeps what the guest had there.
    m.writeU32(ARG + 4, 9);
    m.writeU32(ARG + 16, 0x5555);
    expect(r.call(0, EC, EVTCHNOP.status, ARG)).toBe(0);
    expect(m.readU32(ARG + 8)).toBe(EVTCHNSTAT.closed);
    expect(m.readU32(ARG + 16)).toBe(0x5555);
    m.writeU32(ARG + 4, 64);
    expect(r.call(0, EC, EVTCHNOP.status, ARG)).toBe(-Errno.EINVAL);
  });

  it('a bad pointer is -EFAULT before anything happens, for every command that reads', () => {
    const r = rig();
    for (const cmd of Object.values(EVTCHNOP)) {
      expect(r.call(0, EC, cmd, BAD), `cmd ${cmd}`).toBe(-Errno.EFAULT);
      expect(r.call(0, EC, cmd, 0), `cmd ${cmd} NULL`).toBe(-Errno.EFAULT);
      expect(r.call(0, EC, cmd, -1n), `cmd ${cmd} ~0`).toBe(-Errno.EFAULT);
    }
    expect(r.xen.evtchn.channels(1).map((c) => c.port)).toEqual([0]);
  });

  it('unknown commands are -ENOSYS even with a bad pointer', () => {
    const r = rig();
    expect(r.call(0, EC, 15, BAD)).toBe(-Errno.ENOSYS);
    expect(r.call(0, EC, -1, 0)).toBe(-Errno.ENOSYS);
    // cmd is a C int: bits above 31 are not part of it (0x1_0000_0004 is EVTCHNOP_send).
    r.doms[0].memory.writeU32(ARG, 50);
    expect(r.call(0, EC, 0x1_0000_0004n, ARG)).toBe(-Errno.EINVAL);
  });

  it('init_control: Xen\'s checks (vCPU, offset, alignment, frame), then -ENOSYS for a valid request', () => {
    const r = rig();
    const m = r.doms[0].memory;
    const ram = BigInt((RAM_BASE + 0x4000) >>> 12);
    const init = (gfn: bigint, offset: number, vcpu: number) => {
      m.writeU64(ARG, gfn);
      m.writeU32(ARG + 8, offset);
      m.writeU32(ARG + 12, vcpu);
      m.writeU8(ARG + 16, 0xaa);
      return r.call(0, EC, EVTCHNOP.init_control, ARG);
    };
    // The answers the real Xen 4.17 gave apps/evtchn-conformance:
    expect(init(0x10000n, 0, 1)).toBe(-Errno.ENOENT); // vCPU checked first, even with a bad frame
    expect(init(0x10000n, 4096, 0)).toBe(-Errno.EINVAL);
    expect(init(0x10000n, 4, 0)).toBe(-Errno.EINVAL);
    expect(init(0x10000n, 0, 0)).toBe(-Errno.EINVAL);
    // Ours: the 72-byte control block must fit; misaligned and unmapped frames are refused.
    expect(init(ram, 4096 - 72 + 8, 0)).toBe(-Errno.EINVAL);
    expect(init(ram, 4, 0)).toBe(-Errno.EINVAL);
    expect(m.readU8(ARG + 16)).toBe(0xaa); // link_bits only written back on success
    expect(init(ram, 4096 - 72, 0)).toBe(0); // the last offset that fits: the domain is FIFO now
    expect(m.readU8(ARG + 16)).toBe(17);
    expect(init(ram, 0, 0)).toBe(-Errno.EINVAL); // one control block per vCPU
    expect(m.readU8(ARG + 16)).toBe(0xaa);
  });

  it('FIFO ops: 2-level refuses expand_array and set_priority; after init_control they work', () => {
    const r = rig();
    const m = r.doms[0].memory;
    const gfn = BigInt((RAM_BASE + 0x4000) >>> 12);
    m.write(ARG, new Uint8Array(24));
    m.writeU64(ARG, gfn);
    expect(r.call(0, EC, EVTCHNOP.expand_array, ARG)).toBe(-Errno.EOPNOTSUPP);
    m.writeU32(ARG, 1);
    m.writeU32(ARG + 4, 7);
    expect(r.call(0, EC, EVTCHNOP.set_priority, ARG)).toBe(-Errno.ENOSYS);
    m.writeU32(ARG, 64);
    expect(r.call(0, EC, EVTCHNOP.set_priority, ARG)).toBe(-Errno.EINVAL);

    m.write(ARG, new Uint8Array(24));
    m.writeU64(ARG, gfn);
    expect(r.call(0, EC, EVTCHNOP.init_control, ARG)).toBe(0);
    m.writeU64(ARG, gfn + 1n);
    expect(r.call(0, EC, EVTCHNOP.expand_array, ARG)).toBe(0);
    m.writeU64(ARG, 0x10000n); // not RAM
    expect(r.call(0, EC, EVTCHNOP.expand_array, ARG)).toBe(-Errno.EINVAL);
    m.writeU32(ARG, 1);
    m.writeU32(ARG + 4, 15);
    expect(r.call(0, EC, EVTCHNOP.set_priority, ARG)).toBe(-Errno.EACCES); // port 1 is free
    r.xen.evtchn.allocUnbound(r.doms[0], 0x7ff0, 0x7ff0);
    expect(r.call(0, EC, EVTCHNOP.set_priority, ARG)).toBe(0);
    m.writeU32(ARG + 4, 16);
    expect(r.call(0, EC, EVTCHNOP.set_priority, ARG)).toBe(-Errno.EINVAL);
    m.writeU32(ARG, 64);
    m.writeU32(ARG + 4, 0);
    expect(r.call(0, EC, EVTCHNOP.set_priority, ARG)).toBe(-Errno.EINVAL);
  });

  it('reset and reset_cont read struct evtchn_reset { dom u16 }', () => {
    const r = rig();
    const m = r.doms[0].memory;
    r.xen.evtchn.bindIpi(r.doms[0], 0);
    m.writeU16(ARG, DOMID_SELF);
    expect(r.call(0, EC, EVTCHNOP.reset_cont, ARG)).toBe(-Errno.EBUSY);
    expect(r.call(0, EC, EVTCHNOP.reset, ARG)).toBe(0);
    expect(r.xen.evtchn.channels(1).length).toBe(1);
    m.writeU16(ARG, 2);
    expect(r.call(0, EC, EVTCHNOP.reset, ARG)).toBe(-Errno.EPERM);
  });

  it('fills op, args and out for the trace, and emits evtchn events', () => {
    const r = rig({ trace: true });
    const m = r.doms[0].memory;
    m.writeU16(ARG, DOMID_SELF);
    m.writeU16(ARG + 2, 2);
    r.call(0, EC, EVTCHNOP.alloc_unbound, ARG);
    const hc = r.events.find((e) => e.kind === 'hypercall');
    expect(hc).toMatchObject({
      kind: 'hypercall',
      name: 'event_channel_op',
      op: 'EVTCHNOP_alloc_unbound',
      args: { dom: DOMID_SELF, remote_dom: 2 },
      out: { port: 1 },
      result: 0,
      errno: '',
    });
    expect(r.events.find((e) => e.kind === 'evtchn')).toMatchObject({ domid: 1, port: 1, change: 'alloc_unbound' });
    m.writeU32(ARG, 50);
    r.call(0, EC, EVTCHNOP.send, ARG);
    expect(r.events.at(-1)).toMatchObject({ op: 'EVTCHNOP_send', args: { port: 50 }, errno: '-EINVAL' });
  });
});
