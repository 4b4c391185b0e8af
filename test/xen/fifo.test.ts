import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/xen/abi.ts';
import { EVTCHN_FIFO, FifoControlBlock } from '../../src/xen/evtchn/fifo.ts';
import { RAM_BASE, makeDomain, rig, type Rig, type TestDomain } from './helpers.ts';

/*
 * The FIFO event-channel ABI (xen/common/event_fifo.c of Xen 4.17) as a state machine: the
 * guest's side (consuming queues, clearing bits) is played by the test on guest memory.
 */

const CB = RAM_BASE + 0x10000; // control block of vCPU 0
const CB1 = RAM_BASE + 0x11000; // control block of vCPU 1
const ARRAY = RAM_BASE + 0x20000; // first event array page
const gfn = (gpa: number) => BigInt(gpa >>> 12);
const { PENDING, MASKED, LINKED, BUSY, LINK_MASK } = EVTCHN_FIFO;
const bit = (n: number) => (1 << n) >>> 0;

function fifoRig(opts: { vcpus?: number; pages?: number } = {}): Rig & { a: TestDomain } {
  const r = rig({ domains: 1, vcpus: opts.vcpus });
  const a = r.doms[0];
  expect(r.xen.evtchn.initControl(a, gfn(CB), 0, 0)).toEqual({ ok: true, value: 17 });
  for (let i = 0; i < (opts.pages ?? 1); i++) {
    expect(r.xen.evtchn.expandArray(a, gfn(ARRAY + i * 4096))).toEqual({ ok: true, value: undefined });
  }
  return Object.assign(r, { a });
}

const word = (a: TestDomain, port: number) => a.memory.readU32(ARRAY + port * 4)!;
const setWord = (a: TestDomain, port: number, w: number) => a.memory.writeU32(ARRAY + port * 4, w >>> 0);
const ready = (a: TestDomain, cb = CB) => a.memory.readU32(cb + FifoControlBlock.ready)!;
const head = (a: TestDomain, prio: number, cb = CB) => a.memory.readU32(cb + FifoControlBlock.head + prio * 4)!;

/** A port bound to the domain itself: alloc_unbound(self) + bind_interdomain = two ends. */
function loop(r: Rig, a: TestDomain): [number, number] {
  const u = r.xen.evtchn.allocUnbound(a, DOMID_SELF, DOMID_SELF);
  if (!u.ok) throw new Error('alloc');
  const b = r.xen.evtchn.bindInterdomain(a, DOMID_SELF, u.value);
  if (!b.ok) throw new Error('bind');
  return [u.value, b.value];
}

/** The guest's consume step for one port at a queue head: clear LINKED and LINK, return LINK. */
function consume(a: TestDomain, port: number): number {
  const w = word(a, port);
  setWord(a, port, w & ~(bit(LINKED) | LINK_MASK));
  return w & LINK_MASK;
}

