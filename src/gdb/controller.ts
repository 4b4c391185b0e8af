/**
 * GDB for a whole machine: one GDB server per domain (one port each), and the scheduler
 * side of debugging (`MachineDebugger`). The machine is all-stop: while any debugger has its
 * domain stopped, no domain runs, so virtual time stays the same for every domain.
 *
 * Ports: the i-th domain in domid order listens on PORT+i. Without a dom0 that is d1 on
 * PORT, d2 on PORT+1, ...; with --dom0, dom0 is on PORT and dN on PORT+N. PORT 0 gives each
 * domain a free port. Every port is announced through `log`.
 *
 * Breakpoints are BRK instructions written into guest RAM (the engine's translation cache
 * is dropped for those bytes); the vCPU recognises ours through `VcpuDebug` and stops with PC
 * at the BRK instead of injecting the exception. Memory reads show the original bytes.
 *
 * Threads are the domain's vCPUs (vCPU n = GDB thread n+1): registers follow the thread GDB
 * selects, a breakpoint stops the domain in the thread that reached it, and a step runs one
 * instruction of one vCPU.
 */
import type { Vcpu, VcpuExit } from '../cpu/vcpu.ts';
import type { MachineDomain } from '../machine/domain.ts';
import type { DomainVcpu } from '../machine/domain-vcpu.ts';
import type { Machine, MachineDebugger, RunEnd } from '../machine/machine.ts';
import { GdbReg } from './aarch64.ts';
import { GdbServer } from './server.ts';
import { SIGINT, SIGKILL, SIGSEGV, SIGTRAP, type DebugTarget, type StopReason } from './session.ts';

export interface GdbOptions {
  /** Port of the first domain (0 = a free port for each). */
  port: number;
  /** Hold the machine before its first instruction until a debugger resumes it (--gdb-wait). */
  wait: boolean;
  /** Where announcements and protocol notes go (the CLI prints them on stderr). */
  log(text: string): void;
}

/** BRK #0: what GDB itself uses as the AArch64 breakpoint instruction. */
const BRK = Uint8Array.of(0x00, 0x00, 0x20, 0xd4);

/** Shutdown reasons as Xen numbers them (public/sched.h SHUTDOWN_*): the exit code GDB shows. */
const SHUTDOWN_CODE: Record<string, number> = { poweroff: 0, reboot: 1, suspend: 2, crash: 3, watchdog: 4, soft_reset: 5 };

export const KILL_REASON = 'killed by the debugger';

/** How a domain's end looks to GDB: W (exited with a code) or X (terminated by a signal). */
export function endStop(reason: string): StopReason {
  const m = /^shutdown: (\w+)/.exec(reason);
  if (m) return { kind: 'exited', code: SHUTDOWN_CODE[m[1]] ?? 1 };
  if (reason === KILL_REASON) return { kind: 'terminated', signal: SIGKILL };
  return { kind: 'terminated', signal: SIGSEGV };
}

type DebugState = 'free' | 'stopped' | 'running' | 'stepping';

/** One domain as a debug target: registers, memory, breakpoints, run control. */
class DomainTarget implements DebugTarget {
  state: DebugState = 'free';
  server: GdbServer | undefined;
  /** Planted breakpoints: address (as the vCPU fetches it) -> the original instruction bytes. */
  private readonly breakpoints = new Map<bigint, Uint8Array>();
  /** A breakpoint lifted for one instruction so the domain can leave it. */
  private lifted: bigint | undefined;
  /** The vCPU whose registers GDB reads and writes (Hg). */
  private regVcpu = 0;
  /** The vCPU that stopped last, and the one a step runs. */
  private stoppedVcpu = 0;
  private stepVcpu = 0;
  /**
   * Each vCPU's PC when the debugger last stopped the machine (undefined once it ran since): a
   * vCPU still there resumes by stepping off a breakpoint planted at it, while one that arrives
   * at a breakpoint later (a PSCI CPU_ON entry point) stops on it.
   */
  private stoppedPcs: (bigint | undefined)[] = [];

