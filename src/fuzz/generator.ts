import { DOMID_SELF, Hypercall, hypercallName } from '../xen/abi.ts';
import { EVTCHNOP, evtchnOpName } from '../xen/evtchn/codec.ts';
import { NR_VIRQS } from '../xen/evtchn/channel.ts';
import { PAGE_SIZE } from '../xen/evtchn/layout.ts';
import { HVMOP } from '../xen/ops/hvm-op.ts';
import { XENMEM } from '../xen/ops/memory-op.ts';
import { SCHEDOP } from '../xen/ops/sched-op.ts';
import { VCPUOP } from '../xen/ops/vcpu-op.ts';
import { XENVER } from '../xen/ops/xen-version.ts';
import { GNTTABOP, gnttabOpName } from '../xen/gnttab/layout.ts';
import { GRANT_MAP_BASE } from './grant-model.ts';
import type { Rng } from './rng.ts';
import { FUZZ_RAM_BASE, FUZZ_RAM_SIZE, type FuzzDomain, type World } from './world.ts';

/** One step a hostile guest takes: a hypercall, or a write into its own RAM. */
export type Step =
  | { kind: 'call'; dom: number; vcpu: number; nr: number; args: bigint[]; /** bytes the guest put in its RAM first */ prep: Patch[] }
  | { kind: 'poke'; dom: number; patch: Patch }
  /** A vCPU's SCHEDOP_poll ends by its timeout. */
  | { kind: 'timeout'; dom: number; vcpu: number }
  /** The guest writes grant entry `ref` of its own table (flags, domid, frame: 8 bytes). */
  | { kind: 'grant'; dom: number; ref: number; bytes: Uint8Array }
  /** The guest stores through a page mapped beyond its RAM (a granted page: shared with the granter). */
  | { kind: 'foreign'; dom: number; gpa: bigint; bytes: Uint8Array };

export interface Patch {
  gpa: number;
  bytes: Uint8Array;
}

const END = FUZZ_RAM_BASE + FUZZ_RAM_SIZE;
const U64 = (1n << 64n) - 1n;

/** What the generator knows of the world when it picks arguments (read from the real state). */
export interface Knowledge {
  /** Ports in use per domid (any state but free). */
  ports(domid: number): number[];
  /** Unbound ports of any domain that `domid` may bind (their remote is `domid`). */
  offers(domid: number): { domid: number; port: number }[];
  /** vCPUs of `domid` that may make a call now (not blocked in SCHEDOP_poll). */
  idleVcpus(domid: number): number[];
  /** vCPUs of `domid` blocked in SCHEDOP_poll. */
  pollingVcpus(domid: number): number[];
  /** A FIFO domain's control blocks (GPA per vCPU) and event-array pages (GPAs), as the model has them. */
  fifo(domid: number): FifoLayout | undefined;
  /** Grant entries (refs 0..15) of any domain that give `domid` access. */
  grantsTo(domid: number): { domid: number; ref: number; readonly: boolean }[];
  /** Live grant mappings of `domid`: maptrack handle and the page it is mapped at. */
  mappings(domid: number): { handle: number; hostPage: bigint }[];
  /** Pages mapped beyond `domid`'s RAM (granted pages, live or left mapped). */
  foreignPages(domid: number): bigint[];
}

export interface FifoLayout {
  control: (number | undefined)[];
  pages: number[];
}

/**
 * Random and mutated hypercalls from hostile guests. Each call is built from a valid shape
 * (the sub-op's struct with plausible fields: live ports, real domids, RAM frames) and then
 * bent: random fields, random bytes, pointers at, across and beyond the end of RAM, vCPUs and
 * domids that do not exist. Deterministic in the Rng.
 */
export class Generator {
  /** Half the worlds switch their domains to FIFO early and often. */
  private readonly fifoBias: boolean;
  /** A third of the worlds share pages through grants a lot. */
  private readonly grantBias: boolean;

  constructor(
    private readonly rng: Rng,
    private readonly world: World,
    private readonly know: Knowledge,
  ) {
    this.fifoBias = rng.chance(0.5);
    this.grantBias = rng.chance(0.35);
  }