describe('FIFO: switching ABI', () => {
  it('init_control switches to FIFO; 2-level pending bits survive as saved state; mask bits do not', () => {
    const r = rig({ domains: 1 });
    const a = r.doms[0];
    const [p1, p2] = loop(r, a); // ports 1 and 2; bind leaves 2 pending (2-level)
    expect(r.xen.evtchn.isPending(a.domid, p2)).toBe(true);
    expect(r.xen.evtchn.isPending(a.domid, p1)).toBe(false);
    expect(r.xen.evtchn.abiName(a.domid)).toBe('2-level');
    expect(r.xen.evtchn.initControl(a, gfn(CB), 0, 0)).toEqual({ ok: true, value: 17 });
    expect(r.xen.evtchn.abiName(a.domid)).toBe('fifo');
    // No event array yet: nothing is pending and everything reads as masked.
    expect(r.xen.evtchn.isPending(a.domid, p2)).toBe(false);
    expect(r.xen.evtchn.isMasked(a.domid, p1)).toBe(true);
    // The 2-level raise left evtchn_upcall_pending set; the guest acknowledges it.
    const vi = r.xen.evtchn.pages(a).vcpuInfo(0);
    vi.buf[vi.off] = 0;
    const upcallsBefore = a.vcpus[0].upcalls;
    // The guest initialises its array page with every port masked except p2, then adds it.
    for (let p = 0; p < 1024; p++) setWord(a, p, p === p2 ? 0 : bit(MASKED));
    expect(r.xen.evtchn.expandArray(a, gfn(ARRAY))).toEqual({ ok: true, value: undefined });
    expect(word(a, p2)).toBe((bit(PENDING) | bit(LINKED)) >>> 0);
    expect(head(a, 7)).toBe(p2);
    expect(ready(a)).toBe(bit(7));
    expect(a.vcpus[0].upcalls).toBe(upcallsBefore + 1);
    // p1 was not pending: untouched.
    expect(word(a, p1)).toBe(bit(MASKED));
  });

  it('init_control: one control block per vCPU, other vCPUs may add theirs later', () => {
    const r = fifoRig({ vcpus: 2 });
    expect(r.xen.evtchn.initControl(r.a, gfn(CB), 8, 0)).toEqual({ ok: false, error: 'EINVAL' });
    expect(r.xen.evtchn.initControl(r.a, gfn(CB1), 0, 1)).toEqual({ ok: true, value: 17 });
    expect(r.xen.evtchn.initControl(r.a, gfn(CB1), 0, 2)).toEqual({ ok: false, error: 'ENOENT' });
  });

  it('a failed first init_control (frame not RAM) leaves the domain on 2-level', () => {
    const r = rig({ domains: 1 });
    const a = r.doms[0];
    expect(r.xen.evtchn.initControl(a, 0x10n, 0, 0)).toEqual({ ok: false, error: 'EINVAL' });
    expect(r.xen.evtchn.abiName(a.domid)).toBe('2-level');
    expect(r.xen.evtchn.expandArray(a, gfn(ARRAY))).toEqual({ ok: false, error: 'EOPNOTSUPP' });
  });

  it('EVTCHNOP_reset closes everything and goes back to 2-level; FIFO can start again', () => {
    const r = fifoRig();
    loop(r, r.a);
    expect(r.xen.evtchn.reset(r.a, DOMID_SELF, false)).toEqual({ ok: true, value: undefined });
    expect(r.xen.evtchn.abiName(r.a.domid)).toBe('2-level');
    expect(r.xen.evtchn.setPriority(r.a, 1, 7)).toEqual({ ok: false, error: 'ENOSYS' });
    expect(r.xen.evtchn.expandArray(r.a, gfn(ARRAY))).toEqual({ ok: false, error: 'EOPNOTSUPP' });
    expect(r.xen.evtchn.initControl(r.a, gfn(CB), 0, 0)).toEqual({ ok: true, value: 17 });
  });

  it('expand_array: 128 pages (2^17 ports), then -ENOSPC; a privileged domain may use all ports', () => {
    const r = rig({ domains: 0 });
    const d = makeDomain(0, { privileged: true });
    r.hv.addDomain(d);
    r.xen.createDomainState(d);
    expect(r.xen.evtchn.initControl(d, gfn(CB), 0, 0).ok).toBe(true);
    for (let i = 0; i < 128; i++) expect(r.xen.evtchn.expandArray(d, gfn(ARRAY)).ok).toBe(true);
    expect(r.xen.evtchn.expandArray(d, gfn(ARRAY))).toEqual({ ok: false, error: 'ENOSPC' });
    expect(r.xen.evtchn.fifo(d.domid)!.eventWords).toBe(EVTCHN_FIFO.NR_CHANNELS);
    // Past 4096 ports, which 2-level would refuse.
    let last = 0;
    for (let i = 0; i < 4200; i++) {
      const p = r.xen.evtchn.allocUnbound(d, DOMID_SELF, DOMID_SELF);
      expect(p.ok).toBe(true);
      if (p.ok) last = p.value;
    }
    expect(last).toBe(4200);
  });

  it('a dom0less domU keeps max_evtchn_port 1023 under FIFO', () => {
    const r = fifoRig();
    for (let i = 1; i <= 1023; i++) expect(r.xen.evtchn.allocUnbound(r.a, DOMID_SELF, 0).ok).toBe(true);
    expect(r.xen.evtchn.allocUnbound(r.a, DOMID_SELF, 0)).toEqual({ ok: false, error: 'ENOSPC' });
  });
});