  constructor(
    readonly domain: MachineDomain,
    private readonly ctl: GdbController,
  ) {
    for (const v of domain.vcpus) v.cpu.debug = { ownsBreakpoint: (pc) => this.breakpoints.has(pc) };
  }

  private get vcpu() {
    return this.domain.vcpus[this.regVcpu].cpu;
  }

  threads(): number[] {
    return this.domain.vcpus.map((v) => v.index + 1);
  }

  selectThread(thread: number): void {
    if (thread >= 1 && thread <= this.domain.vcpus.length) this.regVcpu = thread - 1;
  }

  /** The vCPU a single step runs, when it can run. */
  get steppingVcpu(): DomainVcpu | undefined {
    const v = this.domain.vcpus[this.stepVcpu];
    return this.state === 'stepping' && v.state.kind === 'runnable' ? v : undefined;
  }

  readRegister(n: number): bigint | undefined {
    if (n >= 0 && n <= GdbReg.X30) return this.vcpu.x(n);
    if (n === GdbReg.SP) return this.vcpu.sp;
    if (n === GdbReg.PC) return this.vcpu.pc;
    if (n === GdbReg.CPSR) return BigInt(this.vcpu.pstate >>> 0);
    return undefined;
  }

  writeRegister(n: number, value: bigint): boolean {
    if (n >= 0 && n <= GdbReg.X30) {
      this.vcpu.setX(n, value);
      return true;
    }
    if (n === GdbReg.CPSR) {
      this.vcpu.pstate = Number(BigInt.asUintN(32, value));
      return true;
    }
    if (n === GdbReg.SP) this.vcpu.sp = BigInt.asUintN(64, value);
    else if (n === GdbReg.PC) this.vcpu.pc = BigInt.asUintN(64, value);
    else return false;
    return true;
  }

  /**
   * Addresses are the vCPU's: virtual through the guest's stage-1 tables when its MMU is on
   * (Vcpu.debugRead/debugWrite), physical when it is off. Breakpoints are kept by that address,
   * which is what PC is compared with.
   */
  readMemory(addr: bigint, len: number): Uint8Array | undefined {
    const data = this.vcpu.debugRead(addr, len);
    if (data.length === 0 && len > 0) return undefined;
    // Show the instructions our breakpoints replaced, not the BRKs.
    const n = BigInt(data.length);
    for (const [at, orig] of this.breakpoints) {
      for (let i = 0; i < 4; i++) {
        const d = at + BigInt(i) - addr;
        if (d >= 0n && d < n) data[Number(d)] = orig[i];
      }
    }
    return data;
  }

  writeMemory(addr: bigint, data: Uint8Array): boolean {
    if (!this.writeAll(addr, data)) return false;
    // Bytes written over a planted breakpoint become its new original; the BRK stays.
    const n = BigInt(data.length);
    for (const [at, orig] of this.breakpoints) {
      let touched = false;
      for (let i = 0; i < 4; i++) {
        const d = at + BigInt(i) - addr;
        if (d >= 0n && d < n) {
          orig[i] = data[Number(d)];
          touched = true;
        }
      }
      if (touched) this.writeAll(at, BRK);
    }
    return true;
  }

  insertBreakpoint(addr: bigint): boolean {
    if (this.breakpoints.has(addr)) return true;
    if (addr % 4n !== 0n) return false;
    const orig = this.vcpu.debugRead(addr, 4);
    if (orig.length !== 4 || !this.writeAll(addr, BRK)) return false;
    this.breakpoints.set(addr, orig);
    return true;
  }

  removeBreakpoint(addr: bigint): boolean {
    const orig = this.breakpoints.get(addr);
    if (!orig) return true;
    this.breakpoints.delete(addr);
    return this.writeAll(addr, orig);
  }

  removeAllBreakpoints(): void {
    for (const at of [...this.breakpoints.keys()]) this.removeBreakpoint(at);
  }