  next(): Step {
    const r = this.rng;
    const live = this.world.doms.filter((d) => !d.stopped);
    const d = r.pick(live);
    const polling = this.know.pollingVcpus(d.domid);
    if (polling.length && r.chance(0.05)) return { kind: 'timeout', dom: d.domid, vcpu: r.pick(polling) };
    const idle = this.know.idleVcpus(d.domid);
    if (idle.length === 0) return { kind: 'timeout', dom: d.domid, vcpu: r.pick(polling) };
    if (r.chance(0.12)) return { kind: 'poke', dom: d.domid, patch: this.poke(d) };
    if (r.chance(this.grantBias ? 0.05 : 0.01)) return this.grantEntry(d);
    if (r.chance(0.03)) {
      const pages = this.know.foreignPages(d.domid);
      if (pages.length) {
        const off = r.below(4096 - 8);
        return { kind: 'foreign', dom: d.domid, gpa: r.pick(pages) + BigInt(off), bytes: new Uint8Array(r.range(1, 8)).map(() => r.below(256)) };
      }
    }
    const vcpu = r.pick(idle);
    const prep: Patch[] = [];
    const nr = r.weighted<number>([
      [50, Hypercall.event_channel_op],
      [8, Hypercall.memory_op],
      [9, Hypercall.sched_op],
      [6, Hypercall.xen_version],
      [5, Hypercall.hvm_op],
      [6, Hypercall.vcpu_op],
      [4, Hypercall.console_io],
      [this.grantBias ? 12 : 3, Hypercall.grant_table_op],
      [3, -1],
    ]);
    let args: bigint[];
    switch (nr) {
      case Hypercall.event_channel_op:
        args = this.evtchn(d, prep);
        break;
      case Hypercall.memory_op:
        args = this.memory(d, prep);
        break;
      case Hypercall.sched_op:
        args = this.sched(d, prep);
        break;
      case Hypercall.xen_version:
        args = [BigInt(r.chance(0.9) ? r.range(0, 11) : r.u32()), this.pointer(d, 1024)];
        break;
      case Hypercall.hvm_op:
        args = this.hvm(d, prep);
        break;
      case Hypercall.vcpu_op:
        args = this.vcpuOp(d, prep);
        break;
      case Hypercall.console_io:
        args = this.console(d, prep);
        break;
      case Hypercall.grant_table_op:
        args = this.gnttab(d, prep);
        break;
      default: {
        // A hypercall number nobody implements, or garbage in x16.
        const n = r.chance(0.7) ? r.range(0, 63) : r.u32();
        return { kind: 'call', dom: d.domid, vcpu, nr: n, args: [r.u64(), this.pointer(d, 64), r.u64(), r.u64(), r.u64()].map((x) => BigInt.asUintN(64, x)), prep };
      }
    }
    while (args.length < 5) args.push(r.chance(0.8) ? 0n : r.u64());
    // Now and then a register is plain garbage (the upper halves matter: Xen truncates some).
    if (r.chance(0.05)) args[r.below(3)] = r.u64();
    if (r.chance(0.03)) args[0] = BigInt.asUintN(64, args[0] | (r.u64() << 32n));
    // Registers are 64 bits wide.
    return { kind: 'call', dom: d.domid, vcpu, nr, args: args.map((x) => BigInt.asUintN(64, x)), prep };
  }

  // ---- values -------------------------------------------------------------------------

  /** A guest handle: mostly a scratch buffer in RAM, often near or across its end, sometimes nowhere. */
  pointer(d: FuzzDomain, size: number): bigint {
    const r = this.rng;
    const k = r.weighted<string>([
      [55, 'inside'],
      [14, 'straddle'],
      [8, 'outside'],
      [6, 'shared'],
      [4, 'page-end'],
      [8, 'wild'],
      [5, 'null'],
    ]);
    switch (k) {
      case 'inside':
        return BigInt(FUZZ_RAM_BASE + r.range(0, Math.max(0, FUZZ_RAM_SIZE - size - 1)) & ~(r.chance(0.9) ? 7 : 0));
      case 'straddle':
        return BigInt(END - r.range(1, Math.max(1, size + 8)));
      case 'outside':
        return r.chance(0.5) ? BigInt(END + r.range(0, 64)) : BigInt(FUZZ_RAM_BASE - r.range(1, 64));
      case 'shared': {
        const gpa = d.sharedInfoGpa ?? d.vcpus.find((v) => v.vcpuInfoGpa !== undefined)?.vcpuInfoGpa;
        return gpa === undefined ? BigInt(FUZZ_RAM_BASE + r.range(0, FUZZ_RAM_SIZE - 1)) : BigInt(gpa + r.range(0, 1100));
      }
      case 'page-end':
        return BigInt(FUZZ_RAM_BASE + r.range(1, FUZZ_RAM_SIZE / PAGE_SIZE) * PAGE_SIZE - r.range(1, 16));
      case 'wild':
        return r.pick([U64, U64 - 3n, 1n << 63n, r.u64(), BigInt(r.u32()), BigInt(END) + (1n << 32n), 0x40000000n << 32n]);
      default:
        return 0n;
    }
  }

