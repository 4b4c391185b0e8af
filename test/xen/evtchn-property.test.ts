import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOMID_SELF, Hypercall } from '../../src/xen/abi.ts';
import { SharedInfo, VcpuInfo } from '../../src/xen/evtchn/layout.ts';
import { NR_VIRQS, virqIsGlobal } from '../../src/xen/evtchn/channel.ts';
import { ARG, RAM_BASE, SHINFO, rig, type Rig } from './helpers.ts';

const VCPUS = 2;
/** vcpu_info of vCPU v, registered by every domain at start-up. */
const vcpuInfoGpa = (v: number) => RAM_BASE + 0x6000 + v * 64;

type Op =
  | { k: 'alloc'; d: number; dom: number; remote: number }
  | { k: 'bindInter'; d: number; remote: number; port: number }
  | { k: 'virq'; d: number; virq: number; vcpu: number }
  | { k: 'ipi'; d: number; vcpu: number }
  | { k: 'close'; d: number; port: number }
  | { k: 'send'; d: number; port: number }
  | { k: 'unmask'; d: number; port: number }
  | { k: 'bindVcpu'; d: number; port: number; vcpu: number }
  | { k: 'reset'; d: number; dom: number }
  | { k: 'status'; d: number; dom: number; port: number }
  | { k: 'mask'; d: number; port: number }
  | { k: 'handle'; d: number; vcpu: number };

const dIdx = fc.integer({ min: 0, max: 2 });
const domArg = fc.oneof(fc.constant(DOMID_SELF), fc.integer({ min: 1, max: 4 }));
const port = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: fc.integer({ min: 60, max: 70 }) });
const vcpu = fc.integer({ min: 0, max: VCPUS });

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('alloc' as const), d: dIdx, dom: domArg, remote: domArg }),
  fc.record({ k: fc.constant('bindInter' as const), d: dIdx, remote: domArg, port }),
  fc.record({ k: fc.constant('virq' as const), d: dIdx, virq: fc.integer({ min: 0, max: NR_VIRQS }), vcpu }),
  fc.record({ k: fc.constant('ipi' as const), d: dIdx, vcpu }),
  fc.record({ k: fc.constant('close' as const), d: dIdx, port }),
  fc.record({ k: fc.constant('send' as const), d: dIdx, port }),
  fc.record({ k: fc.constant('send' as const), d: dIdx, port }),
  fc.record({ k: fc.constant('unmask' as const), d: dIdx, port }),
  fc.record({ k: fc.constant('bindVcpu' as const), d: dIdx, port, vcpu }),
  fc.record({ k: fc.constant('reset' as const), d: dIdx, dom: domArg }),
  fc.record({ k: fc.constant('status' as const), d: dIdx, dom: domArg, port }),
  fc.record({ k: fc.constant('mask' as const), d: dIdx, port }),
  fc.record({ k: fc.constant('handle' as const), d: dIdx, vcpu: fc.integer({ min: 0, max: VCPUS - 1 }) }),
);

function setup(xsm: 'dummy' | 'silo'): Rig {
  const r = rig({ xsm, domains: 3, vcpus: VCPUS });
  for (let i = 0; i < 3; i++) {
    const m = r.doms[i].memory;
    m.write(ARG, new Uint8Array(24));
    m.writeU16(ARG, DOMID_SELF);
    m.writeU64(ARG + 16, BigInt(SHINFO >>> 12));
    expect(r.call(i, Hypercall.memory_op, 7, ARG)).toBe(0);
    for (let v = 0; v < VCPUS; v++) {
      const gpa = vcpuInfoGpa(v);
      m.writeU64(ARG, BigInt(gpa >>> 12));
      m.writeU32(ARG + 8, gpa & 0xfff);
      expect(r.callAs(i, v, Hypercall.vcpu_op, 10, v, ARG)).toBe(0);
    }
  }
  return r;
}

