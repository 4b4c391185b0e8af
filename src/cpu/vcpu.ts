/**
 * One virtual CPU on a Unicorn AArch64 engine: register and memory access, the traps a
 * hypervisor sees (HVC, SMC, undefined system-register accesses), exception entry for
 * synchronous exceptions the guest must take itself, and the virtual IRQ line.
 *
 * The CPU knows nothing of Xen or the GIC. It calls its `VcpuTraps` for every trap and
 * reports why a run ended as a `VcpuExit`.
 *
 * How the engine behaves (measured on Unicorn 2.1.1; the README's "Choices that came from measuring"):
 * - HVC at EL1 traps cleanly (intno 11, PC already past it) only with SCR_EL3.HCE|RW|NS and
 *   HCR_EL2.RW set; then the guest's ERET works too.
 * - Synchronous exceptions never reach the guest's vectors by themselves: the engine hands
 *   them to the INTR hook. We build the exception entry by hand (exception-entry.ts), with the
 *   syndrome of aborts worked out in abort.ts; instructions are read through the guest's
 *   stage-1 translation (guest-view.ts).
 * - An illegal exception return sets PSTATE.IL and the engine runs on without raising Illegal
 *   Execution State: a guest-written illegal SPSR_EL1 arms a native check at block starts, and
 *   illegalReturn() raises the exception (native/xenvm-count.c).
 * - IRQs are the exception: with HCR_EL2.IMO set, HCR_EL2.VI is the guest's virtual IRQ
 *   line and the engine delivers it through the guest's own vector at the next translation
 *   block boundary once PSTATE.I allows. The vGIC drives `setIrqLine`.
 * - WFI makes uc_emu_start return OK with PC after the WFI.
 * - Accesses to guest-physical addresses with nothing mapped stop the engine; the reported PC is
 *   exact only with a per-instruction hook (exactCount), otherwise it may be the start of the
 *   translation block, and `locateFaultingAccess` finds the instruction.
 *
 * Every guest address here is a 64-bit bigint: a Linux kernel runs at 0xffff8000_0000_0000 and
 * above, beyond what a JS number holds exactly.
 */
import { Engine } from '../unicorn/binding.ts';
import { currentEl, dataAbort, locateStage2Access, prefetchAbort, stage2Abort, type AbortReport } from './abort.ts';
import { enterException, vectorAddress, VectorLoopGuard, type ExceptionKind } from './exception-entry.ts';
import { GuestView } from './guest-view.ts';
import type { Stage1Regs } from './mmu.ts';
import { WATCH_RETURNED, WATCH_TAKEN, type ExceptionBlock, type InstructionCounter, type IrqWatch, type SysregBlock, type UartBlock } from '../unicorn/counter.ts';
import { Excp, Reg, UcErr, UcHook, UcMemType, UcProt, xreg } from '../unicorn/constants.ts';
import type { GuestMemory } from '../mem/guest-memory.ts';
import {
  EC,
  ECNAMES,
  esr,
  HCR_IMO,
  HCR_RW,
  HCR_VI,
  INSN_WFI,
  PSTATE_DAIF,
  PSTATE_EL1H,
  PSTATE_IL,
  SCR_HCE,
  SCR_NS,
  SCR_RW,
  SysReg,
} from './arm64.ts';
import { brkImmediate, decodeSysregAccess, hvcImmediate, smcImmediate, svcImmediate, type SysregAccess } from './decode.ts';

const U64_MAX = (1n << 64n) - 1n;

/** What the hypervisor does with each trap. Handlers run inside the engine's callback. */
export interface VcpuTraps {
  /**
   * HVC #imm at address `at` (PC is already past it, at `at + 4`). The CPU gives no meaning to
   * the immediate: the hypervisor does, reading arguments with `hypercallArgs()`, answering
   * with `setX(0, v)`, or injecting an exception with `injectSync`.
   */
  hvc(vcpu: Vcpu, imm: number, at: bigint): void;
  /** SMC #imm at address `at` (PC is past it; the immediate is read through the guest's translation). */
  smc(vcpu: Vcpu, imm: number, at: bigint): void;
  /**
   * A system register the hypervisor emulates: one the engine does not implement (e.g. GICv3
   * ICC_*; declining injects an undefined-instruction exception), or one of the generic timer
   * block (op0 3, op1 3, CRn 14), which the engine would run on the host clock (declining lets
   * the engine perform the access).
   */
  sysreg(vcpu: Vcpu, access: SysregAccess): { ok: true; value?: bigint } | { ok: false };
}

/** A guest fault the guest cannot take itself. */
export interface GuestFault {
  what: string;
  pc: bigint;
  /** False when the engine could not say exactly which instruction faulted. */
  pcExact: boolean;
  address?: bigint;
  esr?: number;
}

export type VcpuExit =
  /** The instruction budget (or wall-clock slice) of this run is used up. */
  | { kind: 'budget' }
  /** An uncounted run reached its wall-clock limit; the vCPU must not run again. */
  | { kind: 'wall-limit' }
  /** The guest executed WFI; PC is past it. */
  | { kind: 'wfi' }
  /** A trap handler asked the vCPU to stop (block, yield, shutdown...). */
  | { kind: 'stopped' }
  /** The guest did something it cannot recover from; the domain must end. */
  | { kind: 'fault'; fault: GuestFault }
  /** A BRK the debugger planted (VcpuDebug.ownsBreakpoint) was reached; PC is at the BRK, not retired. */
  | { kind: 'breakpoint'; pc: bigint };

