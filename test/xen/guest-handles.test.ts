// Issue 14, item 5, table-driven: every hypercall argument that is a guest handle, aimed outside
// RAM, across its end, and just inside it. Xen copies an argument struct in whole or answers
// -EFAULT before it looks at any field (copy_from_guest); it copies a result out page by page
// (copy_to_guest), so the part inside RAM is written before -EFAULT. Nothing else may change:
// no port taken, no byte written anywhere else. firmware/apps/efault-probe checks the same
// cases against the real Xen 4.17 (test/golden/efault-probe.*).
import { describe, expect, it } from 'vitest';
import { DOMID_SELF, Hypercall } from '../../src/xen/abi.ts';
import { EVTCHNOP } from '../../src/xen/evtchn/codec.ts';
import { HVMOP } from '../../src/xen/ops/hvm-op.ts';
import { XENMEM } from '../../src/xen/ops/memory-op.ts';
import { SCHEDOP } from '../../src/xen/ops/sched-op.ts';
import { VCPUOP } from '../../src/xen/ops/vcpu-op.ts';
import { XENVER } from '../../src/xen/ops/xen-version.ts';
import { ARG, RAM_BASE, RAM_SIZE, rig, type Rig } from './helpers.ts';

const END = RAM_BASE + RAM_SIZE;
const EFAULT = -14;
const U64 = (1n << 64n) - 1n;

interface Row {
  name: string;
  nr: number;
  /** The registers, given the handle. */
  args: (h: bigint) => bigint[];
  /** Bytes Xen copies at the handle. */
  size: number;
  /** 'in': a struct copied in first; 'out': a result only copied out. */
  dir: 'in' | 'out';
}

const ev = (cmd: number, size: number): Row => ({ name: `event_channel_op ${cmd}`, nr: Hypercall.event_channel_op, args: (h) => [BigInt(cmd), h], size, dir: 'in' });
const ver = (cmd: number, size: number, dir: 'in' | 'out' = 'out'): Row => ({ name: `xen_version ${cmd}`, nr: Hypercall.xen_version, args: (h) => [BigInt(cmd), h], size, dir });

const rows: Row[] = [
  ...Object.entries({ alloc_unbound: 8, bind_interdomain: 12, bind_virq: 12, bind_pirq: 12, close: 4, send: 4, status: 24, bind_ipi: 8, bind_vcpu: 8, unmask: 4, reset: 2, init_control: 24, expand_array: 8, set_priority: 8, reset_cont: 2 }).map(([k, n]) => ({
    ...ev(EVTCHNOP[k as keyof typeof EVTCHNOP], n),
    name: `EVTCHNOP_${k}`,
  })),
  { name: 'XENMEM_add_to_physmap', nr: Hypercall.memory_op, args: (h) => [BigInt(XENMEM.add_to_physmap), h], size: 24, dir: 'in' },
  { name: 'XENMEM_remove_from_physmap', nr: Hypercall.memory_op, args: (h) => [BigInt(XENMEM.remove_from_physmap), h], size: 16, dir: 'in' },
  { name: 'SCHEDOP_shutdown', nr: Hypercall.sched_op, args: (h) => [BigInt(SCHEDOP.shutdown), h], size: 4, dir: 'in' },
  { name: 'SCHEDOP_shutdown_code', nr: Hypercall.sched_op, args: (h) => [BigInt(SCHEDOP.shutdown_code), h], size: 4, dir: 'in' },
  { name: 'SCHEDOP_poll', nr: Hypercall.sched_op, args: (h) => [BigInt(SCHEDOP.poll), h], size: 24, dir: 'in' },
  { name: 'SCHEDOP_remote_shutdown', nr: Hypercall.sched_op, args: (h) => [BigInt(SCHEDOP.remote_shutdown), h], size: 8, dir: 'in' },
  { name: 'HVMOP_set_param', nr: Hypercall.hvm_op, args: (h) => [BigInt(HVMOP.set_param), h], size: 16, dir: 'in' },
  { name: 'HVMOP_get_param', nr: Hypercall.hvm_op, args: (h) => [BigInt(HVMOP.get_param), h], size: 16, dir: 'in' },
  { name: 'VCPUOP_register_vcpu_info', nr: Hypercall.vcpu_op, args: (h) => [BigInt(VCPUOP.register_vcpu_info), 0n, h], size: 16, dir: 'in' },
  { name: 'VCPUOP_register_runstate_memory_area', nr: Hypercall.vcpu_op, args: (h) => [BigInt(VCPUOP.register_runstate_memory_area), 0n, h], size: 8, dir: 'in' },
  { ...ver(XENVER.get_features, 8, 'in'), name: 'XENVER_get_features' },
  { ...ver(XENVER.extraversion, 16), name: 'XENVER_extraversion' },
  { ...ver(XENVER.compile_info, 144), name: 'XENVER_compile_info' },
  { ...ver(XENVER.capabilities, 1024), name: 'XENVER_capabilities' },
  { ...ver(XENVER.changeset, 64), name: 'XENVER_changeset' },
  { ...ver(XENVER.platform_parameters, 8), name: 'XENVER_platform_parameters' },
  { ...ver(XENVER.guest_handle, 16), name: 'XENVER_guest_handle' },
  // A domU's commandline is the 9 bytes of "<denied>".
  { ...ver(XENVER.commandline, 9), name: 'XENVER_commandline (denied)' },
  { name: 'CONSOLEIO_write', nr: Hypercall.console_io, args: (h) => [0n, 100n, h], size: 100, dir: 'in' },
];

