/**
 * The protocol checker (`xenvm-emu run --check`): watches each guest's side of the 2-level
 * event-channel ABI while it runs and reports every rule it breaks (rules.ts) at the moment it
 * happens, with domain, vCPU, PC, symbol, port and the domain's last few hypercalls and
 * event-interrupt steps.
 *
 * What it watches, and nothing else (a run without --check builds none of this, and the
 * machine has no code for it):
 * - guest stores to its shared_info page and registered vcpu_info (an engine memory hook on
 *   exactly those bytes, added when the guest maps them); a store's instruction is found
 *   (store-locator.ts) and classified (insn-class.ts) only when a rule needs it;
 * - every hypercall, by wrapping the hypervisor's entry point (arguments read from the guest
 *   after the call; the call itself is unchanged);
 * - the vGIC's acknowledge/EOI of the event interrupt (its observer) and EOIR writes, and the
 *   CPU's interrupt entry and return (the vCPU's interrupt watch).
 * It does not turn the trace on: with no sink attached, the trace costs nothing as before.
 */
import type { Machine } from '../machine/machine.ts';
import type { MachineDomain } from '../machine/domain.ts';
import type { TraceBus } from '../trace/bus.ts';
import type { GicEvent } from '../gic/types.ts';
import { Hypercall } from '../xen/abi.ts';
import { errnoName } from '../xen/errno.ts';
import { EVTCHNOP } from '../xen/evtchn/codec.ts';
import { SharedInfo, VcpuInfo, PAGE_SIZE } from '../xen/evtchn/layout.ts';
import { classifyStore, isAtomicUpdate, type StoreClass } from './insn-class.ts';
import { StoreLocator, blockStores, classBySize, type BlockStore } from './store-locator.ts';
import { RULE_IDS, type CheckRule } from './rules.ts';
import { GICC_EOIR } from '../gic/regs-v2.ts';

export interface CheckReport {
  domid: number;
  vcpu: number;
  /** The instruction that broke the rule (for a hypercall: its call site when the stub is known). */
  pc: bigint;
  symbol?: string;
  port?: number;
  rule: CheckRule;
  message: string;
  /** The domain's last hypercalls and event-interrupt steps before it, as trace-like lines. */
  context: string[];
}

/** One report as the command line prints it (after "xenvm-emu: "). */
export function formatReport(r: CheckReport): string {
  const sym = r.symbol ? ` <${r.symbol}>` : '';
  const port = r.port !== undefined ? ` port=${r.port}` : '';
  return `check: d${r.domid} v${r.vcpu} pc=0x${r.pc.toString(16)}${sym}${port} rule=${r.rule}: ${r.message}`;
}

/** An ELF symbol `xenvm_check_allow_<rule>` (dashes as underscores) turns a rule off for its domain. */
export const ALLOW_PREFIX = 'xenvm_check_allow_';

const CONTEXT_EVENTS = 4;
const DOMID_SELF = 0x7ff0;
const EINVAL = -22;
const ESRCH = -3;

/** An ABI field a guest byte belongs to; `bit` is the number of the byte's first bit (the port, for bitmaps). */
type Field = { kind: 'pending' | 'mask'; word: number; bit: number } | { kind: 'sel'; bit: number } | { kind: 'upcall' } | { kind: 'other' };
type Located = { pc: bigint; cls: StoreClass | 'unknown' };
/** One fact for a report's context: a hypercall (with result and pc) or an interrupt step. */
type Noted = { t: number; what: string; detail: string | number | bigint; result?: number; pc?: bigint };

/** Interrupt-controller view of the event interrupt: idle, acknowledged (active), or priority dropped. */
type UpcallIrq = 'idle' | 'acked' | 'dropped';