/**
 * A debugger's view into the vCPU (src/gdb). Absent in normal runs; consulted only when the
 * engine hands over a BRK, so it costs nothing otherwise.
 */
export interface VcpuDebug {
  /** True when the BRK at `pc` is a debugger's software breakpoint rather than the guest's own. */
  ownsBreakpoint(pc: bigint): boolean;
}

/**
 * The CPU's side of an interrupt, for the trace: `taken` when the vCPU enters an IRQ vector
 * (`elr` = where it will return), `returned` when it is back there.
 */
export type InterruptStep = { kind: 'taken'; vector: bigint; elr: bigint } | { kind: 'returned'; pc: bigint };

export interface MmioDevice {
  read(offset: number, size: number): number | bigint;
  write(offset: number, size: number, value: number | bigint): void;
}

export interface VcpuConfig {
  id: number;
  memory: GuestMemory;
  /** MPIDR_EL1 affinity value (Aff1/Aff0) for this vCPU. */
  mpidr?: number;
  traps: VcpuTraps;
  /**
   * Count instructions (default). Off, the vCPU runs at full engine speed with no virtual time
   * and no budgets: only for a machine with a single vCPU, whose runs end only at guest events
   * or at the final wall-clock limit (see run()).
   */
  counted?: boolean;
  /**
   * Count per instruction (exact budgets, exact fault PCs; ~2.4x slower on tight loops) instead
   * of per translation block (budgets may overshoot by less than a block; counts at hypercalls
   * and WFI are exact because those end blocks).
   */
  exactCount?: boolean;
}

export class Vcpu {
  readonly id: number;
  readonly memory: GuestMemory;
  private readonly engine: Engine;
  private readonly traps: VcpuTraps;
  /** Filled by the native exception hook: the HVC's registers, and where x0's value goes. */
  private exc!: ExceptionBlock;
  /** True while an HVC handler runs: setX(0) then goes through the exception block. */
  private inHvc = false;
  private irqLevel = false;
  private stopRequested = false;
  private fault: GuestFault | undefined;
  private memFault: { type: number; address: bigint; size: number } | undefined;
  private counter: InstructionCounter | undefined;
  private readonly exactCount: boolean;
  /** The native MRS/MSR hook's block (generic timer accesses). */
  private sys!: SysregBlock;
  /** Set when an uncounted vCPU must start counting before its next run (see needVirtualTime). */
  private countNext = false;
  private watch: IrqWatch | undefined;
  /** Return addresses of the interrupts being handled, innermost last. */
  private readonly irqReturns: bigint[] = [];
  /** Set by a debugger (src/gdb); see VcpuDebug. */
  debug: VcpuDebug | undefined;
  private breakpointAt: bigint | undefined;
  /**
   * PC while the engine is stopped, once read or written: a run reads it at its exit (WFI
   * check) and the next run starts there, one native call instead of two per run.
   */
  private pcNow: bigint | undefined;
  private running = false;
  /** Instruction fetches through the guest's translation (see guest-view.ts). */
  readonly view: GuestView;
  /** The last HVC's PC (a number) and its address (PC - 4) as a bigint, reused while it repeats. */
  private hvcPc = -1;
  /** Inside the MRS/MSR hook's handler; a stop requested there needs resumeAfterSysreg(). */
  private inSysreg = false;
  private stopInSysreg = false;
  private hvcAt = 0n;
  /** Notices a vector table that faults on itself forever. */
  private readonly loopGuard = new VectorLoopGuard();
  /** Who watches interrupt entry and return (watchInterrupts). */
  private readonly irqListeners: ((step: InterruptStep) => void)[] = [];
  /** Store watches asked for, added before the next run (watchWrites). */
  private readonly pendingWatches: { begin: bigint; end: bigint; fn: (address: bigint, size: number, value: bigint) => void }[] = [];

  private constructor(engine: Engine, cfg: VcpuConfig, counter: InstructionCounter | undefined) {
    this.engine = engine;
    this.counter = counter;
    this.exactCount = cfg.exactCount ?? false;
    this.id = cfg.id;
    this.memory = cfg.memory;
    this.traps = cfg.traps;
    this.view = new GuestView(cfg.memory, { mmuOn: () => this.sys.mmuOn, regs: () => this.stage1Regs() });
  }

