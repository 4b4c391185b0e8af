/**
 * The machine: the one place that wires CPU, vGIC and Xen together, and the scheduler.
 *
 * Scheduling is round robin over every vCPU of every domain, in domid order and vCPU order
 * within a domain (d1v0, d1v1, d2v0, ...). Each runnable vCPU gets a quantum of guest
 * instructions (virtual time = instructions retired by all vCPUs, 1 instruction = 1 ns of guest
 * time), which makes every run with the same inputs identical: same transcript, same trace.
 */
import type { Vcpu, VcpuExit } from '../cpu/vcpu.ts';
import type { SysregAccess } from '../cpu/decode.ts';
import type { TraceBus } from '../trace/bus.ts';
import { Hypervisor, type XsmPolicy } from '../xen/hypervisor.ts';
import { installXen, type XenServices } from '../xen/ops/install.ts';
import { EC, PSTATE_I } from '../cpu/arm64.ts';
import { XEN_HYPERCALL_TAG } from '../xen/abi.ts';
import { MachineDomain, type DomainSpec } from './domain.ts';
import type { DomainVcpu } from './domain-vcpu.ts';
import { PSCI_RET, smcccCall } from './smccc.ts';
import { vcpuAffinity } from '../gic/index.ts';
import { gicTraceObserver } from '../trace/gic.ts';
import { GuestBitWatch } from './guest-bits.ts';
import { hex, type Result } from './result.ts';
import { residentBytes } from '../mem/resident.ts';
import { vbig, vclampDistance, vmin, vsub, vtime, type VTime } from './vtime.ts';
import { NS_PER_TICK } from '../xen/vtimer.ts';

/** A domain as PSCI sees it (smccc.ts): its vCPUs, their virtual affinity, which are up. */
function psciView(d: MachineDomain) {
  return { nrVcpus: d.vcpus.length, affinityOf: (v: number) => BigInt(vcpuAffinity(v)), online: (v: number) => d.vcpus[v]?.up ?? false };
}

export interface MachineOptions {
  xsm: XsmPolicy;
  trace: TraceBus;
  /**
   * Count instructions (default). Off is only for a single-domain machine with no limit but
   * wall-clock time: the vCPU runs at full engine speed, and virtual time does not advance.
   */
  counted?: boolean;
  /** Count per instruction rather than per block (exact budgets and fault PCs; slower). */
  exactCount?: boolean;
  /** Instructions per scheduling quantum (counted machines). */
  quantum: number;
  /** Varies quantum lengths deterministically (counted machines); undefined = fixed quanta. */
  seed?: number;
  /** Every console line, as it is printed. */
  onConsole(domid: number, text: string): void;
  /** Status messages (shutdowns, faults, limits), not part of the transcript. */
  onStatus(text: string): void;
  /**
   * Host memory one domain's RAM may use, in bytes (default DEFAULT_MAX_HOST_MEMORY; 0 = no
   * limit): the pages its guest touched (src/mem/resident.ts). A domain whose RAM is larger is
   * counted (so its runs end regularly) and checked between runs; past the limit it ends.
   */
  maxHostMemory?: number;
  /** Console bytes one domain may print (default DEFAULT_MAX_CONSOLE_BYTES; 0 = no limit);
   *  past it, one "output truncated" status line and nothing more from that domain. */
  maxConsoleBytes?: number;
}

/** Default per-domain host memory limit: 2 GiB. */
export const DEFAULT_MAX_HOST_MEMORY = 2048 * 1024 * 1024;
/** Default per-domain console output limit: 16 MiB. */
export const DEFAULT_MAX_CONSOLE_BYTES = 16 * 1024 * 1024;
/** Shortest wall time between two host memory checks of one domain. */
const MEMORY_CHECK_MS = 10;

export type RunEnd =
  | { kind: 'finished' }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'instruction-limit'; limit: number }
  | { kind: 'deadlock'; report: string };

export interface RunLimits {
  timeoutMs?: number;
  maxInstructions?: number;
}

/**
 * What a debugger (src/gdb) asks of the scheduler; only `runAsync` consults it. The machine
 * stays all-stop: while the debugger holds it, no domain runs, so virtual time stays coherent.
 */