  /** A frame number for a struct: one of the domain's RAM pages, just outside, or garbage. */
  private frame(): bigint {
    const r = this.rng;
    const first = FUZZ_RAM_BASE / PAGE_SIZE;
    const n = FUZZ_RAM_SIZE / PAGE_SIZE;
    return r.weighted<bigint>([
      [70, BigInt(first + r.below(n))],
      [10, BigInt(first + n + r.below(4))],
      [5, BigInt(first - 1)],
      [15, r.chance(0.5) ? r.u64() : BigInt(r.u32())],
    ]);
  }

  /** One of the domain's RAM frames. */
  private ramFrame(): bigint {
    return BigInt(FUZZ_RAM_BASE / PAGE_SIZE + this.rng.below(FUZZ_RAM_SIZE / PAGE_SIZE));
  }

  private domid(d: FuzzDomain): number {
    const r = this.rng;
    const ids = this.world.doms.map((x) => x.domid);
    return r.weighted<number>([
      [35, DOMID_SELF],
      [20, d.domid],
      [30, r.pick(ids)],
      [5, r.pick([0, 5, 6, 0x7ff1, 0x7ff2, 0x7ff3, 0x7ff4, 0x7fff, 0xffff])],
      [10, r.below(0x10000)],
    ]);
  }

  private port(d: FuzzDomain, otherDomain?: number): number {
    const r = this.rng;
    const own = this.know.ports(otherDomain ?? d.domid);
    return r.weighted<number>([
      [own.length ? 60 : 0, own.length ? r.pick(own) : 0],
      [20, r.range(0, 70)],
      [10, r.pick([0, 63, 64, 127, 128, 1023, 1024, 4095, 4096, 0x7fffffff, 0xffffffff])],
      [10, r.u32()],
    ]);
  }

  private vcpuId(d: FuzzDomain): number {
    const r = this.rng;
    return r.weighted<number>([
      [80, r.below(d.vcpus.length)],
      [10, d.vcpus.length + r.below(3)],
      [10, r.u32()],
    ]);
  }

  /** Writes `bytes` at a handle (what the guest prepared), mutated now and then. */
  private place(ptr: bigint, bytes: Uint8Array, prep: Patch[]): void {
    const r = this.rng;
    if (r.chance(0.15)) {
      const flips = r.range(1, 3);
      for (let i = 0; i < flips && bytes.length; i++) bytes[r.below(bytes.length)] = r.below(256);
    }
    // Only the part inside RAM can be written by the guest.
    const start = Number(ptr < BigInt(FUZZ_RAM_BASE) ? BigInt(FUZZ_RAM_BASE) : ptr > BigInt(END) ? BigInt(END) : ptr);
    const end = Math.min(END, start + bytes.length);
    if (end > start) prep.push({ gpa: start, bytes: bytes.subarray(start - Number(ptr), end - Number(ptr)) });
  }

  private struct(size: number): { b: Uint8Array; v: DataView } {
    const b = new Uint8Array(size);
    // Fields not set stay what the guest's buffer held: usually zero, sometimes noise.
    if (this.rng.chance(0.2)) for (let i = 0; i < size; i++) b[i] = this.rng.below(256);
    return { b, v: new DataView(b.buffer) };
  }

  // ---- hypercall families --------------------------------------------------------------