class DomainCheck {
  readonly locator = new StoreLocator();
  readonly allowed = new Set<CheckRule>();
  readonly reported = new Set<string>();
  /** The domain's last few ABI facts, rendered when a report needs them. */
  readonly recent: Noted[] = [];
  /** Failed EVTCHNOP_bind_interdomain by "dom:port", kept until a bind there succeeds. */
  readonly failedBinds = new Map<string, { pc: bigint; port: number | undefined; message: string; context: string[] }>();
  /** Ports this domain closed and has not been given again. */
  readonly closed = new Set<number>();
  sharedInfoGpa: number | undefined;
  vcpuInfoGpa: number | undefined;
  /** The stores of each translation block seen storing here, by its start (blockStores). */
  readonly blocks = new Map<bigint, BlockStore[]>();
  /** shared_info as 32-bit words (little-endian host: bit n of word i is port 32i + n). */
  words: Uint32Array | undefined;
  /** Guest ranges [lo, hi) with a store hook. */
  readonly hooked: { lo: number; hi: number }[] = [];
  irq: UpcallIrq = 'idle';
  /** The event interrupt was acknowledged and evtchn_upcall_pending not yet cleared. */
  upcallToClear = false;
  /** The event interrupt was acknowledged since the CPU last took an interrupt. */
  ackedThisEntry = false;

  constructor(readonly d: MachineDomain) {
    for (const s of d.symbols) {
      if (!s.name.startsWith(ALLOW_PREFIX)) continue;
      const rule = s.name.slice(ALLOW_PREFIX.length).replace(/_/g, '-') as CheckRule;
      if (RULE_IDS.includes(rule)) this.allowed.add(rule);
    }
  }
}

export class ProtocolChecker {
  readonly reports: CheckReport[] = [];
  private readonly doms = new Map<number, DomainCheck>();

  constructor(
    /** Where `check` trace events go (when a sink listens; the checker itself needs no trace). */
    private readonly bus: TraceBus,
    /** Called once per report, as it happens. */
    private readonly onReport: (r: CheckReport) => void = () => {},
  ) {}

  /**
   * Starts checking `machine`: its hypervisor's hypercall entry is wrapped (the call itself is
   * unchanged) so every hypercall's arguments and result are seen. Call before domains run.
   */
  attach(machine: Machine): void {
    const hv = machine.hv;
    const call = hv.hypercall.bind(hv);
    hv.hypercall = (domain, vcpu, nr, a, pc, symbols) => {
      const r = call(domain, vcpu, nr, a, pc, symbols);
      const c = this.doms.get(domain.domid);
      if (c) this.hypercall(c, nr, a, r.value, BigInt(pc));
      return r;
    };
    this.now = () => machine.now();
  }

  private now: () => number = () => 0;

  /** Starts watching a domain of the attached machine (after Machine.addDomain, before it runs). */
  domainAdded(d: MachineDomain): void {
    const c = new DomainCheck(d);
    this.doms.set(d.domid, c);
    this.watchEoi(c);
    const prev = d.gic.observer;
    const mine = (e: GicEvent) => this.irq(c, e.intid, e.change);
    d.gic.observer = prev ? (e) => (prev(e), mine(e)) : mine;
    d.vcpu.watchInterrupts((step) => this.irq(c, -1, step.kind === 'taken' ? 'taken' : 'return', step.kind === 'taken' ? step.elr : step.pc));
  }

  /** Keeps the domain's last few ABI facts, rendered only if a report needs them. */
  private note(c: DomainCheck, what: string, detail: string | number | bigint = '', result?: number, pc?: bigint): void {
    const n: Noted = { t: this.now(), what, detail, result, pc };
    c.recent.push(n);
    if (c.recent.length > CONTEXT_EVENTS) c.recent.shift();
  }

  private context(c: DomainCheck): string[] {
    return c.recent.map((n) => {
      const res = n.result === undefined ? '' : ` = ${n.result}${n.result < 0 ? ` ${errnoName(n.result)}` : ''}`;
      const at = n.pc === undefined ? '' : `  @0x${n.pc.toString(16)}${c.d.symbolAt(n.pc) ? ` <${c.d.symbolAt(n.pc)}>` : ''}`;
      const detail = typeof n.detail === 'bigint' ? `0x${n.detail.toString(16)}` : typeof n.detail === 'number' ? `port=${n.detail}` : n.detail;
      return `[${String(n.t).padStart(10)}] d${c.d.domid}v0 ${n.what}${detail === '' ? '' : ` ${detail}`}${res}${at}`;
    });
  }