  static create(cfg: VcpuConfig): { ok: true; vcpu: Vcpu } | { ok: false; error: string } {
    const r = Engine.open();
    if (!r.ok) return r;
    const e = r.engine;
    let counter: InstructionCounter | undefined;
    if (cfg.counted !== false || cfg.exactCount) {
      const c = e.attachCounter(cfg.exactCount ?? false);
      if (!c.ok) {
        e.close();
        return c;
      }
      counter = c.counter;
    }
    const v = new Vcpu(e, cfg, counter);
    const err = e.mapPtr(cfg.memory.base, cfg.memory.bytes, UcProt.ALL);
    if (err !== UcErr.OK) {
      e.close();
      return { ok: false, error: `cannot map guest RAM at 0x${cfg.memory.base.toString(16)}: ${e.strerror(err)}` };
    }
    // EL3/EL2 controls so HVC traps and ERET returns cleanly (DESIGN §3); IMO makes VI the IRQ line.
    e.writeCp(SysReg.SCR_EL3, SCR_NS | SCR_HCE | SCR_RW);
    e.writeCp(SysReg.HCR_EL2, HCR_RW | HCR_IMO);
    if (cfg.mpidr !== undefined) {
      // EL1 reads of MPIDR_EL1 return VMPIDR_EL2 when EL2 exists (as Xen sets it per vCPU):
      // bit 31 RES1, the affinity fields below. Measured on 2.1.1: writing MPIDR_EL1 alone
      // leaves the guest reading 0x80000000 on every vCPU.
      const v = (1n << 31n) | BigInt(cfg.mpidr);
      e.writeCp(SysReg.MPIDR_EL1, v);
      e.writeCp(SysReg.VMPIDR_EL2, v);
    }
    const hook = e.hookExceptions(() => v.onException(v.exc.intno));
    if (!hook.ok) {
      e.close();
      return hook;
    }
    v.exc = hook.block;
    const sys = e.hookSysregs(() => v.onSysreg());
    if (!sys.ok) {
      e.close();
      return sys;
    }
    v.sys = sys.block;
    e.hookMemInvalid(UcHook.MEM_UNMAPPED | UcHook.MEM_FETCH_PROT | UcHook.MEM_READ_PROT | UcHook.MEM_WRITE_PROT, (type, address, size) => {
      v.memFault = { type, address, size };
      return false;
    });
    return { ok: true, vcpu: v };
  }

  /** Boot state: EL1h, DAIF masked, MMU off, x0 = devicetree, PC = entry (Linux arm64 boot protocol). */
  reset(entry: number | bigint, dtb: number | bigint): void {
    for (let i = 0; i < 31; i++) this.engine.writeRegN(xreg(i), 0);
    this.engine.writeReg(xreg(0), dtb);
    this.engine.writeRegN(Reg.PSTATE, PSTATE_EL1H | PSTATE_DAIF);
    this.engine.writeReg(Reg.PC, entry);
    this.pcNow = BigInt(entry);
  }

  /**
   * Host memory at guest-physical `gpa` beside RAM (a grant frame, another domain's granted
   * page): the guest's loads and stores reach `bytes` directly. Read-only pages fault on writes.
   */
  mapHostPages(gpa: bigint, bytes: Uint8Array, writable: boolean): string | undefined {
    const err = this.engine.mapPtr(gpa, bytes, writable ? UcProt.ALL : UcProt.READ | UcProt.EXEC);
    return err === UcErr.OK ? undefined : `cannot map 0x${gpa.toString(16)}: ${this.engine.strerror(err)}`;
  }

  unmapHostPages(gpa: bigint, size: number): string | undefined {
    const err = this.engine.unmap(gpa, size);
    return err === UcErr.OK ? undefined : `cannot unmap 0x${gpa.toString(16)}: ${this.engine.strerror(err)}`;
  }

  /** `uart`: the vpl011's native transmit path (UartBlock), shared by the domain's engines. */
  mapMmio(base: number, size: number, dev: MmioDevice, uart?: UartBlock): string | undefined {
    const err = this.engine.mmioMap(base, size, (o, s) => dev.read(o, s), (o, s, v) => dev.write(o, s, v), uart);
    return err === UcErr.OK ? undefined : `cannot map MMIO at 0x${base.toString(16)}: ${this.engine.strerror(err)}`;
  }

  // ---------------------------------------------------------------- registers

  get pc(): bigint {
    if (this.pcNow !== undefined) return this.pcNow;
    const v = this.engine.readReg(Reg.PC);
    if (!this.running) this.pcNow = v;
    return v;
  }
  set pc(v: bigint) {
    this.engine.writeReg(Reg.PC, v);
    this.pcNow = this.running ? undefined : BigInt.asUintN(64, v);
  }
  x(n: number): bigint {
    return n === 31 ? 0n : this.engine.readReg(xreg(n));
  }
  xn(n: number): number {
    return n === 31 ? 0 : this.engine.readRegN(xreg(n));
  }
  setX(n: number, v: bigint | number): void {
    if (n === 31) return;
    if (n === 0 && this.inHvc) {
      // The native hook writes x0 once the handler returns.
      this.exc.setReturn(v);
      return;
    }
    if (typeof v === 'number') this.engine.writeRegN(xreg(n), v);
    else this.engine.writeReg(xreg(n), v);
  }
  /** The stack pointer in use (SP_EL0 or SP_EL1, as PSTATE.SP selects). */
  get sp(): bigint {
    return this.engine.readReg(Reg.SP);
  }
  /** For debuggers: the stack pointer in use. */
  set sp(v: bigint) {
    this.engine.writeReg(Reg.SP, v);
  }
  get pstate(): number {
    return this.engine.readReg32(Reg.PSTATE);
  }
  set pstate(v: number) {
    this.engine.writeRegN(Reg.PSTATE, v);
  }
  /** True when PSTATE.I masks IRQs. */
  get irqMasked(): boolean {
    return (this.pstate & 0x80) !== 0;
  }
  readSys(r: (typeof SysReg)[keyof typeof SysReg]): bigint {
    return this.engine.readCp(r);
  }
  /** The guest's stage-1 registers now, for walks (guest-view.ts) and guest copies (guest-copy.ts). */
  stage1Regs(): Stage1Regs {
    const e = this.engine;
    return { sctlr: e.readCp(SysReg.SCTLR_EL1), tcr: e.readCp(SysReg.TCR_EL1), ttbr0: e.readCp(SysReg.TTBR0_EL1), ttbr1: e.readCp(SysReg.TTBR1_EL1) };
  }
  writeSys(r: (typeof SysReg)[keyof typeof SysReg], v: bigint): void {
    this.engine.writeCp(r, v);
    // The native hook only sees the guest's own MSRs; keep its copy of SCTLR_EL1 in step.
    if (r === SysReg.SCTLR_EL1) this.sys.sctlr = v;
  }