  resume(how: 'continue' | 'step', thread?: number): void {
    if (this.domain.done) {
      this.server?.session?.stopped(endStop(this.domainEndReason()));
      return;
    }
    this.stepVcpu = thread !== undefined && thread >= 1 && thread <= this.domain.vcpus.length ? thread - 1 : this.stoppedVcpu;
    if (how === 'step' && this.domain.vcpus[this.stepVcpu].state.kind === 'down') {
      // A vCPU that is off executes nothing: the step ends where it is.
      this.stop({ kind: 'signal', signal: SIGTRAP, thread: this.stepVcpu + 1 });
      return;
    }
    this.state = how === 'step' ? 'stepping' : 'running';
    this.ctl.released();
  }

  interrupt(): void {
    if (this.state === 'running' || this.state === 'stepping') this.stop({ kind: 'signal', signal: SIGINT, thread: this.stoppedVcpu + 1 });
  }

  detach(): void {
    this.removeAllBreakpoints();
    this.state = 'free';
    this.ctl.released();
  }

  kill(): void {
    this.removeAllBreakpoints();
    this.state = 'free';
    this.ctl.kill(this.domain);
    this.ctl.released();
  }

  describe(thread = 1): string {
    const v = this.domain.vcpus[thread - 1];
    const what = v === undefined ? '' : v.state.kind === 'down' ? ', down' : '';
    return `d${this.domain.domid} vcpu${thread - 1} (${this.domain.name}${what})`;
  }

  /** Notes where every vCPU is while the debugger holds the domain. */
  noteStopped(): void {
    this.stoppedPcs = this.domain.vcpus.map((v) => v.cpu.pc);
  }

  /** The domain stopped for the debugger: hold the machine and tell GDB why. */
  stop(reason: StopReason): void {
    this.state = 'stopped';
    this.noteStopped();
    if (reason.kind === 'signal' && reason.thread !== undefined) this.stoppedVcpu = reason.thread - 1;
    this.server?.session?.stopped(reason);
  }

  domainEndReason(): string {
    return this.domain.state.kind === 'done' ? this.domain.state.reason : 'ended';
  }

  // ------------------------------------------------------------ scheduler side

  /** Before one of its vCPUs runs: step off a breakpoint we planted at its PC; a stepping vCPU runs one instruction. */
  beforeRun(v: DomainVcpu): number | undefined {
    let cap: number | undefined = this.state === 'stepping' ? 1 : undefined;
    const pc = v.cpu.pc;
    const orig = this.breakpoints.get(pc);
    if (orig && this.stoppedPcs[v.index] === pc) {
      this.writeAll(pc, orig, v.cpu);
      this.lifted = pc;
      cap = 1;
    }
    return cap;
  }

  afterRun(v: DomainVcpu, exit: VcpuExit): void {
    this.stoppedPcs[v.index] = undefined;
    if (this.lifted !== undefined) {
      if (this.breakpoints.has(this.lifted)) this.writeAll(this.lifted, BRK, v.cpu);
      this.lifted = undefined;
    }
    if (this.domain.done) return;
    const stepped = this.state === 'stepping' && v.index === this.stepVcpu;
    if (exit.kind === 'breakpoint' || stepped) {
      if (this.state === 'running' || this.state === 'stepping') this.stop({ kind: 'signal', signal: SIGTRAP, thread: v.index + 1 });
    }
  }

  /**
   * Writes guest memory at `addr` as vCPU `via` addresses it (its translation, see
   * Vcpu.debugWrite; by default the vCPU GDB selected), then drops the other vCPUs' translated
   * code too: each engine has its own cache, and all of them share the RAM just written.
   */
  private writeAll(addr: bigint, data: Uint8Array, via: Vcpu = this.vcpu): boolean {
    if (!via.debugWrite(addr, data)) return false;
    for (const v of this.domain.vcpus) if (v.cpu !== via) v.cpu.invalidate(false, true);
    return true;
  }
}