  // ------------------------------------------------------------------ hypercalls

  private hypercall(c: DomainCheck, nr: number, a: readonly bigint[], result: number, pc: bigint): void {
    if (nr === Hypercall.memory_op || nr === Hypercall.vcpu_op) this.syncWatches(c);
    if (nr === Hypercall.sched_op && (a[0] === SCHEDOP_block || a[0] === SCHEDOP_poll) && c.irq === 'acked') {
      this.report(c, 'upcall-eoi', this.callSite(c, pc), undefined, `the vCPU waits for events (${a[0] === SCHEDOP_block ? 'SCHEDOP_block' : 'SCHEDOP_poll'}) with the event interrupt (INTID ${c.d.eventIntid}) acknowledged but never EOIed: it cannot be delivered again`);
    }
    if (nr !== Hypercall.event_channel_op) return;
    const cmd = Number(a[0]);
    const arg = Number(a[1]);
    const mem = c.d.memory;
    const errno = result < 0 ? errnoName(result) : '';
    const op = evtchnOpName(cmd);
    const at = result < 0 ? this.callSite(c, pc) : pc;
    switch (cmd) {
      case EVTCHNOP.close: {
        const port = mem.readU32(arg + 0);
        this.note(c, op, port ?? '', result, pc);
        if (port === undefined) return;
        if (result === 0) c.closed.add(port);
        else if (c.closed.has(port)) this.report(c, 'use-after-close', at, port, `EVTCHNOP_close of port ${port}, which this domain already closed (Xen: ${errno || result})`);
        return;
      }
      case EVTCHNOP.send: {
        const port = mem.readU32(arg + 0);
        this.note(c, op, port ?? '', result, pc);
        if (result >= 0 || port === undefined) return;
        if (c.closed.has(port)) this.report(c, 'use-after-close', at, port, `EVTCHNOP_send on port ${port} after this domain closed it (Xen: ${errno})`);
        else if (result === EINVAL) this.report(c, 'notify-unowned', at, port, `EVTCHNOP_send on port ${port}, which is not a bound port of this domain (Xen: ${errno})`);
        return;
      }
      case EVTCHNOP.unmask:
      case EVTCHNOP.bind_vcpu: {
        const port = mem.readU32(arg + 0);
        this.note(c, op, port ?? '', result, pc);
        if (result < 0 && port !== undefined && c.closed.has(port)) this.report(c, 'use-after-close', at, port, `${op} on port ${port} after this domain closed it (Xen: ${errno})`);
        return;
      }
      case EVTCHNOP.status: {
        const dom = mem.readU16(arg + 0);
        const port = mem.readU32(arg + 4);
        this.note(c, op, port ?? '', result, pc);
        if (result < 0 && port !== undefined && (dom === DOMID_SELF || dom === c.d.domid) && c.closed.has(port)) {
          this.report(c, 'use-after-close', at, port, `EVTCHNOP_status of port ${port} after this domain closed it (Xen: ${errno})`);
        }
        return;
      }
      case EVTCHNOP.alloc_unbound:
      case EVTCHNOP.bind_virq:
      case EVTCHNOP.bind_ipi: {
        // The port Xen hands out is a fresh one: using it again is fine.
        const port = mem.readU32(arg + cmd === EVTCHNOP.alloc_unbound ? 4 : cmd === EVTCHNOP.bind_virq ? 8 : 4);
        this.note(c, op, port ?? '', result, pc);
        if (result === 0 && port !== undefined) c.closed.delete(port);
        return;
      }
      case EVTCHNOP.bind_interdomain: {
        // A binder may try until its peer has offered (there is no other way to wait for an
        // offer): only a bind that never succeeds is reported, at the domain's or the run's end.
        const rd = mem.readU16(arg + 0);
        const rp = mem.readU32(arg + 4);
        const local = mem.readU32(arg + 8);
        this.note(c, op, `remote=d${rd}:${rp}`, result, pc);
        const key = `${rd}:${rp}`;
        if (result === 0) {
          c.failedBinds.delete(key);
          if (local !== undefined) c.closed.delete(local);
        } else if ((result === EINVAL || result === ESRCH) && !c.failedBinds.has(key)) {
          c.failedBinds.set(key, {
            pc: at,
            port: rp,
            message: `EVTCHNOP_bind_interdomain to d${rd} port ${rp} failed (Xen: ${errno}) and never succeeded: no unbound port there was offered to d${c.d.domid}`,
            context: this.context(c),
          });
        }
        return;
      }
      default:
        this.note(c, op, '', result, pc);
    }
  }