  private evtchn(d: FuzzDomain, prep: Patch[]): bigint[] {
    const r = this.rng;
    const fifo = this.know.fifo(d.domid);
    const noBlock = fifo ? fifo.control.some((c) => c === undefined) : true;
    const cmd = r.weighted<number>([
      [10, EVTCHNOP.alloc_unbound],
      [10, EVTCHNOP.bind_interdomain],
      [5, EVTCHNOP.bind_virq],
      [2, EVTCHNOP.bind_pirq],
      [10, EVTCHNOP.close],
      [18, EVTCHNOP.send],
      [5, EVTCHNOP.status],
      [5, EVTCHNOP.bind_ipi],
      [6, EVTCHNOP.bind_vcpu],
      [8, EVTCHNOP.unmask],
      [1, EVTCHNOP.reset],
      [fifo ? (noBlock ? 5 : 1) : this.fifoBias ? 10 : 2, EVTCHNOP.init_control],
      [fifo ? (fifo.pages.length < 2 ? 8 : 1) : 1, EVTCHNOP.expand_array],
      [fifo ? 8 : 2, EVTCHNOP.set_priority],
      [1, EVTCHNOP.reset_cont],
      [2, r.chance(0.5) ? r.range(15, 40) : r.u32() | 0],
    ]);
    const ptr = this.pointer(d, 24);
    let s: { b: Uint8Array; v: DataView } | undefined;
    switch (cmd) {
      case EVTCHNOP.alloc_unbound:
        s = this.struct(8);
        s.v.setUint16(0, this.domid(d), true);
        s.v.setUint16(2, this.domid(d), true);
        break;
      case EVTCHNOP.bind_interdomain: {
        s = this.struct(12);
        const offers = this.know.offers(d.domid);
        if (offers.length && r.chance(0.6)) {
          const o = r.pick(offers);
          s.v.setUint16(0, o.domid === d.domid && r.chance(0.5) ? DOMID_SELF : o.domid, true);
          s.v.setUint32(4, o.port, true);
          break;
        }
        const rd = this.domid(d);
        s.v.setUint16(0, rd, true);
        const peer = rd === DOMID_SELF ? d.domid : rd;
        s.v.setUint32(4, this.port(d, this.world.doms.some((x) => x.domid === peer) ? peer : undefined), true);
        break;
      }
      case EVTCHNOP.bind_virq:
        s = this.struct(12);
        s.v.setUint32(0, r.chance(0.85) ? r.below(NR_VIRQS + 2) : r.u32(), true);
        s.v.setUint32(4, this.vcpuId(d), true);
        break;
      case EVTCHNOP.bind_pirq:
        s = this.struct(12);
        s.v.setUint32(0, r.chance(0.7) ? r.below(1100) : r.u32(), true);
        s.v.setUint32(4, r.below(2), true);
        break;
      case EVTCHNOP.close:
      case EVTCHNOP.send:
      case EVTCHNOP.unmask:
        s = this.struct(4);
        s.v.setUint32(0, this.port(d), true);
        break;
      case EVTCHNOP.status:
        s = this.struct(24);
        s.v.setUint16(0, this.domid(d), true);
        s.v.setUint32(4, this.port(d, r.chance(0.3) ? r.pick(this.world.doms).domid : undefined), true);
        break;
      case EVTCHNOP.bind_ipi:
        s = this.struct(8);
        s.v.setUint32(0, this.vcpuId(d), true);
        break;
      case EVTCHNOP.bind_vcpu:
        s = this.struct(8);
        s.v.setUint32(0, this.port(d), true);
        s.v.setUint32(4, this.vcpuId(d), true);
        break;
      case EVTCHNOP.reset:
      case EVTCHNOP.reset_cont:
        s = this.struct(2);
        s.v.setUint16(0, this.domid(d), true);
        break;
      case EVTCHNOP.init_control:
        s = this.struct(24);
        if (r.chance(0.75)) {
          // A valid control block: a RAM page, an aligned offset that fits, a vCPU without one.
          const free = d.vcpus.map((v) => v.id).filter((v) => fifo?.control[v] === undefined);
          s.v.setBigUint64(0, this.ramFrame(), true);
          s.v.setUint32(8, r.below((PAGE_SIZE - 72) / 8 + 1) * 8, true);
          s.v.setUint32(12, free.length && r.chance(0.9) ? r.pick(free) : this.vcpuId(d), true);
          break;
        }
        s.v.setBigUint64(0, this.frame(), true);
        s.v.setUint32(8, r.chance(0.7) ? r.below(520) * 8 : r.chance(0.5) ? r.below(PAGE_SIZE + 8) : r.u32(), true);
        s.v.setUint32(12, this.vcpuId(d), true);
        break;
      case EVTCHNOP.expand_array:
        s = this.struct(8);
        s.v.setBigUint64(0, r.chance(0.8) ? this.ramFrame() : this.frame(), true);
        break;
      case EVTCHNOP.set_priority:
        s = this.struct(8);
        s.v.setUint32(0, this.port(d), true);
        s.v.setUint32(4, r.weighted<number>([
          [85, r.below(16)],
          [10, r.range(16, 20)],
          [5, r.u32()],
        ]), true);
        break;
      default:
        s = this.struct(24);
    }
    this.place(ptr, s.b, prep);
    return [BigInt.asUintN(64, BigInt(cmd)), ptr];
  }

  private memory(d: FuzzDomain, prep: Patch[]): bigint[] {
    const r = this.rng;
    const op = r.weighted<number>([
      [50, XENMEM.add_to_physmap],
      [30, XENMEM.remove_from_physmap],
      [20, r.range(0, 63)],
    ]);
    // The continuation index in the upper bits of the command, now and then.
    const cmd = BigInt(op) | (r.chance(0.1) ? BigInt(r.range(1, 0x10001)) << 6n : 0n);
    const ptr = this.pointer(d, 24);
    const s = this.struct(24);
    s.v.setUint16(0, this.domid(d), true);
    if (op === XENMEM.remove_from_physmap) {
      const gpa = d.sharedInfoGpa;
      s.v.setBigUint64(8, gpa !== undefined && r.chance(0.6) ? BigInt(gpa / PAGE_SIZE) : this.frame(), true);
    } else {
      s.v.setUint16(2, r.chance(0.7) ? r.below(3) : r.below(0x10000), true);
      s.v.setUint32(4, r.chance(0.6) ? 0 : r.chance(0.8) ? r.below(6) : r.u32(), true);
      s.v.setBigUint64(8, r.chance(0.8) ? 0n : r.u64(), true);
      s.v.setBigUint64(16, this.frame(), true);
    }
    this.place(ptr, s.b, prep);
    return [cmd, ptr];
  }