describe('FIFO: linking and the ready bitmap', () => {
  it('first event: PENDING|LINKED, head, ready bit, one upcall; the next links to the tail', () => {
    const r = fifoRig();
    const [p1, p2] = loop(r, r.a); // bind raised p2 already
    expect(word(r.a, p2)).toBe((bit(PENDING) | bit(LINKED)) >>> 0);
    expect(head(r.a, 7)).toBe(p2);
    expect(ready(r.a)).toBe(bit(7));
    expect(r.a.vcpus[0].upcalls).toBe(1);
    expect(r.xen.evtchn.upcallPending(r.a.domid, 0)).toBe(true);
    // Sending on p2 raises p1 (the other end): appended behind p2, no new upcall.
    expect(r.xen.evtchn.send(r.a, p2).ok).toBe(true);
    expect(word(r.a, p2) & LINK_MASK).toBe(p1);
    expect(word(r.a, p1)).toBe((bit(PENDING) | bit(LINKED)) >>> 0);
    expect(head(r.a, 7)).toBe(p2);
    expect(r.xen.evtchn.fifo(r.a.domid)!.tail(0, 7)).toBe(p1);
    expect(r.a.vcpus[0].upcalls).toBe(1);
  });

  it('a LINKED port is not linked again, even when the guest cleared PENDING', () => {
    const r = fifoRig();
    const [p1, p2] = loop(r, r.a);
    setWord(r.a, p2, bit(LINKED));
    expect(r.xen.evtchn.send(r.a, p1).ok).toBe(true);
    expect(word(r.a, p2)).toBe((bit(PENDING) | bit(LINKED)) >>> 0);
    expect(r.xen.evtchn.fifo(r.a.domid)!.tail(0, 7)).toBe(p2);
  });

  it('after the guest consumed the tail, the next event becomes a head again', () => {
    const r = fifoRig();
    const [p1, p2] = loop(r, r.a);
    expect(consume(r.a, p2)).toBe(0); // queue now empty
    setWord(r.a, p2, word(r.a, p2) & ~bit(PENDING));
    // The guest left `ready` set: no new upcall, but the head moves.
    expect(r.xen.evtchn.send(r.a, p2).ok).toBe(true); // raises p1
    expect(head(r.a, 7)).toBe(p1);
    expect(word(r.a, p2) & LINK_MASK).toBe(0);
    expect(r.a.vcpus[0].upcalls).toBe(1);
    // The guest clears `ready` and upcall_pending: the next head raises once more.
    consume(r.a, p1);
    r.a.memory.writeU32(CB, 0);
    r.xen.evtchn.pages(r.a).vcpuInfo(0).buf[r.xen.evtchn.pages(r.a).vcpuInfo(0).off] = 0;
    expect(r.xen.evtchn.send(r.a, p1).ok).toBe(true); // raises p2, whose word is not LINKED
    expect(head(r.a, 7)).toBe(p2);
    expect(ready(r.a)).toBe(bit(7));
    expect(r.a.vcpus[0].upcalls).toBe(2);
  });

  it('re-linking the port that is still the tail: the queue is taken as empty (head rewritten)', () => {
    const r = fifoRig();
    const [, p2] = loop(r, r.a);
    // The guest consumes p2 but Xen still has it as the tail; p2 is raised again.
    consume(r.a, p2);
    setWord(r.a, p2, 0);
    r.a.memory.writeU32(CB + FifoControlBlock.head + 7 * 4, 0);
    expect(r.xen.evtchn.hostSetPending(r.a.domid, p2).ok).toBe(true);
    expect(head(r.a, 7)).toBe(p2);
    expect(word(r.a, p2) & LINK_MASK).toBe(0); // not linked to itself
    expect(r.xen.evtchn.fifo(r.a.domid)!.tail(0, 7)).toBe(p2);
  });

  it('priorities: separate queues and ready bits; set_priority 0..15, 16 is -EINVAL', () => {
    const r = fifoRig();
    const [p1, p2] = loop(r, r.a);
    consume(r.a, p2);
    setWord(r.a, p2, 0);
    r.a.memory.writeU32(CB, 0);
    expect(r.xen.evtchn.setPriority(r.a, p1, 0).ok).toBe(true);
    expect(r.xen.evtchn.setPriority(r.a, p2, 15).ok).toBe(true);
    expect(r.xen.evtchn.setPriority(r.a, p2, 16)).toEqual({ ok: false, error: 'EINVAL' });
    expect(r.xen.evtchn.setPriority(r.a, 64, 1)).toEqual({ ok: false, error: 'EINVAL' });
    // A free (or reserved) valid port: -EACCES, before the range check (real Xen 4.17).
    expect(r.xen.evtchn.setPriority(r.a, 40, 3)).toEqual({ ok: false, error: 'EACCES' });
    expect(r.xen.evtchn.setPriority(r.a, 40, 16)).toEqual({ ok: false, error: 'EACCES' });
    expect(r.xen.evtchn.setPriority(r.a, 0, 3)).toEqual({ ok: false, error: 'EACCES' });
    r.xen.evtchn.send(r.a, p1); // raises p2 (prio 15)
    r.xen.evtchn.send(r.a, p2); // raises p1 (prio 0)
    expect(head(r.a, 15)).toBe(p2);
    expect(head(r.a, 0)).toBe(p1);
    expect(ready(r.a)).toBe((bit(0) | bit(15)) >>> 0);
  });

  it('set_priority while linked: the port stays on its queue; its next link uses the new one', () => {
    const r = fifoRig();
    const [p1, p2] = loop(r, r.a); // p2 linked at prio 7 (head and tail)
    const f = r.xen.evtchn.fifo(r.a.domid)!;
    expect(r.xen.evtchn.setPriority(r.a, p2, 2).ok).toBe(true);
    expect(f.priorityOf(p2)).toBe(2);
    expect(head(r.a, 7)).toBe(p2);
    expect(ready(r.a)).toBe(bit(7));
    // Consumed; raised again: lands on queue 2, and queue 7's tail (p2) is forgotten.
    consume(r.a, p2);
    setWord(r.a, p2, 0);
    r.xen.evtchn.send(r.a, p1);
    expect(head(r.a, 2)).toBe(p2);
    expect(f.tail(0, 2)).toBe(p2);
    expect(f.tail(0, 7)).toBe(0);
    expect(ready(r.a)).toBe((bit(2) | bit(7)) >>> 0);
    // A later prio-7 event starts queue 7 afresh instead of linking behind p2.
    r.xen.evtchn.send(r.a, p2); // raises p1 (prio 7)
    expect(head(r.a, 7)).toBe(p1);
    expect(word(r.a, p2) & LINK_MASK).toBe(0);
  });

  it('binding a port resets its priority to 7', () => {
    const r = fifoRig();
    const [p1] = loop(r, r.a);
    r.xen.evtchn.setPriority(r.a, p1, 1);
    r.xen.evtchn.close(r.a, p1);
    setWord(r.a, p1, 0);
    const again = r.xen.evtchn.allocUnbound(r.a, DOMID_SELF, DOMID_SELF);
    expect(again).toEqual({ ok: true, value: p1 });
    expect(r.xen.evtchn.fifo(r.a.domid)!.priorityOf(p1)).toBe(7);
  });

  it('linking to a tail clears its BUSY bit and keeps the guest bits', () => {
    const r = fifoRig();
    const [p1, p2] = loop(r, r.a);
    setWord(r.a, p2, word(r.a, p2) | bit(BUSY) | bit(MASKED));
    r.xen.evtchn.send(r.a, p2); // raises p1 -> linked behind p2
    expect(word(r.a, p2)).toBe((bit(PENDING) | bit(LINKED) | bit(MASKED) | p1) >>> 0);
  });
});