/** What a correct guest ISR does on vCPU v: clear upcall_pending, take the selector, clear pending & ~mask. */
function guestHandle(r: Rig, i: number, v: number): void {
  const m = r.doms[i].memory;
  const vi = vcpuInfoGpa(v);
  m.writeU8(vi + VcpuInfo.upcallPending, 0);
  const sel = m.readU64(vi + VcpuInfo.pendingSel)!;
  m.writeU64(vi + VcpuInfo.pendingSel, 0n);
  for (let w = 0; w < 64; w++) {
    if (((sel >> BigInt(w)) & 1n) === 0n) continue;
    const pa = SHINFO + SharedInfo.evtchnPending + 8 * w;
    const ma = SHINFO + SharedInfo.evtchnMask + 8 * w;
    m.writeU64(pa, m.readU64(pa)! & m.readU64(ma)!);
  }
}

function apply(r: Rig, o: Op): void {
  const ev = r.xen.evtchn;
  const d = r.doms[o.d];
  switch (o.k) {
    case 'alloc':
      ev.allocUnbound(d, o.dom, o.remote);
      break;
    case 'bindInter':
      ev.bindInterdomain(d, o.remote, o.port);
      break;
    case 'virq':
      ev.bindVirq(d, o.virq, o.vcpu);
      break;
    case 'ipi':
      ev.bindIpi(d, o.vcpu);
      break;
    case 'close':
      ev.close(d, o.port);
      break;
    case 'send':
      ev.send(d, o.port);
      break;
    case 'unmask':
      ev.unmask(d, o.port);
      break;
    case 'bindVcpu':
      ev.bindVcpu(d, o.port, o.vcpu);
      break;
    case 'reset':
      ev.reset(d, o.dom, false);
      break;
    case 'status':
      ev.status(d, o.dom, o.port);
      break;
    case 'mask': {
      const a = SHINFO + SharedInfo.evtchnMask + (o.port >> 3);
      d.memory.writeU8(a, d.memory.readU8(a)! | (1 << (o.port & 7)));
      break;
    }
    case 'handle':
      guestHandle(r, o.d, o.vcpu);
      break;
  }
}

/** A channel past "reserved": the only kind EVTCHNOP_unmask acts on (Xen's evtchn_usable). */
function usableAfter(r: Rig, i: number, port: number): boolean {
  const ch = r.xen.evtchn.channel(r.doms[i].domid, port);
  return ch !== undefined && ch.binding.state !== 'free' && ch.binding.state !== 'reserved';
}

function bit(r: Rig, i: number, base: number, n: number): boolean {
  return ((r.doms[i].memory.readU8(base + (n >> 3))! >> (n & 7)) & 1) === 1;
}

/** Every broken invariant, as text (plain checks: `expect` per port would dominate the run time). */
function violations(r: Rig, xsm: 'dummy' | 'silo'): string[] {
  const bad: string[] = [];
  const ev = r.xen.evtchn;
  for (let i = 0; i < 3; i++) {
    const d = r.doms[i];
    const at = (p: number) => `d${d.domid}:${p}`;
    const chans = ev.channels(d.domid);
    if (new Set(chans.map((c) => c.port)).size !== chans.length) bad.push(`d${d.domid}: a port twice`);
    if (ev.channel(d.domid, 0)?.binding.state !== 'reserved') bad.push(`${at(0)} not reserved`);
    for (const c of chans) {
      const b = c.binding;
      if (c.notifyVcpu >= VCPUS) bad.push(`${at(c.port)} notifies vCPU ${c.notifyVcpu}`);
      if (b.state === 'interdomain') {
        const peer = ev.channel(b.remoteDomid, b.remotePort)?.binding;
        if (peer?.state !== 'interdomain' || peer.remoteDomid !== d.domid || peer.remotePort !== c.port) {
          bad.push(`${at(c.port)} peer d${b.remoteDomid}:${b.remotePort} does not point back`);
        }
        if (xsm === 'silo' && b.remoteDomid !== d.domid) bad.push(`${at(c.port)} crosses domUs under SILO`);
      }
      if (b.state === 'virq') {
        const owner = virqIsGlobal(b.virq) ? 0 : c.notifyVcpu;
        if (ev.virqPort(d.domid, owner, b.virq) !== c.port) bad.push(`${at(c.port)} VIRQ ${b.virq} not in the table`);
      }
      // 2-level: a pending, unmasked port is visible through some vCPU's selector and upcall flag.
      const pending = bit(r, i, SHINFO + SharedInfo.evtchnPending, c.port);
      const masked = bit(r, i, SHINFO + SharedInfo.evtchnMask, c.port);
      if (pending && !masked) {
        let seen = false;
        for (let v = 0; v < VCPUS; v++) {
          if (bit(r, i, vcpuInfoGpa(v) + VcpuInfo.pendingSel, c.port >> 6) && d.memory.readU8(vcpuInfoGpa(v)) === 1) seen = true;
        }
        if (!seen) bad.push(`${at(c.port)} pending but not signalled`);
      }
    }
    for (let p = 0; p < ev.validCount(d.domid); p++) {
      if (ev.channel(d.domid, p)?.binding.state === 'free' && bit(r, i, SHINFO + SharedInfo.evtchnPending, p)) {
        bad.push(`${at(p)} free but pending`);
      }
    }
    for (let v = 0; v < VCPUS; v++) {
      for (let virq = 0; virq < NR_VIRQS; virq++) {
        const p = ev.virqPort(d.domid, v, virq);
        const b = p === 0 ? undefined : ev.channel(d.domid, p)?.binding;
        if (b && (b.state !== 'virq' || b.virq !== virq)) bad.push(`d${d.domid} vCPU ${v} VIRQ ${virq} -> ${p} is not that VIRQ`);
      }
      if (d.memory.readU64(vcpuInfoGpa(v) + VcpuInfo.pendingSel) !== 0n && d.memory.readU8(vcpuInfoGpa(v)) !== 1) {
        bad.push(`d${d.domid} vCPU ${v}: selector set without upcall_pending`);
      }
    }
  }
  return bad;
}