  private sched(d: FuzzDomain, prep: Patch[]): bigint[] {
    const r = this.rng;
    const cmd = r.weighted<number>([
      [10, SCHEDOP.yield],
      [5, SCHEDOP.block],
      [30, SCHEDOP.poll],
      [1, SCHEDOP.shutdown],
      [4, SCHEDOP.shutdown_code],
      [4, SCHEDOP.remote_shutdown],
      [2, SCHEDOP.watchdog],
      [2, SCHEDOP.pin_override],
      [3, r.chance(0.5) ? r.range(8, 40) : r.u32() | 0],
    ]);
    const ptr = this.pointer(d, 24);
    const s = this.struct(24);
    switch (cmd) {
      case SCHEDOP.poll: {
        const n = r.weighted<number>([
          [50, 1],
          [30, r.range(0, 8)],
          [10, r.range(120, 130)],
          [10, r.u32()],
        ]);
        const arr = this.pointer(d, 4 * Math.min(n, 130));
        s.v.setBigUint64(0, arr, true);
        s.v.setUint32(8, n, true);
        s.v.setBigUint64(16, r.chance(0.5) ? 0n : r.chance(0.5) ? BigInt(r.u32()) : U64, true);
        const k = Math.min(n, 130);
        const ports = new Uint8Array(4 * k);
        const pv = new DataView(ports.buffer);
        for (let i = 0; i < k; i++) pv.setUint32(4 * i, this.port(d), true);
        this.place(arr, ports, prep);
        break;
      }
      case SCHEDOP.shutdown:
      case SCHEDOP.shutdown_code:
        s.v.setUint32(0, r.chance(0.8) ? r.below(8) : r.u32(), true);
        break;
      case SCHEDOP.remote_shutdown:
        s.v.setUint16(0, this.domid(d), true);
        s.v.setUint32(4, r.below(8), true);
        break;
    }
    // The struct goes in after the ports: a poll struct may overlap its own port array.
    this.place(ptr, s.b, prep);
    return [BigInt.asUintN(64, BigInt(cmd)), ptr];
  }

  private hvm(d: FuzzDomain, prep: Patch[]): bigint[] {
    const r = this.rng;
    const op = r.weighted<bigint>([
      [45, BigInt(HVMOP.get_param)],
      [35, BigInt(HVMOP.set_param)],
      [5, BigInt(HVMOP.guest_request_vm_event)],
      [15, r.chance(0.5) ? BigInt(r.range(2, 40)) : r.u64()],
    ]);
    const ptr = this.pointer(d, 16);
    const s = this.struct(16);
    s.v.setUint16(0, this.domid(d), true);
    s.v.setUint32(4, r.chance(0.8) ? r.pick([0, 1, 2, 17, 18, r.below(45)]) : r.u32(), true);
    s.v.setBigUint64(8, r.u64(), true);
    this.place(ptr, s.b, prep);
    return [op, op === BigInt(HVMOP.guest_request_vm_event) && r.chance(0.5) ? 0n : ptr];
  }

  private vcpuOp(d: FuzzDomain, prep: Patch[]): bigint[] {
    const r = this.rng;
    const cmd = r.weighted<number>([
      [55, VCPUOP.register_vcpu_info],
      [20, VCPUOP.register_runstate_memory_area],
      [25, r.chance(0.7) ? r.range(0, 20) : r.u32() | 0],
    ]);
    const ptr = this.pointer(d, 16);
    const s = this.struct(16);
    s.v.setBigUint64(0, this.frame(), true);
    s.v.setUint32(8, r.chance(0.7) ? r.below(PAGE_SIZE / 64) * 64 : r.chance(0.5) ? r.below(PAGE_SIZE) : r.u32(), true);
    this.place(ptr, s.b, prep);
    return [BigInt.asUintN(64, BigInt(cmd)), BigInt(this.vcpuId(d)), ptr];
  }

  private console(d: FuzzDomain, prep: Patch[]): bigint[] {
    const r = this.rng;
    const cmd = r.weighted<number>([
      [70, 0],
      [15, 1],
      [15, r.u32()],
    ]);
    const count = r.weighted<number>([
      [60, r.range(0, 300)],
      [15, r.range(0, FUZZ_RAM_SIZE + 100)],
      [15, r.pick([0xffffffff, 0x80000000, 0x7fffffff])],
      [10, r.u32()],
    ]);
    const ptr = this.pointer(d, Math.min(count, 512));
    if (cmd === 0 && r.chance(0.5)) {
      const text = new Uint8Array(Math.min(count, 400)).map(() => (r.chance(0.1) ? 10 : r.chance(0.9) ? r.range(0x20, 0x7e) : r.below(256)));
      this.place(ptr, text, prep);
    }
    return [BigInt(cmd), BigInt(count) | (r.chance(0.05) ? r.u64() << 32n : 0n), ptr];
  }