  private irq(c: DomainCheck, intid: number, change: string, at?: bigint): void {
    const ev = c.d.eventIntid;
    if (intid === ev) {
      if (change !== 'raise') this.note(c, `irq ${intid}`, change);
      if (change === 'ack') {
        c.irq = 'acked';
        c.upcallToClear = true;
        c.ackedThisEntry = true;
      } else if (change === 'eoi') {
        c.irq = 'dropped';
      } else if (change === 'deactivate') {
        c.irq = 'idle';
      }
      return;
    }
    if (intid >= 0) return;
    if (change === 'taken') {
      c.ackedThisEntry = false;
    } else if (change === 'return' && c.ackedThisEntry) {
      c.ackedThisEntry = false;
      this.note(c, 'irq return to', at ?? 0n);
      const pc = at ?? c.d.vcpu.pc;
      if (c.irq === 'acked') {
        this.report(c, 'upcall-eoi', pc, undefined, `the interrupt handler returned with the event interrupt (INTID ${ev}) acknowledged but never EOIed: it cannot be delivered again`);
      }
      const stuck = this.stuckPort(c);
      if (stuck !== undefined) {
        this.report(c, 'handler-pending', pc, stuck, `the upcall handler returned (to this pc) with port ${stuck} pending and unmasked and the event interrupt not pending: Xen will not signal it again`);
      }
    }
  }

  /**
   * EOIs of the event interrupt as the guest writes them (GICC_EOIR, ICC_EOIR1_EL1): the vGIC
   * ignores an EOI with nothing active, so its own events cannot show a second one. The
   * domain's vGIC is wrapped, for this machine only.
   */
  private watchEoi(c: DomainCheck): void {
    const gic = c.d.gic;
    const ev = c.d.eventIntid;
    const eoi = (intid: number, at: () => bigint) => {
      if (intid !== ev) return;
      if (c.irq !== 'acked') this.report(c, 'eoi-twice', at(), undefined, `EOI of the event interrupt (INTID ${ev}) that has no acknowledge of its own (${c.irq === 'idle' ? 'already EOIed' : 'priority already dropped'})`);
    };
    if (gic.version === 2) {
      const cpuBase = (gic as unknown as { cpuBase?: number }).cpuBase;
      if (cpuBase === undefined) return;
      const write = gic.mmioWrite.bind(gic);
      gic.mmioWrite = (vcpu, addr, size, value) => {
        // The engine's PC is a stale block start inside MMIO callbacks: find the store itself.
        if (addr === cpuBase + GICC_EOIR) eoi(value & 0x3ff, () => this.locate(c, BigInt(addr), size, BigInt(value >>> 0)).pc);
        return write(vcpu, addr, size, value);
      };
    } else {
      const write = gic.sysregWrite.bind(gic);
      gic.sysregWrite = (vcpu, reg, value) => {
        if (reg.op0 === 3 && reg.op1 === 0 && reg.crn === 12 && reg.crm === 12 && reg.op2 === 1) eoi(Number(value & 0xffffffn), () => c.d.vcpu.pc);
        return write(vcpu, reg, value);
      };
    }
  }

