/**
 * The protocol checker (`xenvm-emu run --check`): watches each guest's side of the
 * event-channel ABI (2-level and FIFO, on every vCPU) while it runs and reports every rule it
 * breaks (rules.ts) at the moment it happens, with domain, vCPU, PC, symbol, source line
 * (source-lines.ts), port and the domain's last few hypercalls and event-interrupt steps.
 *
 * What it watches, and nothing else (a run without --check builds none of this, and the
 * machine has no code for it):
 * - guest stores to its shared_info page, every vCPU's registered vcpu_info and the FIFO
 *   control blocks and event-array pages (an engine memory hook on exactly those bytes, on
 *   every vCPU's engine, added when the guest hands them to Xen); a store's instruction is found
 *   (store-locator.ts) and classified (insn-class.ts) only when a rule needs it;
 * - every hypercall, by wrapping the hypervisor's entry point (arguments read from the guest
 *   after the call; the call itself is unchanged);
 * - the vGIC's acknowledge/EOI of the event interrupt (its observer) and EOIR writes, and the
 *   CPU's interrupt entry and return (the vCPU's interrupt watch).
 * It does not turn the trace on: with no sink attached, the trace costs nothing as before.
 */
import type { VTime } from '../machine/vtime.ts';
import type { Machine } from '../machine/machine.ts';
import type { MachineDomain } from '../machine/domain.ts';
import type { TraceBus } from '../trace/bus.ts';
import type { GicEvent } from '../gic/types.ts';
import { GICC_EOIR } from '../gic/regs-v2.ts';
import { ICC_EOIR1_EL1, ICC_INTID_MASK, sysregKey } from '../gic/regs-v3.ts';
import { errnoName } from '../xen/errno.ts';
import { physicalHandles } from '../xen/guest-handle.ts';
import { SharedInfo, PAGE_SIZE } from '../xen/evtchn/layout.ts';
import { EVTCHN_FIFO, FifoControlBlock } from '../xen/evtchn/fifo.ts';
import type { CheckRule } from './rules.ts';
import { DomainCheck, type Noted, type Reporter } from './domain-check.ts';
import { checkHypercall } from './hypercall-rules.ts';
import { locateStore, lowestBit } from './store-rules.ts';
import { sourceLine } from './source-lines.ts';

export { ALLOW_PREFIX } from './domain-check.ts';

export interface CheckReport {
  domid: number;
  vcpu: number;
  /** The instruction that broke the rule (for a hypercall: its call site when the stub is known). */
  pc: bigint;
  symbol?: string;
  /** "file:line" of pc, when the ELF has DWARF line information. */
  source?: string;
  port?: number;
  rule: CheckRule;
  message: string;
  /** The domain's last hypercalls and event-interrupt steps before it, as trace-like lines. */
  context: string[];
}

/** One report as the command line prints it (after "xenvm-emu: "). */
export function formatReport(r: CheckReport): string {
  const sym = (r.symbol ? ` <${r.symbol}>` : '') + (r.source ? ` at ${r.source}` : '');
  const port = r.port !== undefined ? ` port=${r.port}` : '';
  return `check: d${r.domid} v${r.vcpu} pc=0x${r.pc.toString(16)}${sym}${port} rule=${r.rule}: ${r.message}`;
}

const CONTEXT_EVENTS = 4;
const EOIR1_KEY = sysregKey(ICC_EOIR1_EL1);