export interface MachineDebugger {
  /** True while some debugger holds the machine stopped. */
  readonly holding: boolean;
  /** Resolves once the machine may run again (immediately when nothing holds it). */
  whenRunnable(): Promise<void>;
  /** A vCPU a debugger wants to single-step: it alone runs, one instruction at a time. */
  stepping(): DomainVcpu | undefined;
  /** Called before `v` runs; returns an instruction cap (1 to step off a planted breakpoint). */
  beforeRun(v: DomainVcpu): number | undefined;
  /** Called after `v` ran with how its run ended (breakpoints, finished steps). */
  afterRun(v: DomainVcpu, exit: VcpuExit): void;
  /** `d` ended (shutdown, fault, killed). */
  domainEnded(d: MachineDomain, reason: string): void;
}

/** Loop state of one run (shared by the synchronous and the debugger-aware loops). */
interface RunProgress {
  startWall: number;
  graceLeft: number;
  rr: number;
}

/** Instructions a domain may run after every domain has reported, to reach its shutdown. */
const GRACE_INSTRUCTIONS = 5_000_000;
/** Quantum when only one vCPU is runnable: long runs, few engine restarts, limits still checked often. */
const SOLO_QUANTUM = 5_000_000;
/** Under a debugger, the longest the scheduler runs before serving sockets (Ctrl-C latency). */
const YIELD_MS = 20;

export class Machine {
  readonly hv: Hypervisor;
  readonly xen: XenServices;
  readonly domains: MachineDomain[] = [];
  private readonly opts: MachineOptions;
  /**
   * Virtual time spent with every vCPU idle (poll timeouts and timer deadlines fast-forward it),
   * exact: a number while the whole clock stays below 2^53 ns, and from the first jump past that
   * (a guest's far deadline) `idleHigh` holds the rest, so `now()` stays exact (src/machine/vtime.ts).
   */
  private idleTime = 0;
  private idleHigh = 0n;
  private rng: number;
  /** Every vCPU of every domain in scheduling order (domid, then vCPU id). */
  private readonly slots: DomainVcpu[] = [];
  /** Their engines, for the virtual-time sum. */
  private readonly cpus: Vcpu[] = [];
  private current: DomainVcpu | undefined;
  private lastRun: DomainVcpu | undefined;
  /** Set only while `runAsync` runs under a debugger. */
  private debugger: MachineDebugger | undefined;
  /** Domains whose RAM exceeds the host memory limit: checked between runs, with when next. */
  private readonly memoryWatch = new Map<MachineDomain, number>();
  /** Console bytes printed per domain, counted up to just past the limit (--max-console-bytes). */
  private readonly consoleBytes = new Map<MachineDomain, number>();

  constructor(opts: MachineOptions) {
    this.opts = opts;
    this.rng = (opts.seed ?? 0) >>> 0 || 0x9e3779b9;
    this.hv = new Hypervisor({
      trace: opts.trace,
      xsm: opts.xsm,
      consoleWrite: (domid, text) => {
        const d = this.byDomid(domid);
        if (d) for (let i = 0; i < text.length; i++) d.consoleIo.putc(text.charCodeAt(i));
      },
    });
    this.xen = installXen(this.hv, {
      // local_events_need_delivery(): PSTATE.I clear and the event interrupt signalled.
      eventsNeedDelivery: (dom, vcpuId) => {
        const v = this.byDomid(dom.domid)?.vcpus[vcpuId]?.cpu;
        return v !== undefined && v.irqLine && (v.pstate & PSTATE_I) === 0;
      },
    });
    opts.trace.clock = () => this.now();
  }

  /** Virtual time: instructions retired by every vCPU plus idle time skipped (exact). */
  now(): VTime {
    const t = this.idleTime + this.retired();
    // Instructions retired stay far below 2^53 (years of guest time): only idle jumps leave it.
    return this.idleHigh === 0n ? t : vtime(this.idleHigh + BigInt(t));
  }

  /** Instructions retired by every vCPU (virtual time without the idle time skipped). */
  private retired(): number {
    let t = 0;
    const cpus = this.cpus;
    for (let i = 0; i < cpus.length; i++) t += cpus[i].retired;
    return t;
  }

  /** Skips idle virtual time forward to `t` (a deadline after now). */
  private fastForward(now: VTime, t: VTime): void {
    if (t <= now) return;
    if (typeof t === 'number' && this.idleHigh === 0n) {
      // Both safe integers, and so is their difference: the number path stays exact.
      this.idleTime += t - (now as number);
      return;
    }
    // Past 2^53: all idle time moves to the bigint, and the number part restarts at 0 so that
    // retired + idleTime (now()'s sum) is always a small, exact number.
    this.idleHigh = this.idleHigh + BigInt(this.idleTime) + vbig(vsub(t, now));
    this.idleTime = 0;
  }