  /**
   * Hypercall number and arguments in one native call: [nr (x16), x0..x4] as bigints. Only
   * valid inside `traps.hvc`.
   */
  hypercallArgs(): { nr: number; a: bigint[] } {
    // Read by the native exception hook before onException runs (no native call here).
    const b = this.exc;
    return { nr: b.num(0), a: [b.bigint(1), b.bigint(2), b.bigint(3), b.bigint(4), b.bigint(5)] };
  }

  // ---------------------------------------------------------------- IRQ line

  /** The virtual IRQ line (HCR_EL2.VI), driven by the vGIC's output for this vCPU. */
  setIrqLine(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    // The line only matters while the engine runs. A vCPU that is not running gets it written
    // when its next run starts, in the same native call: a native call made from inside another
    // engine's callback (a peer's hypercall raising our line) costs ~3x one made between runs.
    const hcr = HCR_RW | HCR_IMO | (level ? HCR_VI : 0n);
    if (this.running) this.engine.writeCp(SysReg.HCR_EL2, hcr);
    else this.engine.writeCpBeforeRun(SysReg.HCR_EL2, hcr);
  }
  get irqLine(): boolean {
    return this.irqLevel;
  }

  // ---------------------------------------------------------------- running

  /** Ends the current run after the current trap handler returns. */
  requestStop(): void {
    this.stopRequested = true;
    if (this.inSysreg) {
      // PC is exact inside the hook; read it only for this rare stop, not per timer access.
      this.stopInSysreg = true;
      this.sys.pc = this.engine.readReg(Reg.PC);
    }
    this.engine.stop();
  }

  /** Instructions retired so far: this vCPU's virtual time (0 when not counted). */
  get retired(): number {
    return this.counter ? this.counter.executed : 0;
  }

  get counted(): boolean {
    return this.counter !== undefined;
  }

  /**
   * Lets the native sysreg hook answer the guest's counter reads (CNTVCT_EL0, CNTPCT_EL0) on its
   * own while virtual time stays before `due` (native/xenvm-count.c): `now` is the machine's
   * virtual time, of which this vCPU's instructions are the part that moves while it runs.
   * Past `due` (this vCPU's next timer deadline) a read must also fire the timer, so it goes to
   * the hypervisor as before. Uncounted vCPUs, and times beyond 64 bits, always do. `now` and
   * `due` are exact: a number while a safe integer, a bigint beyond (the machine's VTime).
   */
  setClock(now: number | bigint, due: number | bigint | undefined, tickNs: number): void {
    const c = this.counter;
    if (!c) return;
    const end = due === undefined ? U64_MAX : typeof due === 'number' || due <= U64_MAX ? due : U64_MAX;
    // A safe integer (every run that never jumped past 2^53 ns): no bigint on this per-run path.
    if (typeof now === 'number') {
      c.setClock(now - c.executed, end, tickNs);
      return;
    }
    const base = now - BigInt(c.executed);
    if (base > U64_MAX) c.setClock(0, 0, 0);
    else c.setClock(base, end, tickNs);
  }

  /**
   * Called from a trap handler when the guest starts depending on virtual time (it touched the
   * generic timer) on a vCPU that does not count instructions: the run ends after the handler,
   * and the counter is attached before the next one. Hooks may only change between runs (the
   * engine decides per translation which hooks a block calls), hence the detour.
   */
  needVirtualTime(): void {
    if (this.counter || this.countNext) return;
    this.countNext = true;
    this.requestStop();
  }

  /**
   * Watches guest stores to [begin, end] (inclusive guest addresses as the CPU issues them: the
   * physical address with the MMU off). The hook is added before the next run, with the
   * translations flushed (the engine decides per translation which hooks a block calls); call
   * requestStop() first when asked from inside a trap so no store slips past. `fn` runs before
   * the store lands (memory holds the old bytes) with the X registers as they are before the
   * storing instruction. The protocol checker (src/check) uses it; nothing else pays for it.
   */
  watchWrites(begin: bigint, end: bigint, fn: (address: bigint, size: number, value: bigint) => void): void {
    this.pendingWatches.push({ begin, end, fn });
  }