  /** A grant entry: mostly permit_access (read-only now and then) to another domain for one of its RAM frames. */
  private grantEntry(d: FuzzDomain): Step {
    const r = this.rng;
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    const others = this.world.doms.filter((x) => x !== d).map((x) => x.domid);
    const flags = r.weighted<number>([
      [55, 1],
      [20, 1 | 4],
      [10, 0],
      [15, r.below(0x10000)],
    ]);
    v.setUint16(0, flags, true);
    v.setUint16(2, r.chance(0.85) && others.length ? r.pick(others) : this.domid(d), true);
    v.setUint32(4, Number(r.chance(0.85) ? this.ramFrame() : this.frame() & 0xffffffffn), true);
    return { kind: 'grant', dom: d.domid, ref: r.chance(0.9) ? r.below(16) : r.below(512), bytes: b };
  }

  /** A page beyond RAM where a guest maps a grant. */
  private hostAddr(d: FuzzDomain): bigint {
    const r = this.rng;
    return r.weighted<bigint>([
      [75, BigInt(GRANT_MAP_BASE + r.below(16) * PAGE_SIZE) + (r.chance(0.1) ? BigInt(r.below(4096)) : 0n)],
      [10, BigInt(FUZZ_RAM_BASE + r.below(FUZZ_RAM_SIZE))],
      [5, 0n],
      [10, r.u64()],
    ]);
  }

  private gnttab(d: FuzzDomain, prep: Patch[]): bigint[] {
    const r = this.rng;
    const cmd = r.weighted<number>([
      [25, GNTTABOP.map_grant_ref],
      [15, GNTTABOP.unmap_grant_ref],
      [25, GNTTABOP.copy],
      [8, GNTTABOP.setup_table],
      [6, GNTTABOP.query_size],
      [4, GNTTABOP.set_version],
      [4, GNTTABOP.get_version],
      [5, r.below(16)],
    ]);
    const count = r.weighted<number>([
      [80, 1],
      [12, r.range(0, 4)],
      [8, r.chance(0.5) ? r.u32() : r.range(5, 300)],
    ]);
    const size = cmd === GNTTABOP.map_grant_ref ? 32 : cmd === GNTTABOP.unmap_grant_ref ? 24 : cmd === GNTTABOP.copy ? 40 : 24;
    const n = Math.min(count, 4);
    const ptr = this.pointer(d, size * Math.max(1, n));
    const all = new Uint8Array(size * Math.max(1, n));
    for (let i = 0; i < Math.max(1, n); i++) {
      const s = this.struct(size);
      const v = s.v;
      const grants = this.know.grantsTo(d.domid);
      const g = grants.length && r.chance(0.8) ? r.pick(grants) : { domid: this.domid(d), ref: r.below(20), readonly: r.chance(0.5) };
      switch (cmd) {
        case GNTTABOP.map_grant_ref:
          v.setBigUint64(0, this.hostAddr(d), true);
          v.setUint32(8, r.weighted<number>([
            [70, 2 | (g.readonly || r.chance(0.3) ? 4 : 0)],
            [30, r.below(32)],
          ]), true);
          v.setUint32(12, g.ref, true);
          v.setUint16(16, g.domid, true);
          break;
        case GNTTABOP.unmap_grant_ref: {
          const m = this.know.mappings(d.domid);
          const h = m.length && r.chance(0.8) ? r.pick(m) : { handle: r.below(300), hostPage: this.hostAddr(d) };
          v.setBigUint64(0, r.chance(0.85) ? h.hostPage : r.chance(0.5) ? 0n : this.hostAddr(d), true);
          v.setUint32(16, h.handle, true);
          break;
        }
        case GNTTABOP.copy: {
          // Each side a grant (gref) of another domain, or a frame of the caller's own (DOMID_SELF).
          const srcG = r.chance(0.5);
          const dstG = r.chance(0.5);
          const side = (at: number, gref: boolean) => {
            if (gref) {
              const x = grants.length && r.chance(0.8) ? r.pick(grants) : g;
              v.setUint32(at, x.ref, true);
              v.setUint16(at + 8, x.domid, true);
            } else {
              v.setBigUint64(at, r.chance(0.85) ? this.ramFrame() : this.frame(), true);
              v.setUint16(at + 8, r.chance(0.85) ? DOMID_SELF : this.domid(d), true);
            }
            // Offsets at the page's edge for this length (just fits, one byte over) now and then.
            const off = r.weighted<number>([
              [60, r.below(4096)],
              [15, 4096 - len],
              [10, 4097 - len],
              [15, r.below(0x10000)],
            ]);
            v.setUint16(at + 10, off & 0xffff, true);
          };
          const len = r.chance(0.8) ? r.below(600) : r.chance(0.5) ? 4096 : r.below(0x10000);
          side(0, srcG);
          side(16, dstG);
          v.setUint16(32, len, true);
          v.setUint16(34, r.chance(0.9) ? (srcG ? 1 : 0) | (dstG ? 2 : 0) : r.below(0x10000), true);
          break;
        }
        case GNTTABOP.setup_table:
          v.setUint16(0, this.domid(d), true);
          v.setUint32(4, r.chance(0.8) ? r.below(4) : r.chance(0.5) ? r.range(60, 70) : r.u32(), true);
          v.setBigUint64(16, this.pointer(d, 64), true);
          break;
        default:
          v.setUint16(0, this.domid(d), true);
          v.setUint32(r.chance(0.5) ? 0 : 4, r.chance(0.8) ? r.below(4) : r.u32(), true);
      }
      all.set(s.b, i * size);
    }
    this.place(ptr, all, prep);
    const c = BigInt(cmd) | (r.chance(0.03) ? BigInt(r.below(0x1000)) << 12n : 0n);
    return [c, ptr, BigInt(count)];
  }