  /** Counts a console line against the domain's limit; false once it is cut off. */
  private consoleAllowed(d: MachineDomain, text: string): boolean {
    const cap = this.opts.maxConsoleBytes ?? DEFAULT_MAX_CONSOLE_BYTES;
    if (cap <= 0) return true;
    const used = this.consoleBytes.get(d) ?? 0;
    if (used > cap) return false;
    const now = used + text.length + 1;
    this.consoleBytes.set(d, now);
    if (now <= cap) return true;
    this.opts.onStatus(`d${d.domid}: console output truncated: more than ${cap} bytes printed (--max-console-bytes); the rest of its output is dropped`);
    return false;
  }

  /**
   * Ends `d` if its RAM now uses more host memory than the limit. Checked after its runs, every
   * 10 to 100 ms of wall time (a scan of 1 GiB takes a few ms), so a guest can pass the limit by
   * what it touches in between before it is stopped.
   */
  private checkHostMemory(v: DomainVcpu): void {
    const d = v.domain;
    const next = this.memoryWatch.get(d);
    if (next === undefined || d.done) return;
    const t = performance.now();
    if (t < next) return;
    const used = residentBytes(d.memory.bytes) ?? 0;
    const t2 = performance.now();
    // At most ~5% of the time on scans, but never more than 100 ms apart (a loaded host makes
    // one slow scan look expensive).
    this.memoryWatch.set(d, t2 + Math.min(100, Math.max(MEMORY_CHECK_MS, 20 * (t2 - t))));
    const cap = this.opts.maxHostMemory ?? DEFAULT_MAX_HOST_MEMORY;
    if (used <= cap) return;
    const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB`;
    this.opts.onStatus(
      `${v.label} host memory limit: its RAM uses ${mib(used)} of host memory, over the limit of ${mib(cap)} (--max-host-memory); ` +
        `the domain ends at ${d.where(v.cpu.pc)}`,
    );
    this.end(d, 'limit: host memory');
  }

  private byDomid(domid: number): MachineDomain | undefined {
    return this.domains.find((d) => d.domid === domid);
  }

  addDomain(spec: Omit<DomainSpec, 'exactCount' | 'counted'>): Result<MachineDomain> {
    const r = MachineDomain.create(
      // Several vCPUs share the machine by quanta: they always count instructions.
      { ...spec, exactCount: this.opts.exactCount, counted: this.opts.counted !== false || (spec.vcpus ?? 1) > 1 },
      {
        traps: this.trapsFor(() => this.current),
        consoleFastPath: !this.opts.trace.on,
        onConsoleLine: (d, text, via) => {
          if (text.startsWith('Test result:') && d.result === undefined) d.result = text.slice('Test result:'.length).trim();
          if (!this.consoleAllowed(d, text)) return;
          this.opts.onConsole(d.domid, text);
          if (this.opts.trace.on) this.opts.trace.emit({ kind: 'console', domid: d.domid, text, via });
        },
        onDeviceLog: (_d, text) => this.opts.onStatus(text),
        onIrqLine: (d, vcpu, level) => {
          d.vcpus[vcpu].cpu.setIrqLine(level);
          if (this.opts.trace.on) this.opts.trace.emit({ kind: 'irq', domid: d.domid, vcpu, intid: -1, change: level ? 'line_up' : 'line_down' });
        },
        // GIC raise/ack/EOI/deactivate with the INTID, only when someone listens.
        observer: this.opts.trace.on ? gicTraceObserver(this.opts.trace, spec.domid) : undefined,
        beforeGicAccess: this.opts.trace.on ? (d) => d.bits?.check(d.xen.sharedInfoGpa) : undefined,
        onTimer: this.opts.trace.on
          ? (d, vcpu, e) =>
              this.opts.trace.emit(
                e.change === 'fire'
                  ? { kind: 'timer', domid: d.domid, vcpu, timer: e.timer, change: 'fire', intid: e.intid }
                  : { kind: 'timer', domid: d.domid, vcpu, timer: e.timer, change: 'set', ctl: e.ctl, cval: e.cval.toString() },
              )
          : undefined,
      },
    );
    if (!r.ok) return r;
    this.domains.push(r.value);
    const memCap = this.opts.maxHostMemory ?? DEFAULT_MAX_HOST_MEMORY;
    if (memCap > 0 && r.value.memory.size > memCap && residentBytes(r.value.memory.bytes) !== undefined) {
      // Only a domain with more RAM than the limit can pass it. It is counted so that its runs
      // end every quantum (an uncounted lone vCPU would run until the timeout in one go).
      r.value.vcpu.needVirtualTime();
      this.memoryWatch.set(r.value, 0);
    }
    // Scheduling order: domains as added (domid order from runImages), each one's vCPUs in order.
    for (const v of r.value.vcpus) {
      this.slots.push(v);
      this.cpus.push(v.cpu);
    }
    if (this.opts.trace.on) {
      r.value.bits = new GuestBitWatch(r.value.domid, r.value.memory, this.opts.trace);
      // The CPU's side of each interrupt: vector entry and the return to the interrupted code.
      const d = r.value;
      for (const v of d.vcpus) {
        v.cpu.watchInterrupts((step) =>
          this.opts.trace.emit({ kind: 'irq', domid: d.domid, vcpu: v.index, intid: -1, change: step.kind === 'taken' ? 'taken' : 'return', pc: step.kind === 'taken' ? step.elr : step.pc }),
        );
      }
    }
    this.xen.createDomainState(r.value.xen, {
      isConsole: true,
      maxEvtchnPort: spec.privileged ? undefined : 1023,
      // Xen's xenstore domain is the hardware domain, when there is one (added first).
      enhanced: spec.enhanced ? { xenstoreDomid: this.byDomid(0)?.xen.privileged ? 0 : undefined } : undefined,
    });
    this.hv.addDomain(r.value.xen);
    if (this.opts.trace.on) {
      this.opts.trace.emit({ kind: 'domain_start', domid: r.value.domid, name: r.value.name, entry: r.value.image.entry, dtb: r.value.dtbAddress });
    }
    return r;
  }

  private trapsFor(current: () => DomainVcpu | undefined) {
    return {
      // What an HVC means is Xen's: #0xEA1 a hypercall, #0 an SMCCC call (PSCI), anything else
      // an undefined-instruction exception whose preferred return is the next instruction.
      hvc: (vcpu: Vcpu, imm: number, at: bigint) => {
        const v = current()!;
        v.domain.drainConsole();
        if (imm === XEN_HYPERCALL_TAG) this.hypercall(v, vcpu, at);
        else if (imm === 0) this.smccc(v, vcpu);
        else {
          // Xen logs this on its console too ("d1v0 Invalid HVC imm 0x1234").
          this.opts.onStatus(`${v.label} invalid HVC imm 0x${imm.toString(16)} at ${v.domain.where(at)}: undefined instruction injected`);
          vcpu.injectSync(EC.UNKNOWN, 0, at + 4n);
        }
      },
      smc: (vcpu: Vcpu, imm: number, at: bigint) => {
        const v = current()!;
        v.domain.drainConsole();
        this.smc(v, vcpu, imm, at);
      },
      sysreg: (vcpu: Vcpu, acc: SysregAccess) => {
        const v = current()!;
        const d = v.domain;
        d.drainConsole();
        if (acc.op0 === 3 && acc.op1 === 3 && acc.crn === 14) {
          // The generic timer, on virtual time. A lone vCPU that was running uncounted (no
          // virtual time) starts counting now: the answers begin at time 0.
          if (!vcpu.counted) vcpu.needVirtualTime();
          const now = this.now();
          const r = v.timers.access(acc, now);
          // The access may have moved or fired a deadline: the native hook answers counter reads
          // only up to the next one.
          if (vcpu.counted) vcpu.setClock(now, v.timers.nextDeadline(), NS_PER_TICK);
          return r;
        }
        d.bits?.check(d.xen.sharedInfoGpa);
        if (d.gic.version !== 3) return { ok: false as const };
        if (acc.read) {
          const r = d.gic.sysregRead(v.index, acc);
          return r.ok ? { ok: true as const, value: BigInt(r.value) } : { ok: false as const };
        }
        const r = d.gic.sysregWrite(v.index, acc, acc.value ?? vcpu.x(acc.rt));
        return r.ok ? { ok: true as const } : { ok: false as const };
      },
    };
  }

  private hypercall(v: DomainVcpu, vcpu: Vcpu, at: bigint): void {
    const d = v.domain;
    const { nr, a } = vcpu.hypercallArgs();
    // Trace: what the guest changed in its shared_info before this call is the guest's doing;
    // what changed during it (any domain's page) is the hypervisor's.
    d.bits?.check(d.xen.sharedInfoGpa);
    const r = this.hv.hypercall(d.xen, v.xen, nr, a, at, d.symbols.length ? d : undefined, vcpu.view.buffers() ?? d.physicalHandles);
    if (d.bits) for (const x of this.domains) x.bits?.absorb(x.xen.sharedInfoGpa);
    if (r.outcome.kind === 'continuation') {
      // Re-execute the HVC with the call's new arguments, after this run ends.
      r.outcome.args.forEach((v, i) => vcpu.setX(i, v));
      vcpu.pc = at;
      vcpu.requestStop();
      return;
    }
    vcpu.setX(0, r.value);
    if (r.outcome.kind !== 'return') {
      v.outcome = r.outcome;
      vcpu.requestStop();
    }
  }

  /**
   * SMCCC through HVC #0 or SMC #0 (function id in w0): PSCI and the SMCCC queries as Xen 4.17
   * answers them (smccc.ts). What Xen does not handle it logs, and so does this.
   */
  private smccc(v: DomainVcpu, vcpu: Vcpu): void {
    const d = v.domain;
    const r = smcccCall({ x: [vcpu.x(0), vcpu.x(1), vcpu.x(2), vcpu.x(3)] }, psciView(d), v.index);
    switch (r.kind) {
      case 'return':
        for (let i = 0; i < r.regs.length; i++) vcpu.setX(i, r.regs[i]);
        if (r.unhandled !== undefined) this.opts.onStatus(`${v.label} Unhandled SMC/HVC: 0x${r.unhandled.toString(16)}`);
        return;
      case 'shutdown':
        v.outcome = { kind: 'shutdown', reason: r.reason, code: r.reason === 'poweroff' ? 0 : 1 };
        vcpu.requestStop();
        return;
      case 'cpu-on': {
        // Xen's do_common_cpu_on: the target's pending interrupts are dropped
        // (vgic_clear_pending_irqs), it gets its boot registers and is woken.
        const t = d.vcpus[r.vcpu];
        d.gic.clearPendingOf(r.vcpu);
        t.powerOn(r.entry, r.contextId);
        vcpu.setX(0, PSCI_RET.SUCCESS);
        if (this.opts.trace.on) this.opts.trace.emit({ kind: 'sched', domid: d.domid, vcpu: t.index, change: 'up' });
        return;
      }
      case 'cpu-off':
        vcpu.setX(0, 0);
        v.psciStop = 'cpu-off';
        vcpu.requestStop();
        return;
      case 'suspend':
        vcpu.setX(0, 0);
        v.psciStop = 'suspend';
        vcpu.requestStop();
        return;
    }
  }

  /** SMC: #0 is an SMCCC call; any other immediate is not, and Xen injects an undefined
   *  instruction whose return address is the SMC itself (a trapped SMC's preferred return). */
  private smc(v: DomainVcpu, vcpu: Vcpu, imm: number, at: bigint): void {
    // The CPU read the immediate through the guest's translation (src/cpu/decode.ts).
    if (imm !== 0) {
      vcpu.injectSync(EC.UNKNOWN, 0, at);
      return;
    }
    this.smccc(v, vcpu);
  }

  // ---------------------------------------------------------------- scheduling

  /** Wakes a non-running vCPU whose wait is over. */
  private wake(v: DomainVcpu): void {
    const s = v.state;
    if (s.kind === 'runnable' || s.kind === 'down' || s.kind === 'done') return;
    const d = v.domain;
    const id = v.index;
    let wake = d.gic.wakeup(id);
    if (s.kind === 'blocked') wake ||= this.xen.eventPendingFor(d.domid, id);
    if (s.kind === 'poll') {
      if (this.xen.pollSatisfied(d.domid, id) || (s.deadline !== undefined && this.now() >= s.deadline)) wake = true;
      if (wake) this.xen.endPoll(d.domid, id);
    }
    if (wake) {
      v.state = { kind: 'runnable' };
      if (this.opts.trace.on) this.opts.trace.emit({ kind: 'sched', domid: d.domid, vcpu: id, change: 'wake' });
    }
  }

  private end(d: MachineDomain, reason: string): void {
    // A shut-down domain stays allocated (Xen only destroys it when a toolstack asks, which
    // never happens for dom0less domUs): peers still see its ports, and XSM still answers first.
    d.ended = reason;
    for (const v of d.vcpus) v.state = { kind: 'done', reason };
    if (this.opts.trace.on) this.opts.trace.emit({ kind: 'domain_end', domid: d.domid, reason });
    this.debugger?.domainEnded(d, reason);
  }

  /** Ends a domain on a debugger's request (GDB's kill). */
  kill(d: MachineDomain, reason: string): void {
    if (!d.done) this.end(d, reason);
  }

  /** Carries out what a hypercall asked for once the vCPU has stopped. */
  private applyOutcome(v: DomainVcpu): void {
    const o = v.outcome;
    v.outcome = undefined;
    if (!o || v.domain.done) return;
    const d = v.domain;
    const pc = v.cpu.pc;
    switch (o.kind) {
      case 'return':
        return;
      case 'yield':
        if (this.opts.trace.on) this.opts.trace.emit({ kind: 'sched', domid: d.domid, vcpu: v.index, change: 'yield' });
        return;
      case 'block':
        // Xen's SCHEDOP_block enables event delivery (clears PSTATE.I) before sleeping.
        v.cpu.pstate = v.cpu.pstate & ~PSTATE_I;
        v.state = { kind: 'blocked', pc };
        break;
      case 'poll':
        v.state = {
          kind: 'poll',
          pc,
          ports: o.ports,
          // Xen hands the timeout to set_timer() as an s_time_t (signed 64-bit ns): all-ones
          // is -1, a time already past, so the poll times out at once (test/golden/time-jump.*).
          deadline: o.timeoutNs !== 0n ? vtime(BigInt.asIntN(64, o.timeoutNs)) : undefined,
        };
        break;
      case 'shutdown':
        this.opts.onStatus(`d${d.domid} shut down (${o.reason}${o.reason === 'crash' && o.code !== 3 ? `, code ${o.code}` : ''})`);
        this.end(d, `shutdown: ${o.reason}`);
        return;
    }
    if (this.opts.trace.on) this.opts.trace.emit({ kind: 'sched', domid: d.domid, vcpu: v.index, change: 'block' });
    this.wake(v);
  }

  /** Which vCPU runs first: d-order normally, rotated by the seed so that varies too. */
  private firstSlotIndex(): number {
    return this.opts.seed === undefined || this.slots.length === 0 ? 0 : this.opts.seed % this.slots.length;
  }

  private nextQuantum(): number {
    const q = this.opts.quantum;
    if (this.opts.seed === undefined) return q;
    // xorshift32, reproducible from the seed. Quanta are skewed towards short ones (q * u^3,
    // at least 100 instructions): with the default quantum most guests block long before it
    // ends, so only short quanta move preemption points into the middle of their protocols.
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    const u = this.rng / 0x1_0000_0000;
    return Math.max(100, Math.floor(q * u * u * u));
  }

  /** Runs until every domain has finished, or a limit, or a deadlock. */
  run(limits: RunLimits = {}): RunEnd {
    const p: RunProgress = { startWall: performance.now(), graceLeft: GRACE_INSTRUCTIONS, rr: this.firstSlotIndex() };
    for (;;) {
      const end = this.schedule(p, limits);
      if (end) return end;
    }
  }

  /**
   * A run driven by its caller, one scheduling decision per call of the returned function (a
   * RunEnd once the run is over). The library API (src/api) uses it to yield to the event loop
   * between decisions; the decisions are the same as `run`'s.
   */
  beginRun(limits: RunLimits = {}): () => RunEnd | undefined {
    const p: RunProgress = { startWall: performance.now(), graceLeft: GRACE_INSTRUCTIONS, rr: this.firstSlotIndex() };
    return () => this.schedule(p, limits);
  }

  /**
   * `run` for debugging: the same scheduling, but it yields to the event loop between quanta
   * (so debugger sockets are served) and never runs a domain while the debugger holds the
   * machine. Wall-clock time spent held does not count against the timeout.
   */
  async runAsync(limits: RunLimits, dbg: MachineDebugger): Promise<RunEnd> {
    const p: RunProgress = { startWall: performance.now(), graceLeft: GRACE_INSTRUCTIONS, rr: this.firstSlotIndex() };
    this.debugger = dbg;
    try {
      let lastYield = performance.now();
      for (;;) {
        const now = performance.now();
        if (dbg.holding || now - lastYield > YIELD_MS) {
          await new Promise<void>((r) => setImmediate(r));
          const heldFrom = performance.now();
          while (dbg.holding) await dbg.whenRunnable();
          p.startWall += performance.now() - heldFrom;
          lastYield = performance.now();
        }
        const end = this.schedule(p, limits);
        if (end) return end;
      }
    } finally {
      this.debugger = undefined;
    }
  }

  /** One scheduling decision and at most one vCPU run; a RunEnd when the run is over. */
  private schedule(p: RunProgress, limits: RunLimits): RunEnd | undefined {
    // This runs twice per interdomain round trip: plain loops, no arrays built per decision.
    const doms = this.domains;
    let nLive = 0;
    let allReported = true;
    for (let i = 0; i < doms.length; i++) {
      const x = doms[i];
      if (x.done) continue;
      nLive++;
      if (x.result === undefined) allReported = false;
    }
    if (nLive === 0) return { kind: 'finished' };
    if (limits.timeoutMs !== undefined && performance.now() - p.startWall > limits.timeoutMs) {
      return { kind: 'timeout', seconds: limits.timeoutMs / 1000 };
    }
    const now = this.now();
    // The bound is on instructions the guests ran, not on virtual time (which also moves by
    // the idle time skipped to a deadline).
    const retired = limits.maxInstructions === undefined ? 0 : this.retired();
    if (limits.maxInstructions !== undefined && retired >= limits.maxInstructions) {
      return { kind: 'instruction-limit', limit: limits.maxInstructions };
    }
    const slots = this.slots;
    // A vCPU's due timer interrupts are raised before it is woken or runs (they may wake it).
    let nextTimer: VTime | undefined;
    for (let i = 0; i < slots.length; i++) {
      const x = slots[i];
      if (x.domain.ended !== undefined) continue;
      x.timers.update(now);
      const t = x.timers.nextDeadline();
      if (t !== undefined && (nextTimer === undefined || t < nextTimer)) nextTimer = t;
      this.wake(x);
    }
    // Round robin: the first runnable vCPU at or after p.rr, else the first.
    let nRunnable = 0;
    let first = -1;
    let next = -1;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i].state.kind !== 'runnable') continue;
      nRunnable++;
      if (first < 0) first = i;
      if (next < 0 && i >= p.rr) next = i;
    }
    if (nRunnable === 0) {
      if (allReported) return { kind: 'finished' };
      const live = doms.filter((d) => !d.done);
      // Fast-forward virtual time to the earliest poll or timer deadline, if any.
      let wakeAt = nextTimer;
      for (const v of slots) if (v.state.kind === 'poll') wakeAt = vmin(wakeAt, v.state.deadline);
      if (wakeAt !== undefined) {
        this.fastForward(now, wakeAt);
        return undefined;
      }
      return { kind: 'deadlock', report: this.deadlockReport(live) };
    }
    // A debugger's single step runs only the stepped vCPU, one instruction.
    const stepped = this.debugger?.stepping();
    const solo = stepped !== undefined && stepped.state.kind === 'runnable' && slots.includes(stepped) ? stepped : undefined;
    // Round robin in slot order, starting after the last vCPU that ran.
    const v = solo ?? slots[next >= 0 ? next : first];
    const d = v.domain;
    p.rr = (solo ? slots.indexOf(solo) : next >= 0 ? next : first) + 1;
    // Alone, a vCPU may run long (the quantum only matters for interleaving); with a seed, the
    // quantum varies so that timing-dependent guest bugs show up reproducibly.
    let budget = nRunnable > 1 || this.opts.seed !== undefined ? this.nextQuantum() : SOLO_QUANTUM;
    // Run no further than the next timer deadline (any vCPU's), so it fires on time.
    if (nextTimer !== undefined) budget = vclampDistance(nextTimer, now, 1, budget);
    if (limits.maxInstructions !== undefined) budget = Math.min(budget, limits.maxInstructions - retired);
    if (allReported) {
      if (p.graceLeft <= 0) return { kind: 'finished' };
      budget = Math.min(budget, p.graceLeft);
    }
    if (solo) budget = 1;
    const cap = this.debugger?.beforeRun(v);
    if (cap !== undefined) budget = Math.min(budget, cap);
    const before = now;
    if (this.opts.trace.on && this.lastRun !== v) this.opts.trace.emit({ kind: 'sched', domid: d.domid, vcpu: v.index, change: 'switch' });
    this.lastRun = v;
    this.current = v;
    const cpu = v.cpu;
    if (d.vcpus.length > 1) v.catchUp();
    // An uncounted vCPU (a lone domain) is bounded only by what is left of the wall-clock limit.
    const wallLimitUs =
      cpu.counted || limits.timeoutMs === undefined ? 0 : Math.max(1000, (limits.timeoutMs - (performance.now() - p.startWall)) * 1000);
    // `now` still holds: nothing since the top of this decision has moved virtual time.
    if (cpu.counted) cpu.setClock(now, v.timers.nextDeadline(), NS_PER_TICK);
    const exit = cpu.run(Math.max(1, budget), allReported && !cpu.counted ? Math.min(wallLimitUs || 200_000, 200_000) : wallLimitUs);
    this.current = undefined;
    d.drainConsole();
    d.bits?.check(d.xen.sharedInfoGpa);
    if (allReported) p.graceLeft -= Number(vsub(this.now(), before));
    switch (exit.kind) {
      case 'budget':
      case 'breakpoint':
        break;
      case 'wall-limit':
        // The engine was stopped from its timer thread: end the run, as nothing may run after it.
        if (allReported) return { kind: 'finished' };
        return { kind: 'timeout', seconds: (limits.timeoutMs ?? 0) / 1000 };
      case 'stopped': {
        const psci = v.psciStop;
        v.psciStop = undefined;
        if (psci === 'suspend') {
          // PSCI CPU_SUSPEND: Xen blocks the vCPU until an interrupt is pending for it.
          v.state = { kind: 'wfi', pc: cpu.pc };
          this.wake(v);
        } else if (psci === 'cpu-off') {
          this.cpuOff(v);
        }
        this.applyOutcome(v);
        break;
      }
      case 'wfi':
        v.state = { kind: 'wfi', pc: cpu.pc };
        if (this.opts.trace.on) this.opts.trace.emit({ kind: 'sched', domid: d.domid, vcpu: v.index, change: 'wfi' });
        this.wake(v);
        break;
      case 'fault': {
        const f = exit.fault;
        const parts = [`d${d.domid}${d.vcpus.length > 1 ? `v${v.index}` : ''} fault: ${f.what}`];
        if (f.address !== undefined) parts.push(`address ${hex(f.address)}`);
        parts.push(`at ${d.where(f.pc)}${f.pcExact ? '' : ' (start of the faulting block)'}`);
        if (f.esr !== undefined) parts.push(`ESR ${hex(f.esr)}`);
        this.opts.onStatus(parts.join(', '));
        if (this.opts.trace.on) {
          this.opts.trace.emit({ kind: 'fault', domid: d.domid, vcpu: v.index, pc: f.pc, what: f.what, address: f.address, syndrome: f.esr });
        }
        this.end(d, `fault: ${f.what}`);
        break;
      }
    }
    if (this.memoryWatch.size !== 0) this.checkHostMemory(v);
    this.debugger?.afterRun(v, exit);
    return undefined;
  }

  /**
   * PSCI CPU_OFF, once the vCPU has stopped: it goes down (Xen's _VPF_down). When no vCPU of the
   * domain is left up, Xen leaves the domain there, idle for ever; here it ends.
   */
  private cpuOff(v: DomainVcpu): void {
    const d = v.domain;
    v.powerOff();
    if (this.opts.trace.on) this.opts.trace.emit({ kind: 'sched', domid: d.domid, vcpu: v.index, change: 'down' });
    if (d.vcpus.some((x) => x.up)) return;
    this.opts.onStatus(
      d.vcpus.length === 1
        ? `d${d.domid}: its only vCPU is off (PSCI CPU_OFF); the domain ends`
        : `d${d.domid}: every vCPU is off (PSCI CPU_OFF); the domain ends`,
    );
    this.end(d, 'cpu off');
  }

  private deadlockReport(live: MachineDomain[]): string {
    const lines = ['every domain is waiting and nothing can wake them:'];
    for (const d of live) {
      for (const v of d.vcpus) {
        const s = v.state;
        if (s.kind === 'down' && v.index > 0) continue;
        const what =
          s.kind === 'wfi'
            ? `WFI at ${d.where(s.pc)} with no interrupt signalled`
            : s.kind === 'blocked'
              ? `SCHEDOP_block at ${d.where(s.pc)} with no event pending`
              : s.kind === 'poll'
                ? `SCHEDOP_poll on ports [${s.ports.join(', ')}] at ${d.where(s.pc)}, no timeout`
                : s.kind;
        lines.push(`  ${d.vcpus.length > 1 ? v.label : `d${d.domid}`}: ${what}`);
        for (const t of v.timers.describe()) lines.push(`      ${t}`);
      }
      const ports = this.xen.portStates(d.domid);
      if (ports.length) {
        lines.push(
          `      ports: ${ports
            .map((p) => `${p.port}=${p.state}${p.remoteDomid !== undefined ? `(d${p.remoteDomid}${p.remotePort !== undefined ? `:${p.remotePort}` : ''})` : ''}${p.pending ? ' pending' : ''}${p.masked ? ' masked' : ''}`)
            .join(', ')}`,
        );
      }
    }
    return lines.join('\n');
  }

  close(): void {
    for (const d of this.domains) d.close();
  }
}