  /** A port pending and unmasked while nothing will raise the upcall for it, if any. */
  private stuckPort(c: DomainCheck): number | undefined {
    if (c.sharedInfoGpa === undefined) return undefined;
    if (c.d.gic.inspect(0, c.d.eventIntid).pending) return undefined;
    const mem = c.d.memory;
    const base = mem.offsetOf(c.sharedInfoGpa, PAGE_SIZE);
    if (base < 0) return undefined;
    if (c.words?.byteOffset !== mem.bytes.byteOffset + base) c.words = new Uint32Array(mem.bytes.buffer, mem.bytes.byteOffset + base, PAGE_SIZE / 4);
    const w = c.words;
    const pend = SharedInfo.evtchnPending / 4;
    const mask = SharedInfo.evtchnMask / 4;
    for (let i = 0; i < 128; i++) {
      const live = (w[pend + i] & ~w[mask + i]) >>> 0;
      if (live) return i * 32 + lowestBit(BigInt(live));
    }
    return undefined;
  }

  /** For a call through a hypercall stub (HYPERVISOR_*), the caller: the BL before the return address. */
  private callSite(c: DomainCheck, pc: bigint): bigint {
    const symbol = c.d.symbolAt(pc);
    if (symbol && /^(HYPERVISOR_|xen_hypercall)/.test(symbol)) {
      const lr = c.d.vcpu.x(30);
      if (lr >= 4n) return lr - 4n;
    }
    return pc;
  }

  // ------------------------------------------------------------------ shared_info stores

  /** Watches shared_info and vcpu_info wherever the guest has them now (after a hypercall). */
  private syncWatches(c: DomainCheck): void {
    const x = c.d.xen;
    const si = x.sharedInfoGpa;
    const vi = x.vcpus[0]?.vcpuInfoGpa;
    if (si !== c.sharedInfoGpa) {
      c.sharedInfoGpa = si;
      if (si !== undefined) this.watch(c, si, PAGE_SIZE);
    }
    if (vi !== c.vcpuInfoGpa) {
      c.vcpuInfoGpa = vi;
      if (vi !== undefined) this.watch(c, vi, VcpuInfo.size);
    }
  }

  private watch(c: DomainCheck, gpa: number, len: number): void {
    // Hooks stay once added (the engine has no cheap removal), and store() resolves fields
    // against where the pages are now: hook only bytes no earlier hook covers, so each store
    // reports once (a vcpu_info registered inside shared_info, a page mapped back).
    let parts = [{ lo: gpa, hi: gpa + len }];
    for (const h of c.hooked) parts = parts.flatMap((p) => [{ lo: p.lo, hi: Math.min(p.hi, h.lo) }, { lo: Math.max(p.lo, h.hi), hi: p.hi }]).filter((p) => p.lo < p.hi);
    if (!parts.length) return;
    // Inside the hypercall: end this run so the hook is in place before the guest's next store.
    c.d.vcpu.requestStop();
    for (const p of parts) {
      c.hooked.push(p);
      c.d.vcpu.watchWrites(BigInt(p.lo), BigInt(p.hi - 1), (a, s, v) => this.store(c, a, s, v));
    }
  }

  /** What a guest address is, in the 2-level ABI's terms. */
  private field(c: DomainCheck, gpa: number): Field {
    const vi = c.vcpuInfoGpa ?? (c.sharedInfoGpa !== undefined ? c.sharedInfoGpa + SharedInfo.vcpuInfo : undefined);
    if (vi !== undefined && gpa >= vi && gpa < vi + VcpuInfo.size) {
      const o = gpa - vi;
      if (o === VcpuInfo.upcallPending) return { kind: 'upcall' };
      if (o >= VcpuInfo.pendingSel && o < VcpuInfo.pendingSel + 8) return { kind: 'sel', bit: (o - VcpuInfo.pendingSel) * 8 };
      return { kind: 'other' };
    }
    const si = c.sharedInfoGpa;
    if (si === undefined) return { kind: 'other' };
    const o = gpa - si;
    if (o >= SharedInfo.evtchnPending && o < SharedInfo.evtchnMask) return { kind: 'pending', word: (o - SharedInfo.evtchnPending) >> 3, bit: (o - SharedInfo.evtchnPending) * 8 };
    if (o >= SharedInfo.evtchnMask && o < SharedInfo.evtchnMask + 512) return { kind: 'mask', word: (o - SharedInfo.evtchnMask) >> 3, bit: (o - SharedInfo.evtchnMask) * 8 };
    return { kind: 'other' };
  }