describe('event channels: random operation sequences across 3 domains', () => {
  for (const xsm of ['dummy', 'silo'] as const) {
    it(`keep every invariant (${xsm})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 20, maxLength: 80, size: 'max' }), (ops) => {
          const r = setup(xsm);
          expect(violations(r, xsm)).toEqual([]);
          for (const o of ops) {
            const before = r.doms.map((d) => d.vcpus.map((v, k) => [v.upcalls, d.memory.readU8(vcpuInfoGpa(k))!] as const));
            apply(r, o);
            const bad = violations(r, xsm);
            // The upcall is raised exactly on each 0->1 edge Xen makes.
            r.doms.forEach((d, i) =>
              d.vcpus.forEach((v, k) => {
                const [n0, u0] = before[i][k];
                const u1 = d.memory.readU8(vcpuInfoGpa(k))!;
                const want = o.k !== 'handle' && u0 === 0 && u1 === 1 ? 1 : 0;
                if (v.upcalls - n0 !== want) bad.push(`d${d.domid} vCPU ${k}: ${v.upcalls - n0} upcalls, want ${want}`);
              }),
            );
            // A successful unmask of a usable port (not free, not reserved) leaves it unmasked.
            if (o.k === 'unmask' && usableAfter(r, o.d, o.port) && bit(r, o.d, SHINFO + SharedInfo.evtchnMask, o.port)) {
              bad.push(`d${r.doms[o.d].domid}:${o.port} still masked after unmask`);
            }
            if (bad.length) expect(bad, JSON.stringify(o)).toEqual([]);
          }
        }),
        { numRuns: 200, seed: 0x5eed },
      );
    });
  }

  it('the hypercall edge never throws on arbitrary arguments', () => {
    const r = setup('dummy');
    fc.assert(
      fc.property(
        fc.constantFrom(
          Hypercall.event_channel_op,
          Hypercall.memory_op,
          Hypercall.sched_op,
          Hypercall.xen_version,
          Hypercall.hvm_op,
          Hypercall.vcpu_op,
          Hypercall.console_io,
        ),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 3, maxLength: 3 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 2 }),
        (nr, [x0, , x2], bytes, i) => {
          r.doms[i].memory.write(ARG, bytes);
          const small = BigInt.asUintN(8, x0);
          const v = r.call(i, nr, small, ARG, x2);
          expect(Number.isInteger(v)).toBe(true);
          const w = r.call(i, nr, x0, x2, ARG);
          expect(Number.isInteger(w)).toBe(true);
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });
});