/** Every pointer that must fault wholly: past the end, before the start, wrapping, non-canonical. */
const outside = (size: number): bigint[] => [
  BigInt(END),
  BigInt(END + 4096),
  BigInt(RAM_BASE - size),
  BigInt(RAM_BASE - 1),
  0n,
  U64,
  U64 - BigInt(size) + 1n,
  1n << 63n,
  BigInt(END) + (1n << 32n),
];

function world(): Rig {
  const r = rig({ domains: 2 });
  // Something to lose: a port in each domain (an unbound one in d1 for d2), bits in shared_info.
  const m = r.doms[0].memory;
  m.write(ARG, new Uint8Array(8));
  m.writeU16(ARG, DOMID_SELF);
  m.writeU16(ARG + 2, 2);
  expect(r.call(0, Hypercall.event_channel_op, EVTCHNOP.alloc_unbound, ARG)).toBe(0);
  return r;
}

/** Everything a call could change that a guest or a peer could see (RAM compared natively). */
function state(r: Rig, copy = true): { text: string; mem: Uint8Array[] } {
  const ports = r.doms.map((d) => JSON.stringify(r.xen.evtchn.channels(d.domid)));
  const st = r.doms.map((d) => `${d.sharedInfoGpa}/${d.vcpus.map((v) => `${v.vcpuInfoGpa},${v.upcalls}`).join(';')}`);
  return { text: [...ports, ...st, r.console.length].join('|'), mem: r.doms.map((d) => (copy ? d.memory.bytes.slice() : d.memory.bytes)) };
}

function expectSame(r: Rig, before: ReturnType<typeof state>): void {
  const now = state(r, false);
  expect(now.text).toBe(before.text);
  now.mem.forEach((m, i) => expect(Buffer.compare(m, before.mem[i]), `d${i + 1}'s RAM`).toBe(0));
}

/** How many bytes of the handle lie inside RAM: all for small structs, a sample for big results. */
function inRam(size: number): number[] {
  if (size <= 24) return Array.from({ length: size - 1 }, (_, i) => i + 1);
  return [...new Set([1, 2, 7, 8, 9, 15, 16, 17, size >> 1, size - 9, size - 8, size - 1])];
}