  /**
   * Start address of the translation block running now (the instruction itself with exact
   * counting), for a memory hook to find its storing instruction; undefined when uncounted.
   */
  get blockPc(): bigint | undefined {
    return this.counter?.blockPc;
  }

  /**
   * Reports interrupt entry and return (counted vCPUs only: the counter's block hook sees the
   * first block at an IRQ vector and the first block back at the interrupted PC). The engine
   * takes IRQs without any callback, so this is the only way to see them; it costs a compare
   * per block while on. Call before the first run.
   */
  watchInterrupts(fn: (step: InterruptStep) => void): boolean {
    if (!this.counter) return false;
    // One native watch; every caller (the trace, the protocol checker) gets each step.
    this.irqListeners.push(fn);
    if (this.irqListeners.length > 1) return true;
    const each = (step: InterruptStep) => {
      for (const l of this.irqListeners) l(step);
    };
    const w: IrqWatch = this.engine.irqWatch(() => {
      if (w.event === WATCH_TAKEN) {
        const elr = this.engine.readCp(SysReg.ELR_EL1);
        const top = this.irqReturns.at(-1);
        // Taken again at once after an ERET (the line is still up): the last one returned
        // without running a block at its return address.
        if (top === elr) {
          this.irqReturns.pop();
          each({ kind: 'returned', pc: elr });
        }
        // A handler that never returns (a context switch) must not grow this without bound.
        if (this.irqReturns.length >= 16) this.irqReturns.shift();
        this.irqReturns.push(elr);
        w.returnAddress = elr;
        each({ kind: 'taken', vector: w.eventPc, elr });
      } else if (w.event === WATCH_RETURNED) {
        const pc = this.irqReturns.pop() ?? w.eventPc;
        w.returnAddress = this.irqReturns.at(-1) ?? 0n;
        each({ kind: 'returned', pc });
      }
    });
    this.watch = w;
    w.enabled = true;
    return true;
  }

  /**
   * Whether the guest's CPU implements the GIC CPU interface as system registers (ICC_*;
   * ID_AA64PFR0_EL1.GIC = 1, DDI0487 D17.2.64): true for a GICv3 guest, whose ICC_* accesses
   * the hypervisor emulates. The engine's CPU has no GIC and would say 0, and Linux then does
   * not use the system-register interface at all.
   */
  set gicSystemRegisters(on: boolean) {
    this.sys.pfr0Gic = on ? 1 : 0;
  }

  /**
   * Counts the guest's TLBI and IC instructions from now on (install before the first run).
   * For a vCPU that shares memory with others: each engine has its own TLB and translated code,
   * which the others' maintenance does not reach (see invalidate()).
   */
  watchMaintenance(): string | undefined {
    const err = this.engine.hookMaintenance();
    return err === UcErr.OK ? undefined : `cannot hook TLB/cache maintenance: ${this.engine.strerror(err)}`;
  }

  /** TLBI and IC instructions counted since watchMaintenance (0 without it). */
  get maintenance(): { tlbi: number; ic: number } {
    return { tlbi: this.sys.tlbiCount, ic: this.sys.icCount };
  }

  /**
   * Drops what this engine cached of the guest's translations (`tlb`) and of its code (`code`),
   * as another vCPU's TLBI or IC asked of every CPU. Between runs only.
   */
  invalidate(tlb: boolean, code: boolean): void {
    if (tlb) this.engine.flushTlb();
    if (code) this.engine.flushTranslations();
  }

  /** VBAR_EL1 as the guest last wrote it (0 before it does), seen by the native MRS/MSR hook. */
  get guestVbar(): bigint {
    this.watch ??= this.engine.irqWatch();
    return this.watch.vbar;
  }

  private addWatches(): void {
    // The store hooks find their instruction from the block start, which is then recorded.
    for (const w of this.pendingWatches.splice(0)) this.engine.hookMemWrite(w.begin, w.end, w.fn);
    this.engine.flushTranslations();
  }

  private startCounting(): VcpuExit | undefined {
    this.countNext = false;
    const c = this.engine.attachCounter(this.exactCount);
    if (!c.ok) return { kind: 'fault', fault: { what: c.error, pc: this.pc, pcExact: false } };
    this.counter = c.counter;
    this.counter.executed = 0;
    // Blocks translated so far do not call the new hook.
    this.engine.flushTranslations();
    return undefined;
  }