  private store(c: DomainCheck, address: bigint, size: number, value: bigint): void {
    const gpa = Number(address);
    // Most stores to the page are the ABI's; others (the rest of the page) leave at once.
    if (this.field(c, gpa).kind === 'other' && this.field(c, gpa + size - 1).kind === 'other') return;
    const mem = c.d.memory;
    const off = mem.offsetOf(gpa, size);
    if (off < 0) return;
    const ram = mem.bytes;
    const lo = Number(value & 0xffffffffn);
    const hi = Number((value >> 32n) & 0xffffffffn);
    // The instruction is looked for only when a rule needs it: its class usually follows from
    // the block alone (one kind of store in it); its exact PC only when a report is made.
    let loc: Located | undefined;
    let cls: StoreClass | 'unknown' | undefined;
    let racy: { kind: 'pending' | 'mask' | 'sel'; word: number; port?: number } | undefined;
    for (let i = 0; i < size; i++) {
      const was = ram[off + i];
      const is = ((i < 4 ? lo : hi) >>> (8 * (i & 3))) & 0xff;
      const f = this.field(c, gpa + i);
      if (f.kind === 'other') continue;
      if (f.kind === 'upcall') {
        if (is === 0) c.upcallToClear = false;
        else if (was === 0) this.report(c, 'guest-set', (loc ??= this.locate(c, address, size, value)).pc, undefined, 'the guest set evtchn_upcall_pending, which only Xen sets (the guest clears it)');
        continue;
      }
      const firstBit = f.bit;
      if (cls === undefined) {
        cls = this.blockClass(c, size);
        if (cls === undefined) cls = (loc ??= this.locate(c, address, size, value)).cls;
      }
      const k = cls;
      if (k !== 'unknown' && !isAtomicUpdate(k)) {
        const changed = was ^ is;
        if (!racy || (racy.port === undefined && changed)) {
          racy = { kind: f.kind, word: f.kind === 'sel' ? 0 : f.word, port: changed && f.kind !== 'sel' ? firstBit + lowestBit(BigInt(changed)) : undefined };
        }
      }
      for (let b = 0; b < 8; b++) {
        const m = 1 << b;
        if ((was & m) === (is & m)) continue;
        const n = firstBit + b;
        const set = (is & m) !== 0;
        if (f.kind === 'mask' && !set && this.pendingBit(c, n)) {
          this.report(c, 'local-unmask', (loc ??= this.locate(c, address, size, value)).pc, n, `mask bit of port ${n} cleared by the guest's own store while the port is pending: Xen never delivers this event (unmask with EVTCHNOP_unmask)`);
        } else if (set && f.kind === 'pending') {
          this.report(c, 'guest-set', (loc ??= this.locate(c, address, size, value)).pc, n, `the guest set the pending bit of port ${n}, which only Xen sets`);
        } else if (set && f.kind === 'sel') {
          this.report(c, 'guest-set', (loc ??= this.locate(c, address, size, value)).pc, undefined, `the guest set bit ${n} of evtchn_pending_sel, which only Xen sets`, `sel${n}`);
        } else if (!set && f.kind === 'sel' && c.upcallToClear) {
          this.report(c, 'upcall-order', (loc ??= this.locate(c, address, size, value)).pc, undefined, 'evtchn_pending_sel taken while evtchn_upcall_pending is still set from the interrupt: clear evtchn_upcall_pending first, then take the selector');
        }
      }
    }
    if (racy && cls !== undefined && cls !== 'unknown') {
      const how = `a ${cls} store (${cls === 'release' ? 'STLR' : 'not an exclusive or LSE atomic'})`;
      if (racy.kind === 'sel') this.report(c, 'selector-xchg', (loc ??= this.locate(c, address, size, value)).pc, undefined, `evtchn_pending_sel changed by ${how}: take the selector with an atomic exchange`);
      else this.report(c, 'plain-store', (loc ??= this.locate(c, address, size, value)).pc, racy.port, `evtchn_${racy.kind}[${racy.word}] changed by ${how}, a read-modify-write that loses any bit Xen sets in between`);
    }
  }