describe('FIFO: masking, unmask, close', () => {
  it('a MASKED port becomes PENDING only; unmask links it and raises', () => {
    const r = fifoRig();
    for (let p = 1; p < 64; p++) setWord(r.a, p, bit(MASKED));
    const [p1, p2] = loop(r, r.a);
    expect(word(r.a, p2)).toBe((bit(PENDING) | bit(MASKED)) >>> 0);
    expect(ready(r.a)).toBe(0);
    expect(r.a.vcpus[0].upcalls).toBe(0);
    expect(r.xen.evtchn.unmask(r.a, p2).ok).toBe(true);
    expect(word(r.a, p2)).toBe((bit(PENDING) | bit(LINKED)) >>> 0);
    expect(head(r.a, 7)).toBe(p2);
    expect(r.a.vcpus[0].upcalls).toBe(1);
    // Unmask of a port that is not pending only clears the bit.
    expect(r.xen.evtchn.unmask(r.a, p1).ok).toBe(true);
    expect(word(r.a, p1)).toBe(0);
  });

  it('unmask re-links a pending port that was never masked (unlike 2-level)', () => {
    const r = fifoRig();
    const [, p2] = loop(r, r.a);
    consume(r.a, p2); // PENDING stays, LINKED cleared
    expect(r.xen.evtchn.unmask(r.a, p2).ok).toBe(true);
    expect(word(r.a, p2) & bit(LINKED)).not.toBe(0);
    expect(head(r.a, 7)).toBe(p2);
  });

  it('close clears PENDING but not LINKED; a LINKED free port is skipped by allocation', () => {
    const r = fifoRig();
    const [p1, p2] = loop(r, r.a);
    expect(r.xen.evtchn.close(r.a, p2).ok).toBe(true);
    expect(word(r.a, p2)).toBe(bit(LINKED));
    // p1 is unbound now; p2 is free but busy: the next port is 3.
    expect(r.xen.evtchn.allocUnbound(r.a, DOMID_SELF, DOMID_SELF)).toEqual({ ok: true, value: 3 });
    consume(r.a, p2);
    expect(r.xen.evtchn.allocUnbound(r.a, DOMID_SELF, DOMID_SELF)).toEqual({ ok: true, value: p2 });
    expect(p1).toBe(1);
  });

  it('an event for a vCPU without a control block stays PENDING and is not linked', () => {
    const r = fifoRig({ vcpus: 2 });
    const [p1, p2] = loop(r, r.a);
    consume(r.a, p2);
    setWord(r.a, p1, 0);
    expect(r.xen.evtchn.bindVcpu(r.a, p1, 1).ok).toBe(true);
    r.xen.evtchn.send(r.a, p2);
    expect(word(r.a, p1)).toBe(bit(PENDING));
    expect(r.a.vcpus[1].upcalls).toBe(0);
  });

  it('bind_vcpu moves delivery to the queues, ready bits and upcall of the other vCPU', () => {
    const r = fifoRig({ vcpus: 2 });
    expect(r.xen.evtchn.initControl(r.a, gfn(CB1), 0, 1).ok).toBe(true);
    const [p1, p2] = loop(r, r.a);
    const f = r.xen.evtchn.fifo(r.a.domid)!;
    consume(r.a, p2);
    setWord(r.a, p2, 0);
    expect(r.xen.evtchn.bindVcpu(r.a, p2, 1).ok).toBe(true);
    r.xen.evtchn.send(r.a, p1);
    expect(head(r.a, 7, CB1)).toBe(p2);
    expect(ready(r.a, CB1)).toBe(bit(7));
    expect(r.a.vcpus[1].upcalls).toBe(1);
    // vCPU 0's queue 7 had p2 as its tail: forgotten when p2 moved.
    expect(f.tail(0, 7)).toBe(0);
    expect(f.tail(1, 7)).toBe(p2);
  });

  it('events for ports past the event array are kept and raised by expand_array', () => {
    const r2 = rig({ domains: 1 });
    const b = r2.doms[0];
    r2.xen.evtchn.initControl(b, gfn(CB), 0, 0);
    const [, q2] = loop(r2, b); // raised with no event word: saved
    expect(r2.xen.evtchn.isPending(b.domid, q2)).toBe(false);
    expect(b.vcpus[0].upcalls).toBe(0);
    r2.xen.evtchn.expandArray(b, gfn(ARRAY));
    expect(b.memory.readU32(ARRAY + q2 * 4)).toBe((bit(PENDING) | bit(LINKED)) >>> 0);
    expect(b.vcpus[0].upcalls).toBe(1);
  });
});