  /**
   * Runs until an exit, at most about `budget` instructions (exactly, with exactCount).
   *
   * Runs are bounded only by the instruction counter, never by Unicorn's wall-clock timeout:
   * that timeout stops the engine from another thread, and a stop that lands while an HVC is
   * being raised loses the hypercall (the pending exception is discarded when the next run
   * starts). Measured: 5 of 6 runs of a 1,000,000-hypercall loop saw a lost call.
   *
   * The one exception is an uncounted vCPU (VcpuConfig.counted = false): it has no budget, so
   * `wallLimitUs` (> 0) bounds it with that timeout, and a run that ends by it returns
   * 'wall-limit': the vCPU's state may then be inconsistent and the caller must end the run.
   */
  run(budget: number, wallLimitUs = 0): VcpuExit {
    if (this.countNext) {
      const failed = this.startCounting();
      if (failed) return failed;
    }
    if (this.pendingWatches.length) this.addWatches();
    this.stopRequested = false;
    this.fault = undefined;
    this.memFault = undefined;
    this.breakpointAt = undefined;
    const start = this.pc;
    const counter = this.counter;
    const limit = counter ? counter.executed + budget : 0;
    if (counter) counter.limit = limit;
    this.pcNow = undefined;
    this.running = true;
    let err: number;
    try {
      err = this.engine.run(start, counter ? 0 : wallLimitUs);
    } finally {
      this.running = false;
    }
    this.pcNow = this.engine.pcAfterRun;
    if (this.stopInSysreg) this.resumeAfterSysreg();
    if (this.breakpointAt !== undefined) return { kind: 'breakpoint', pc: this.breakpointAt };
    if (this.fault) return { kind: 'fault', fault: this.fault };
    if (this.sys.ilArmed) {
      const illegal = this.illegalReturn();
      if (illegal) return illegal;
    }
    if (err !== UcErr.OK) return this.engineError(err);
    if (this.stopRequested) return { kind: 'stopped' };
    if (counter && counter.executed >= limit) return { kind: 'budget' };
    if (this.insnAt(this.pcNow - 4n) === INSN_WFI) return { kind: 'wfi' };
    // Uncounted, nothing but the engine's own timeout ends a run without one of the exits above.
    if (!counter && wallLimitUs > 0) return { kind: 'wall-limit' };
    return { kind: 'budget' };
  }

  /**
   * After a run while the guest had an illegal return armed (see native/xenvm-count.c): if an
   * ERET has set PSTATE.IL, the instruction at PC is where hardware raises Illegal Execution
   * State (ESR EC 0x0e, ELR = PC: the ERET's target; D1.11.6), which the engine does not do.
   */
  private illegalReturn(): VcpuExit | undefined {
    if ((this.pstate & PSTATE_IL) === 0) {
      // Not yet returned. Without a block hook nothing would see the ERET: the native hook
      // stopped the run to attach one (counting from now on).
      if (this.counter) return undefined;
      this.resumeAfterSysreg();
      this.countNext = true;
      return { kind: 'budget' };
    }
    if (this.injectSync(EC.ILLEGAL_STATE, 0, this.pc)) return { kind: 'budget' };
    return { kind: 'fault', fault: this.fault! };
  }

  /**
   * A stop requested from inside the MRS/MSR hook ends the run with PC at the start of the
   * translation block, although the instructions before the MRS/MSR in it have run and the
   * MRS/MSR itself is done (measured on Unicorn 2.1.1: a Linux prologue's
   * "stp x29, x30, [sp, #-N]!" then ran twice and the kernel returned into code it had left).
   * Resume right after the instruction the hook handled (native/xenvm-count.c keeps its address).
   */
  private resumeAfterSysreg(): void {
    this.stopInSysreg = false;
    const at = this.sys.pc;
    const pc = this.pcNow;
    if (pc !== undefined && pc <= at && at - pc < 4096n) this.pc = at + 4n;
  }

  /** The instruction at guest virtual `va`, fetched as the guest's current EL would. */
  private insnAt(va: bigint): number | undefined {
    // MMU off: the view does one bounds-checked read; the EL (a native read) does not matter.
    return this.view.fetch(va, this.sys.mmuOn ? currentEl(this.pstate) : 1);
  }

  /** Synchronous exception entry into the guest (Arm ARM D1.10): what hardware does on a trap to EL1. */
  injectSync(ec: number, iss: number, elr: bigint, far?: bigint): boolean {
    return this.inject('SYNC', esr(ec, iss), elr, far);
  }

  /** An SError (virtual abort) with syndrome `syndrome`, taken at `elr` (normally the current PC). */
  injectSError(syndrome: number, elr: bigint = this.pc): boolean {
    return this.inject('SERROR', syndrome, elr);
  }

  /** Exception entry at VBAR_EL1 + group + `kind`, or a fault report when there is no usable vector. */
  private inject(kind: ExceptionKind, syndrome: number, elr: bigint, far?: bigint): boolean {
    const from = this.pstate;
    const ec = syndrome >>> 26;
    const name = ECNAMES[ec] ?? `exception EC 0x${ec.toString(16)}`;
    const vbar = this.engine.readCp(SysReg.VBAR_EL1);
    const target = vectorAddress(vbar, from, kind);
    const fail = (what: string): boolean => {
      this.fault = { what, pc: elr, pcExact: true, address: far, esr: syndrome };
      this.engine.stop();
      return false;
    };
    if (target === undefined) return fail(`${name} taken from PSTATE 0x${from.toString(16)}, which is not EL0 or EL1`);
    const loop = this.loopGuard.check(vbar, target, elr, syndrome, name, () => this.engine.readCp(SysReg.ELR_EL1), () => {
      if (ec === EC.SVC64 || ec === EC.HVC64 || ec === 0x17 /* SMC64 */) return false;
      // An exception taken past an SVC/HVC/SMC (Xen's undefined instruction for an unknown HVC).
      const before = this.insnAt(elr - 4n);
      const call = before === undefined ? -1 : (before & 0xffe0001f) >>> 0;
      return call !== 0xd4000001 && call !== 0xd4000002 && call !== 0xd4000003;
    }, far);
    if (loop) return fail(loop);
    // One fetch as EL1 (the vector's EL) answers both questions: does it translate, and is it RAM.
    if (this.view.fetch(target, 1) === undefined) return fail(`${name} with no vector (VBAR_EL1=0x${vbar.toString(16)})`);
    enterException(this.engine, { kind, esr: syndrome, elr, far }, from, target);
    // The SPSR_EL1 just written is legal: an illegal return is no longer armed.
    this.sys.ilArmed = false;
    this.pcNow = this.running ? undefined : target;
    return true;
  }