export class ProtocolChecker implements Reporter {
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
    // Every argument is passed on as it came (the entry's signature is the hypervisor's).
    hv.hypercall = (...args: Parameters<typeof hv.hypercall>) => {
      const r = call(...args);
      const [domain, vcpu, nr, a, pc, , guest] = args;
      const c = this.doms.get(domain.domid);
      if (c && c.cpus[vcpu.id]) {
        c.cur = vcpu.id;
        // The handles the call itself used (the hypervisor's default when none were passed).
        checkHypercall(c, this, nr, a, r.value, BigInt(pc), guest ?? physicalHandles(domain.memory));
      }
      return r;
    };
    this.now = () => machine.now();
    this.evtchn = machine.xen.evtchn;
  }

  private evtchn: Machine['xen']['evtchn'] | undefined;

  private now: () => VTime = () => 0;

  /** Starts watching a domain of the attached machine (after Machine.addDomain, before it runs). */
  domainAdded(d: MachineDomain): void {
    const c = new DomainCheck(d);
    this.doms.set(d.domid, c);
    this.watchEoi(c);
    const prev = d.gic.observer;
    const mine = (e: GicEvent) => {
      if (!c.cpus[e.vcpu]) return;
      c.cur = e.vcpu;
      this.irq(c, e.intid, e.change);
    };
    d.gic.observer = prev ? (e) => (prev(e), mine(e)) : mine;
    for (const v of d.vcpus) {
      const i = v.index;
      v.cpu.watchInterrupts((step) => {
        c.cur = i;
        this.irq(c, -1, step.kind === 'taken' ? 'taken' : 'return', step.kind === 'taken' ? step.elr : step.pc);
      });
    }
  }

  /** Keeps the domain's last few ABI facts, rendered only if a report needs them. */
  note(c: DomainCheck, what: string, detail: string | number | bigint = '', result?: number, pc?: bigint): void {
    const n: Noted = { t: this.now(), vcpu: c.cur, what, detail, result, pc };
    c.recent.push(n);
    if (c.recent.length > CONTEXT_EVENTS) c.recent.shift();
  }

  context(c: DomainCheck): string[] {
    return c.recent.map((n) => {
      const res = n.result === undefined ? '' : ` = ${n.result}${n.result < 0 ? ` ${errnoName(n.result)}` : ''}`;
      const at = n.pc === undefined ? '' : `  @0x${n.pc.toString(16)}${c.d.symbolAt(n.pc) ? ` <${c.d.symbolAt(n.pc)}>` : ''}`;
      const detail = typeof n.detail === 'bigint' ? `0x${n.detail.toString(16)}` : typeof n.detail === 'number' ? `port=${n.detail}` : n.detail;
      return `[${String(n.t).padStart(10)}] d${c.d.domid}v${n.vcpu} ${n.what}${detail === '' ? '' : ` ${detail}`}${res}${at}`;
    });
  }

  private irq(c: DomainCheck, intid: number, change: string, at?: bigint): void {
    const ev = c.d.eventIntid;
    const v = c.cpus[c.cur];
    if (intid === ev) {
      if (change !== 'raise') this.note(c, `irq ${intid}`, change);
      if (change === 'ack') {
        v.irq = 'acked';
        v.upcallToClear = true;
        v.ackedThisEntry = true;
      } else if (change === 'eoi') {
        v.irq = 'dropped';
      } else if (change === 'deactivate') {
        v.irq = 'idle';
      }
      return;
    }
    if (intid >= 0) return;
    if (change === 'taken') {
      v.ackedThisEntry = false;
    } else if (change === 'return' && v.ackedThisEntry) {
      v.ackedThisEntry = false;
      this.note(c, 'irq return to', at ?? 0n);
      const pc = at ?? c.d.vcpus[c.cur].cpu.pc;
      if (v.irq === 'acked') {
        this.report(c, 'upcall-eoi', pc, undefined, `the interrupt handler returned with the event interrupt (INTID ${ev}) acknowledged but never EOIed: it cannot be delivered again`);
      }
      if (c.d.gic.inspect(c.cur, ev).pending) return;
      if (c.fifo) {
        const q = this.unreadyQueue(c);
        if (q) this.report(c, 'fifo-ready', pc, q.tail, `the upcall handler returned (to this pc) with queue ${q.q} of vCPU ${c.cur} still linked (its tail, port ${q.tail}, is LINKED) and its ready bit clear: Xen appends new events behind it without raising the upcall`);
        return;
      }
      const stuck = this.stuckPort(c);
      if (stuck !== undefined) {
        this.report(c, 'handler-pending', pc, stuck, `the upcall handler returned (to this pc) with port ${stuck} pending and unmasked and the event interrupt not pending: Xen will not signal it again`);
      }
    }
  }

  /**
   * FIFO: a queue of the current vCPU whose tail (Xen's private tail) is still LINKED while
   * its ready bit is clear: Xen links the next event behind that tail and, the queue not being
   * empty to it, neither sets ready nor raises the upcall.
   */
  private unreadyQueue(c: DomainCheck): { q: number; tail: number } | undefined {
    const fifo = this.evtchn?.fifo(c.d.domid);
    const cb = c.fifo?.controlBlocks.get(c.cur);
    if (!fifo || cb === undefined) return undefined;
    const ready = c.d.memory.readU32(cb + FifoControlBlock.ready);
    if (ready === undefined) return undefined;
    for (let q = 0; q < EVTCHN_FIFO.MAX_QUEUES; q++) {
      const tail = fifo.tail(c.cur, q);
      if (tail === 0 || ready & (1 << q)) continue;
      const w = fifo.word(tail);
      if (w !== undefined && w & (1 << EVTCHN_FIFO.LINKED)) return { q, tail };
    }
    return undefined;
  }

  /**
   * EOIs of the event interrupt as the guest writes them (GICC_EOIR, ICC_EOIR1_EL1): the vGIC
   * ignores an EOI with nothing active, so its own events cannot show a second one. The
   * domain's vGIC is wrapped, for this machine only.
   */
  private watchEoi(c: DomainCheck): void {
    const gic = c.d.gic;
    const ev = c.d.eventIntid;
    const eoi = (vcpu: number, intid: number, at: () => bigint) => {
      if (intid !== ev || !c.cpus[vcpu]) return;
      c.cur = vcpu;
      const state = c.cpus[vcpu].irq;
      if (state !== 'acked') this.report(c, 'eoi-twice', at(), undefined, `EOI of the event interrupt (INTID ${ev}) that has no acknowledge of its own (${state === 'idle' ? 'already EOIed' : 'priority already dropped'})`);
    };
    if (gic.version === 2) {
      const cpuBase = (gic as unknown as { cpuBase?: number }).cpuBase;
      if (cpuBase === undefined) return;
      const write = gic.mmioWrite.bind(gic);
      gic.mmioWrite = (vcpu, addr, size, value) => {
        // The engine's PC is a stale block start inside MMIO callbacks: find the store itself.
        if (addr === cpuBase + GICC_EOIR) eoi(vcpu, value & 0x3ff, () => locateStore(c, BigInt(addr), size, BigInt(value >>> 0)).pc);
        return write(vcpu, addr, size, value);
      };
    } else {
      const write = gic.sysregWrite.bind(gic);
      gic.sysregWrite = (vcpu, reg, value) => {
        if (sysregKey(reg) === EOIR1_KEY) eoi(vcpu, Number(value & BigInt(ICC_INTID_MASK)), () => c.d.vcpus[vcpu]?.cpu.pc ?? 0n);
        return write(vcpu, reg, value);
      };
    }
  }

  /** A port pending and unmasked while nothing will raise the upcall for it, if any. */
  private stuckPort(c: DomainCheck): number | undefined {
    if (c.sharedInfoGpa === undefined) return undefined;
    const mem = c.d.memory;
    const base = mem.offsetOf(c.sharedInfoGpa, PAGE_SIZE);
    if (base < 0) return undefined;
    if (c.words?.byteOffset !== mem.bytes.byteOffset + base) c.words = new Uint32Array(mem.bytes.buffer, mem.bytes.byteOffset + base, PAGE_SIZE / 4);
    const w = c.words;
    const pend = SharedInfo.evtchnPending / 4;
    const mask = SharedInfo.evtchnMask / 4;
    for (let i = 0; i < 128; i++) {
      const live = (w[pend + i] & ~w[mask + i]) >>> 0;
      if (live) return i * 32 + lowestBit(live);
    }
    return undefined;
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

  report(c: DomainCheck, rule: CheckRule, pc: bigint, port: number | undefined, message: string, key = '', context?: string[]): void {
    if (c.allowed.has(rule)) return;
    // Reports made inside a run come after what the guest printed before the offending store.
    c.d.drainConsole();
    // Once per rule, instruction and port: a loop that breaks a rule says so once.
    const k = `${rule}:${pc}:${port ?? ''}:${key}`;
    if (c.reported.has(k)) return;
    c.reported.add(k);
    const r: CheckReport = {
      domid: c.d.domid,
      vcpu: c.cur,
      pc,
      symbol: c.d.symbolAt(pc),
      source: sourceLine(c.d, pc),
      port,
      rule,
      message,
      context: context ?? this.context(c),
    };
    this.reports.push(r);
    this.bus.emit({ kind: 'check', domid: r.domid, vcpu: r.vcpu, pc: r.pc, symbol: r.symbol, source: r.source, port: r.port, rule: r.rule, message: r.message });
    this.onReport(r);
  }
}