  private pendingBit(c: DomainCheck, port: number): boolean {
    const b = c.d.memory.readU8(c.sharedInfoGpa! + SharedInfo.evtchnPending + (port >> 3));
    return b !== undefined && (b & (1 << (port & 7))) !== 0;
  }

  /** The class of the running block's stores of `size` bytes, when they are all of one class. */
  private blockClass(c: DomainCheck, size: number): StoreClass | undefined {
    const v = c.d.vcpu;
    const block = v.blockPc;
    if (block === undefined) return undefined;
    let k = c.blocks.get(block);
    if (k === undefined) {
      const el = ((v.pstate >>> 2) & 3) === 0 ? 0 : 1;
      k = blockStores(block, (pc) => v.view.fetch(pc, el));
      c.blocks.set(block, k);
    }
    return classBySize(k, size);
  }

  private locate(c: DomainCheck, address: bigint, size: number, value: bigint): Located {
    const v = c.d.vcpu;
    const block = v.blockPc;
    if (block === undefined) return { pc: v.pc, cls: 'unknown' };
    const el = ((v.pstate >>> 2) & 3) === 0 ? 0 : 1;
    const s = c.locator.locate(block, v.retired, address, size, value, (pc) => v.view.fetch(pc, el), (n) => (n === 31 ? v.sp : v.x(n)));
    return s ? { pc: s.pc, cls: classifyStore(s.insn) } : { pc: block, cls: 'unknown' };
  }

  // ------------------------------------------------------------------ reports

  /** The run is over: reports what could only be judged at the end. */
  finish(): void {
    for (const c of this.doms.values()) this.flush(c);
  }

  private flush(c: DomainCheck): void {
    for (const f of c.failedBinds.values()) this.report(c, 'bind-no-offer', f.pc, f.port, f.message, '', f.context);
    c.failedBinds.clear();
  }

  private report(c: DomainCheck, rule: CheckRule, pc: bigint, port: number | undefined, message: string, key = '', context?: string[]): void {
    if (c.allowed.has(rule)) return;
    // Once per rule, instruction and port: a loop that breaks a rule says so once.
    const k = `${rule}:${pc}:${port ?? ''}:${key}`;
    if (c.reported.has(k)) return;
    c.reported.add(k);
    const r: CheckReport = {
      domid: c.d.domid,
      vcpu: 0,
      pc,
      symbol: c.d.symbolAt(pc),
      port,
      rule,
      message,
      context: context ?? this.context(c),
    };
    this.reports.push(r);
    this.bus.emit({ kind: 'check', domid: r.domid, vcpu: r.vcpu, pc: r.pc, symbol: r.symbol, port: r.port, rule: r.rule, message: r.message });
    this.onReport(r);
  }
}

const SCHEDOP_block = 1n;
const SCHEDOP_poll = 3n;
const EVTCHNOP_NAMES = new Map<number, string>(Object.entries(EVTCHNOP).map(([k, v]) => [v, `EVTCHNOP_${k}`]));
const evtchnOpName = (cmd: number) => EVTCHNOP_NAMES.get(cmd) ?? `EVTCHNOP_${cmd}`;

function lowestBit(v: bigint): number {
  let n = 0;
  while (n < 64 && ((v >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}