  /** Ends the run with a fault report (a trap handler found something unrecoverable). */
  raiseFault(f: GuestFault): void {
    this.fault = f;
    this.engine.stop();
  }

  private onException(intno: number): void {
    // A stop requested while a hook writes PC (exception entry does) may be dropped by the
    // engine (seen on 2.0.1); budgets still end runs because the counter re-checks every block.
    if (intno === Excp.HVC) {
      // The hypercall path (the round trip the bench measures): the native hook has read x16,
      // x0..x4 and PC already. With the MMU off and PC below 2^53 (the project's own firmware)
      // the HVC is read with number arithmetic; a guest with its MMU on (Linux) takes
      // onHvcTranslated, which walks its page tables for the immediate.
      const pc = this.exc.num(6);
      if (pc > Number.MAX_SAFE_INTEGER || this.sys.mmuOn) return this.onHvcTranslated();
      const imm = hvcImmediate(this.memory.readU32(pc - 4) ?? 0) ?? -1;
      // Hypercalls come from a few stub sites: reuse the last address's bigint (making one
      // from a number costs about as much as the rest of this function, measured).
      if (pc !== this.hvcPc) {
        this.hvcPc = pc;
        this.hvcAt = BigInt(pc - 4);
      }
      this.inHvc = true;
      try {
        this.traps.hvc(this, imm, this.hvcAt);
      } finally {
        this.inHvc = false;
      }
      return;
    }
    this.onTrap(intno);
  }

  /** An HVC with the MMU on or above 2^53: its immediate is read through the guest's translation. */
  private onHvcTranslated(): void {
    const at = this.exc.pc - 4n;
    const imm = hvcImmediate(this.insnAt(at) ?? 0) ?? -1;
    this.inHvc = true;
    try {
      this.traps.hvc(this, imm, at);
    } finally {
      this.inHvc = false;
    }
  }

  /** Every exception but HVC: kept out of onException so the hypercall path stays small. */
  private onTrap(intno: number): void {
    const pc = this.pc;
    switch (intno) {
      case Excp.SMC:
        this.traps.smc(this, smcImmediate(this.insnAt(pc - 4n) ?? 0) ?? 0, pc - 4n);
        return;
      case Excp.UDEF: {
        if ((pc & 3n) !== 0n) {
          // A branch to a misaligned address: the engine reports "undefined" at it; hardware
          // raises a PC alignment fault (EC 0x22) with FAR = ELR = that address (D1.10.3).
          this.injectSync(EC.PC_ALIGN, 0, pc, pc);
          return;
        }
        const insn = this.insnAt(pc);
        const acc = insn === undefined ? undefined : decodeSysregAccess(insn);
        if (acc && currentEl(this.pstate) === 1) {
          if (!acc.read) acc.value = this.x(acc.rt);
          const r = this.traps.sysreg(this, acc);
          if (r.ok) {
            if (acc.read) this.setX(acc.rt, r.value ?? 0n);
            this.pc = pc + 4n;
            return;
          }
        }
        this.injectSync(EC.UNKNOWN, 0, pc);
        return;
      }
      case Excp.SWI: {
        const imm = svcImmediate(this.insnAt(pc - 4n) ?? 0) ?? 0;
        this.injectSync(EC.SVC64, imm, pc);
        return;
      }
      case Excp.BKPT: {
        if (this.debug?.ownsBreakpoint(pc)) {
          // A debugger's breakpoint: stop with PC at the BRK. The per-instruction counter has
          // already counted the BRK, which did not retire; take it back so virtual time (and
          // with it scheduling) matches a run without the debugger. (Debug runs count exactly.)
          this.breakpointAt = pc;
          if (this.exactCount && this.counter) this.counter.executed = this.counter.executed - 1;
          this.engine.stop();
          return;
        }
        const imm = brkImmediate(this.insnAt(pc) ?? 0) ?? 0;
        this.injectSync(EC.BRK64, imm, pc);
        return;
      }
      case Excp.PREFETCH_ABORT: {
        // Stage 1 refused a fetch (the MMU is on): PC is the address that could not be fetched.
        const r = prefetchAbort(this.view, this.pstate, pc);
        if (r.ok) this.deliverAbort(r.abort, pc);
        return;
      }
      case Excp.DATA_ABORT: {
        const r = dataAbort(this.view, this.stage1Regs(), this.pstate, pc, (n) => (n === 31 ? this.sp : this.x(n)));
        if (r.ok) this.deliverAbort(r.abort, pc);
        else this.raiseFault({ what: r.error, pc, pcExact: true });
        return;
      }
      default:
        this.raiseFault({ what: `unexpected exception ${intno} from the engine`, pc, pcExact: false });
    }
  }