  /** The guest writes its own RAM: mostly its event bits, sometimes anything. */
  private poke(d: FuzzDomain): Patch {
    const r = this.rng;
    const fifo = this.know.fifo(d.domid);
    if (fifo && r.chance(0.7)) {
      const p = this.fifoPoke(d, fifo);
      if (p) return p;
    }
    const si = d.sharedInfoGpa;
    if (si !== undefined && r.chance(0.7)) {
      // Mask or unmask, clear a pending bit, or clear the selector/upcall_pending: what an event handler does.
      const which = r.below(4);
      if (which < 2) {
        const off = si + 48 + which * 512 + r.below(16);
        return { gpa: off, bytes: new Uint8Array([r.below(256)]) };
      }
      if (which === 2) return { gpa: si + 8, bytes: new Uint8Array(8).map(() => (r.chance(0.5) ? 0 : r.below(256))) };
      return { gpa: si, bytes: new Uint8Array([r.chance(0.8) ? 0 : 1]) };
    }
    const gpa = FUZZ_RAM_BASE + r.below(FUZZ_RAM_SIZE - 8);
    return { gpa, bytes: new Uint8Array(r.range(1, 8)).map(() => r.below(256)) };
  }

  /**
   * What a FIFO guest writes: it consumes (clears LINKED, and PENDING, of a word; moves a head
   * on to its LINK; clears a ready bit or upcall_pending), masks and unmasks, and now and then
   * writes nonsense into its words and control block.
   */
  private fifoPoke(d: FuzzDomain, f: FifoLayout): Patch | undefined {
    const r = this.rng;
    const know = this.know;
    const mem = d.memory;
    const blocks = f.control.filter((c): c is number => c !== undefined);
    if (f.pages.length && (!blocks.length || r.chance(0.7))) {
      const own = know.ports(d.domid);
      const port = own.length && r.chance(0.85) ? r.pick(own) : r.below(f.pages.length * 1024);
      if (port >= f.pages.length * 1024) return undefined;
      const w = f.pages[port >> 10] + (port & 1023) * 4;
      const top = mem.bytes[w + 3 - FUZZ_RAM_BASE];
      const which = r.below(7);
      if (which === 6) return { gpa: w, bytes: new Uint8Array(4).map(() => (r.chance(0.5) ? 0 : r.below(256))) };
      const next = [top & ~W.linked, top & ~(W.linked | W.pending), top | W.masked, top & ~W.masked, top & ~W.pending, r.below(256)][which];
      return { gpa: w + 3, bytes: new Uint8Array([next]) };
    }
    if (!blocks.length) return undefined;
    const cb = r.pick(blocks);
    const which = r.below(4);
    if (which === 0) return { gpa: cb, bytes: new Uint8Array([r.chance(0.7) ? 0 : r.below(256)]) };
    if (which === 3) {
      // upcall_pending of some vCPU's vcpu_info, cleared as the upcall handler does.
      const v = r.pick(d.vcpus);
      if (v.vcpuInfoGpa !== undefined) return { gpa: v.vcpuInfoGpa, bytes: new Uint8Array([0]) };
      if (d.sharedInfoGpa !== undefined) return { gpa: d.sharedInfoGpa, bytes: new Uint8Array([0]) };
      return undefined;
    }
    // A head moves on to its port's LINK (the guest took it), or is cleared or garbled.
    const prio = r.below(16);
    const h = cb + 8 + 4 * prio;
    const head = mem.readU32(h) ?? 0;
    let next = 0;
    if (which === 1 && head > 0 && head < f.pages.length * 1024) {
      const w = f.pages[head >> 10] + (head & 1023) * 4;
      next = (mem.readU32(w) ?? 0) & 0x1ffff;
    } else if (which === 2) next = r.chance(0.5) ? 0 : r.below(2048);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, next, true);
    return { gpa: h, bytes: b };
  }
}