export class GdbController implements MachineDebugger {
  private readonly targets: DomainTarget[] = [];
  private readonly byDomain = new Map<MachineDomain, DomainTarget>();
  private waitingForFirstResume: boolean;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly machine: Machine,
    private readonly opts: GdbOptions,
  ) {
    this.waitingForFirstResume = opts.wait;
    for (const d of machine.domains) {
      const t = new DomainTarget(d, this);
      this.targets.push(t);
      this.byDomain.set(d, t);
    }
  }

  /** Starts a server per domain; the machine's domains must all exist already. */
  static async start(machine: Machine, opts: GdbOptions): Promise<{ ok: true; gdb: GdbController } | { ok: false; error: string }> {
    const c = new GdbController(machine, opts);
    for (const [i, t] of c.targets.entries()) {
      const d = t.domain;
      const label = `d${d.domid}`;
      const r = await GdbServer.listen(label, opts.port === 0 ? 0 : opts.port + i, t, {
        attach: () => {
          if (d.done) return endStop(t.domainEndReason());
          t.state = 'stopped';
          t.noteStopped();
          return { kind: 'signal', signal: SIGTRAP };
        },
        detached: (how, midPacket) => {
          t.detach();
          opts.log(`gdb: ${label}: debugger ${how === 'detach' ? 'detached' : `disconnected${midPacket ? ' in the middle of a packet' : ''}`}`);
        },
        log: (text) => opts.log(`gdb: ${text}`),
      });
      if (!r.ok) {
        await c.close();
        return r;
      }
      t.server = r.server;
      opts.log(`gdb: ${label} (${d.name}) listening on 127.0.0.1:${r.server.port}`);
    }
    if (opts.wait) opts.log('gdb: waiting for a debugger to resume the machine (--gdb-wait)');
    return { ok: true, gdb: c };
  }

  /** The announced port of each domain, by domid. */
  ports(): Map<number, number> {
    return new Map(this.targets.map((t) => [t.domain.domid, t.server?.port ?? 0]));
  }

  get holding(): boolean {
    return this.waitingForFirstResume || this.targets.some((t) => t.state === 'stopped' && !t.domain.done);
  }

  whenRunnable(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** A target let go of the machine (resume, detach, kill). */
  released(): void {
    this.waitingForFirstResume = false;
    this.wake();
  }

  private wake(): void {
    if (this.holding) return;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  kill(d: MachineDomain): void {
    this.machine.kill(d, KILL_REASON);
  }

  stepping(): DomainVcpu | undefined {
    for (const t of this.targets) {
      const v = t.steppingVcpu;
      if (v) return v;
    }
    return undefined;
  }

  beforeRun(v: DomainVcpu): number | undefined {
    return this.byDomain.get(v.domain)?.beforeRun(v);
  }

  afterRun(v: DomainVcpu, exit: VcpuExit): void {
    this.byDomain.get(v.domain)?.afterRun(v, exit);
  }

  domainEnded(d: MachineDomain, reason: string): void {
    const t = this.byDomain.get(d);
    if (!t) return;
    t.removeAllBreakpoints();
    t.state = t.server?.session ? 'stopped' : 'free';
    t.server?.session?.stopped(endStop(reason));
    this.wake();
  }

  /** The run is over: debuggers still waiting for a stop reply learn how their domain ended. */
  finish(end: RunEnd): void {
    for (const t of this.targets) {
      const s = t.server?.session;
      if (!s?.running) continue;
      if (t.domain.done) s.stopped(endStop(t.domainEndReason()));
      else if (end.kind === 'finished') s.stopped({ kind: 'exited', code: 0 });
      else s.stopped({ kind: 'terminated', signal: SIGKILL });
    }
  }

  async close(): Promise<void> {
    for (const t of this.targets) for (const v of t.domain.vcpus) v.cpu.debug = undefined;
    await Promise.all(this.targets.map((t) => t.server?.close()));
  }
}