  private deliverAbort(a: AbortReport, elr: bigint): boolean {
    return this.inject('SYNC', a.esr, elr, a.far);
  }

  /** The native MRS/MSR hook found a generic timer access; the hypervisor may emulate it. */
  private onSysreg(): void {
    const b = this.sys;
    const acc: SysregAccess = { read: b.read, rt: b.rt, op0: b.op0, op1: b.op1, crn: b.crn, crm: b.crm, op2: b.op2 };
    if (!acc.read) acc.value = b.value;
    this.inSysreg = true;
    let r: ReturnType<VcpuTraps['sysreg']>;
    try {
      r = this.traps.sysreg(this, acc);
    } finally {
      this.inSysreg = false;
    }
    if (r.ok) b.answer(r.value ?? 0n);
  }

  /**
   * The engine stopped on an access to a guest-physical address with nothing mapped (stage 2,
   * in Xen's terms): Xen injects an abort with an empty ISS and FAR = the virtual address.
   */
  private engineError(err: number): VcpuExit {
    const mf = this.memFault;
    const pcNow = this.pc;
    const pstate = this.pstate;
    if (mf && (mf.type === UcMemType.FETCH_UNMAPPED || mf.type === UcMemType.FETCH_PROT)) {
      // Instruction abort at the target address: PC is the address that could not be fetched.
      const a = stage2Abort(pstate, pcNow, 'fetch');
      if (this.deliverAbort(a, pcNow)) return { kind: 'budget' };
      return { kind: 'fault', fault: this.fault! };
    }
    if (mf) {
      const write = mf.type === UcMemType.WRITE_UNMAPPED || mf.type === UcMemType.WRITE_PROT;
      const { pc, va } = locateStage2Access(
        { view: this.view, mmuOn: this.sys.mmuOn, el: currentEl(pstate), reg: (n) => (n === 31 ? this.sp : this.x(n)), insnAt: (a) => this.insnAt(a) },
        pcNow,
        mf.address,
        this.exactCount ? undefined : this.counter?.blockPc,
      );
      const exact = va !== undefined;
      const a = stage2Abort(pstate, va ?? mf.address, 'data');
      if (exact && this.deliverAbort(a, pc)) return { kind: 'budget' };
      const f: GuestFault = this.fault ?? {
        what: `data abort: ${write ? 'write to' : 'read from'} 0x${mf.address.toString(16)}, where the domain has neither RAM nor a device`,
        pc,
        pcExact: exact,
        address: mf.address,
        esr: a.esr,
      };
      return { kind: 'fault', fault: f };
    }
    return { kind: 'fault', fault: { what: `engine stopped: ${this.engine.strerror(err)}`, pc: pcNow, pcExact: false } };
  }

  /**
   * The guest-physical pieces of [va, va+len) as a debugger addresses it (GuestView.debugAddress:
   * virtual addresses through the guest's stage-1 tables when its MMU is on), 4 KiB page by
   * page, up to the first byte that does not translate or is not RAM.
   */
  private debugPieces(va: bigint, len: number): { pa: number; off: number; n: number }[] {
    const pieces: { pa: number; off: number; n: number }[] = [];
    let done = 0;
    while (done < len) {
      const at = BigInt.asUintN(64, va + BigInt(done));
      const n = Math.min(len - done, 4096 - Number(at & 0xfffn));
      const pa = this.view.debugAddress(at);
      if (pa === undefined || pa > BigInt(Number.MAX_SAFE_INTEGER) || !this.memory.contains(Number(pa), n)) break;
      pieces.push({ pa: Number(pa), off: done, n });
      done += n;
    }
    return pieces;
  }

  /** Guest memory at `va` for a debugger: the readable prefix (empty when none is). */
  debugRead(va: bigint, len: number): Uint8Array {
    const pieces = this.debugPieces(va, len);
    const out = new Uint8Array(pieces.reduce((t, p) => t + p.n, 0));
    for (const p of pieces) out.set(this.memory.read(p.pa, p.n)!, p.off);
    return out;
  }

  /**
   * Writes guest memory on a debugger's behalf (breakpoints, `M`/`X` packets) at `va` (see
   * debugRead) and drops any translated code for those bytes, so the engine does not keep running
   * stale instructions. All or nothing: false, with nothing written, when any byte does not
   * translate or is not RAM.
   */
  debugWrite(va: bigint | number, data: Uint8Array): boolean {
    const at = BigInt(va);
    const pieces = this.debugPieces(at, data.length);
    if (pieces.reduce((t, p) => t + p.n, 0) !== data.length) return false;
    for (const p of pieces) this.memory.write(p.pa, data.subarray(p.off, p.off + p.n));
    if (!this.sys.mmuOn) {
      this.engine.removeCache(at, at + BigInt(data.length));
    } else {
      // The engine's per-range invalidation (UC_CTL_TB_REMOVE_CACHE) translates the address
      // with the vCPU's current EL and drops nothing when that EL cannot fetch it (a kernel
      // stopped at EL0, user code marked PXN for EL1): drop every translation instead. Only
      // debugger writes pay this, between runs.
      this.engine.flushTranslations();
    }
    return true;
  }

  close(): void {
    this.engine.close();
  }
}