/** Bits of an event word's top byte (public/event_channel.h): PENDING, MASKED, LINKED. */
const W = { pending: 0x80, masked: 0x40, linked: 0x20 } as const;

// ---- names for coverage --------------------------------------------------------------

const sub = (m: Record<string, number>, prefix: string) => new Map(Object.entries(m).map(([k, v]) => [v, `${prefix}${k}`]));
const XENMEM_NAMES = sub(XENMEM, 'XENMEM_');
const SCHEDOP_NAMES = sub(SCHEDOP, 'SCHEDOP_');
const XENVER_NAMES = sub(XENVER, 'XENVER_');
const HVMOP_NAMES = sub(HVMOP, 'HVMOP_');
const VCPUOP_NAMES = sub(VCPUOP, 'VCPUOP_');

/** "event_channel_op/EVTCHNOP_send": the hypercall and sub-op a call reaches (unknown ones grouped). */
export function callKey(nr: number, a: readonly bigint[]): string {
  const name = hypercallName(nr);
  const i32 = Number(BigInt.asIntN(32, a[0] ?? 0n));
  switch (nr) {
    case Hypercall.event_channel_op:
      return `${name}/${i32 >= 0 && i32 <= 14 ? evtchnOpName(i32) : 'other'}`;
    case Hypercall.memory_op: {
      const op = Number((a[0] ?? 0n) & 63n);
      return `${name}/${XENMEM_NAMES.get(op) ?? 'other'}`;
    }
    case Hypercall.sched_op:
      return `${name}/${SCHEDOP_NAMES.get(i32) ?? 'other'}`;
    case Hypercall.xen_version:
      return `${name}/${XENVER_NAMES.get(i32) ?? 'other'}`;
    case Hypercall.hvm_op: {
      const op = a[0] ?? 0n;
      return `${name}/${op < 64n ? (HVMOP_NAMES.get(Number(op)) ?? 'other') : 'other'}`;
    }
    case Hypercall.vcpu_op:
      return `${name}/${VCPUOP_NAMES.get(i32) ?? 'other'}`;
    case Hypercall.grant_table_op: {
      const c = Number(BigInt.asUintN(64, a[0] ?? 0n) & 0xfffn);
      return `${name}/${c <= 12 ? gnttabOpName(c) : 'other'}`;
    }
    case Hypercall.console_io: {
      const c = Number(BigInt.asUintN(32, a[0] ?? 0n));
      return `${name}/${c === 0 ? 'CONSOLEIO_write' : c === 1 ? 'CONSOLEIO_read' : 'other'}`;
    }
    default:
      return nr >= 0 && nr < 64 ? name : 'hypercall_other';
  }
}

/**
 * Where a call may write into the caller's RAM besides event state: the structs and buffers
 * Xen copies back (public headers: which sub-ops have OUT fields). Any other write is a bug.
 */
export function copyOutWindows(nr: number, a: readonly bigint[]): { ptr: bigint; len: number }[] {
  const i32 = Number(BigInt.asIntN(32, a[0] ?? 0n));
  const at = (len: number) => [{ ptr: BigInt.asUintN(64, a[1] ?? 0n), len }];
  switch (nr) {
    case Hypercall.event_channel_op: {
      const sizes: Record<number, number> = { [EVTCHNOP.alloc_unbound]: 8, [EVTCHNOP.bind_interdomain]: 12, [EVTCHNOP.bind_virq]: 12, [EVTCHNOP.bind_ipi]: 8, [EVTCHNOP.status]: 24, [EVTCHNOP.init_control]: 24 };
      return sizes[i32] ? at(sizes[i32]) : [];
    }
    case Hypercall.xen_version: {
      const sizes: Record<number, number> = { 1: 16, 2: 144, 3: 1024, 4: 64, 5: 8, 6: 8, 8: 16, 9: 1024 };
      return sizes[i32] ? at(sizes[i32]) : [];
    }
    case Hypercall.hvm_op:
      return a[0] === BigInt(HVMOP.get_param) ? at(16) : [];
    default:
      return [];
  }
}