describe.each(rows)('$name: a handle outside or across the end of RAM', (row) => {
  it('wholly outside RAM: -EFAULT, nothing changed', () => {
    const before = state(world());
    for (const h of outside(row.size)) {
      const r = world();
      expect(r.call(0, row.nr, ...row.args(h)), `handle 0x${h.toString(16)}`).toBe(EFAULT);
      expectSame(r, before);
    }
  });

  it('across the end: -EFAULT; an argument struct changes nothing, a result is written up to the end', () => {
    // What a complete result looks like, written well inside RAM.
    const ref = world();
    ref.call(0, row.nr, ...row.args(BigInt(ARG)));
    const full = ref.doms[0].memory.read(ARG, row.size)!;
    for (const k of inRam(row.size)) {
      const r = world();
      const at = END - k;
      r.doms[0].memory.write(at, new Uint8Array(k).fill(0xee));
      const before = state(r);
      expect(r.call(0, row.nr, ...row.args(BigInt(at))), `${k} bytes in RAM`).toBe(EFAULT);
      if (row.dir === 'in') expectSame(r, before);
      else expect(r.doms[0].memory.read(at, k)).toEqual(full.subarray(0, k));
      // Nothing before the handle was touched.
      expect(r.doms[0].memory.read(at - 64, 64)).toEqual(ref.doms[0].memory.read(at - 64, 64)!.fill(0));
    }
  });

  it('ending exactly at the end of RAM: not a fault', () => {
    const r = world();
    expect(r.call(0, row.nr, ...row.args(BigInt(END - row.size)))).not.toBe(EFAULT);
  });
});

describe('nested handles', () => {
  /** A sched_poll in RAM whose port array is at `ports`. */
  function poll(r: Rig, ports: bigint, nr: number): number {
    const m = r.doms[0].memory;
    m.write(ARG, new Uint8Array(24));
    m.writeU64(ARG, ports);
    m.writeU32(ARG + 8, nr);
    return r.call(0, Hypercall.sched_op, SCHEDOP.poll, ARG);
  }

  it('SCHEDOP_poll reads its ports one by one: a port past the end faults only when it is reached', () => {
    const r = world();
    r.doms[0].memory.writeU32(END - 4, 1); // port 1: unbound, not pending
    expect(poll(r, BigInt(END - 4), 2)).toBe(EFAULT);
    expect(r.xen.evtchn.isPolling(1, 0)).toBe(false);
    expect(poll(r, BigInt(END), 1)).toBe(EFAULT);
    expect(poll(r, U64 - 1n, 1)).toBe(EFAULT);
    // A bad port before the end is found first.
    r.doms[0].memory.writeU32(END - 4, 0);
    expect(poll(r, BigInt(END - 4), 2)).toBe(-22);
    // A pending first port ends the poll before the second is read.
    expect(r.xen.evtchn.hostSetPending(1, 1).ok).toBe(true);
    r.doms[0].memory.writeU32(END - 4, 1);
    // (upcall_pending is set by then: the poll returns 0 at once, as local_events_need_delivery)
    expect(poll(r, BigInt(END - 4), 2)).toBe(0);
  });

  it('VCPUOP_register_runstate_memory_area: Xen writes the runstate at once, and ignores a failed copy', () => {
    const r = world();
    const m = r.doms[0].memory;
    const area = RAM_BASE + 0x3000;
    m.write(area, new Uint8Array(48).fill(0xee));
    m.writeU64(ARG, BigInt(area));
    expect(r.call(0, Hypercall.vcpu_op, VCPUOP.register_runstate_memory_area, 0, ARG)).toBe(0);
    // state 0 (RUNSTATE_running) as the real Xen leaves it (golden efault-probe); times not kept.
    expect(m.read(area, 48)).toEqual(new Uint8Array(48));
    // Across the end of RAM: the part inside is written, the call still succeeds.
    m.write(END - 8, new Uint8Array(8).fill(0xee));
    m.writeU64(ARG, BigInt(END - 8));
    expect(r.call(0, Hypercall.vcpu_op, VCPUOP.register_runstate_memory_area, 0, ARG)).toBe(0);
    expect(m.read(END - 8, 8)).toEqual(new Uint8Array(8));
    m.writeU64(ARG, U64);
    expect(r.call(0, Hypercall.vcpu_op, VCPUOP.register_runstate_memory_area, 0, ARG)).toBe(0);
  });

  it('CONSOLEIO_write: the chunks before the one that crosses the end are printed, then -EFAULT', () => {
    const r = world();
    const m = r.doms[0].memory;
    const text = new TextEncoder().encode('a'.repeat(126) + '\n' + 'b'.repeat(60));
    m.write(END - 150, text.subarray(0, 150));
    expect(r.call(0, Hypercall.console_io, 0, 200, END - 150)).toBe(EFAULT);
    expect(r.console.map((c) => c.text)).toEqual(['a'.repeat(126) + '\n']);
  });
});
