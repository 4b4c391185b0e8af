/**
 * Exception entry into the guest's EL1, done by hand for the exceptions the engine hands to us
 * instead of taking them itself (every synchronous exception, and SError we inject).
 * Arm ARM DDI0487 D1.10 "Exception entry":
 *  - the vector: VBAR_EL1 (bits [10:0] ignored) + where the exception came from (current EL
 *    with SP_EL0 +0x000, current EL with SP_ELx +0x200, lower EL in AArch64 +0x400, lower EL in
 *    AArch32 +0x600) + the kind (synchronous +0x000, IRQ +0x080, FIQ +0x100, SError +0x180);
 *  - SPSR_EL1 = PSTATE as it was (IL included), ELR_EL1 = the preferred return address,
 *    ESR_EL1 = the syndrome, FAR_EL1 for aborts;
 *  - PSTATE: EL1 with SP_EL1 (M = 0b0101), D, A, I, F all set, IL and SS cleared, NZCV kept;
 *    PAN set when SCTLR_EL1.SPAN is 0 on a CPU with FEAT_PAN (the Cortex-A57 has none: the
 *    bit is RES0 there and stays clear).
 *
 * The engine keeps the stack pointer in use in one register and the other in its bank
 * (SP_EL0 / SP_EL1 register ids), and writing PSTATE does not switch banks: the SP in use is
 * saved to its bank here and SP_EL1 loaded. Writing PSTATE does not refresh the engine's cached
 * translation flags either (current EL, MMU index); a system-register write does, so PSTATE is
 * written before ELR/SPSR/ESR.
 */
import type { Engine } from '../unicorn/binding.ts';
import { Reg } from '../unicorn/constants.ts';
import { PSTATE_DAIF, PSTATE_EL1H, SysReg, VectorBase, VectorKind } from './arm64.ts';

export type ExceptionKind = keyof typeof VectorKind;

/** PSTATE bits entry touches (D1.6). */
const PSTATE_NZCV = 0xf000_0000;
const PSTATE_nRW = 1 << 4;
const PSTATE_PAN = 1 << 22;
const SCTLR_SPAN = 1n << 23n;

/** The vector group for an exception taken to EL1 from `pstate`, or undefined from EL2/EL3. */
export function vectorGroup(pstate: number): number | undefined {
  const el = (pstate >>> 2) & 3;
  if (pstate & PSTATE_nRW) return el === 0 ? VectorBase.LOWER_A32 : undefined;
  if (el === 0) return VectorBase.LOWER_A64;
  if (el === 1) return pstate & 1 ? VectorBase.CUR_SPX : VectorBase.CUR_SP0;
  return undefined;
}

/** PSTATE right after entry to EL1 from `pstate`. `pan`: the CPU has FEAT_PAN. */
export function entryPstate(pstate: number, opts: { pan?: boolean; sctlr?: bigint } = {}): number {
  let p = (pstate & PSTATE_NZCV) | PSTATE_DAIF | PSTATE_EL1H;
  if (opts.pan) {
    const keep = pstate & PSTATE_PAN;
    p |= (opts.sctlr ?? 0n) & SCTLR_SPAN ? keep : PSTATE_PAN;
  }
  return p >>> 0;
}

/** The vector address for `kind` from `pstate` with VBAR_EL1 = `vbar` (all 64 bits). */
export function vectorAddress(vbar: bigint, pstate: number, kind: ExceptionKind): bigint | undefined {
  const group = vectorGroup(pstate);
  if (group === undefined) return undefined;
  return BigInt.asUintN(64, (vbar & ~0x7ffn) + BigInt(group + VectorKind[kind]));
}

export interface ExceptionEntry {
  kind: ExceptionKind;
  esr: number;
  /** Preferred return address. */
  elr: bigint;
  /** FAR_EL1, for aborts (and PC alignment faults). */
  far?: bigint;
}

/**
 * Takes `e` on the engine's vCPU, which must be stopped in a hook or between runs.
 * `vector` is precomputed by the caller (it checked that there is one).
 */
export function enterException(engine: Engine, e: ExceptionEntry, from: number, vector: bigint): void {
  // Bank the SP in use (SPSel: PSTATE.M[0]) and switch to SP_EL1.
  const sp = engine.readReg(Reg.SP);
  let spEl1: bigint;
  if (from & 1) {
    engine.writeReg(Reg.SP_EL1, sp);
    spEl1 = sp;
  } else {
    engine.writeReg(Reg.SP_EL0, sp);
    spEl1 = engine.readReg(Reg.SP_EL1);
  }
  engine.writeReg(Reg.PSTATE, entryPstate(from));
  engine.writeReg(Reg.SP, spEl1);
  // System-register writes after PSTATE: the last one makes the engine recompute its flags.
  engine.writeCp(SysReg.SPSR_EL1, BigInt(from >>> 0));
  engine.writeCp(SysReg.ELR_EL1, e.elr);
  if (e.far !== undefined) engine.writeCp(SysReg.FAR_EL1, e.far);
  engine.writeCp(SysReg.ESR_EL1, BigInt(e.esr >>> 0));
  engine.writeReg(Reg.PC, vector);
}

/**
 * Notices a vector table that faults on itself: on hardware (and under Xen) such a guest spins
 * forever. The vector's own first instruction raising the exception is that at once; the same
 * exception from the same place inside the vector table, unchanged, a few times in a row is
 * that too. So is the same exception at the same address, taken again and again while ELR_EL1
 * still holds what the previous entry put there (and the same fault address), for an exception whose return runs the faulting
 * instruction again: the handler (wherever it is: a vector that branches out, a stack push with
 * a bad SP) faulted before it could return, or returned to the same fault without changing
 * anything. A handler that skips or fixes the fault changes ELR_EL1
 * or stops faulting, so it is never taken for a loop. Returns what to report, or undefined to
 * go ahead with the entry.
 */
export class VectorLoopGuard {
  private vector = -1n;
  private elr = -1n;
  private esr = -1;
  private far: bigint | undefined;
  private repeats = 0;
  private stuck = 0;

  /** Entries in a row, with ELR_EL1 untouched in between, that make a loop (a few microseconds' worth). */
  static readonly STUCK_LIMIT = 64;

  /**
   * `elrNow` reads ELR_EL1 as it is just before this entry (what the guest left there); it is
   * called only for an entry that repeats the previous one, as is `reexecutes`, which tells
   * whether returning to `elr` runs the instruction that raised the exception again (a fault);
   * not for a call (SVC, HVC, SMC, or the undefined instruction Xen injects for an HVC it does
   * not know): a loop of those returns past them each time, which is progress.
   */
  check(vbar: bigint, vector: bigint, elr: bigint, esr: number, name: string, elrNow?: () => bigint, reexecutes?: () => boolean, far?: bigint): string | undefined {
    const same = vector === this.vector && elr === this.elr && esr === this.esr;
    this.repeats = same ? this.repeats + 1 : 0;
    // The fault address too: a handler that maps page after page for the same instruction (a
    // memset over fresh memory) returns to it unchanged each time, but never for the same page.
    // A call's repeat is progress (no ELR_EL1 read, a native call, for the guest's syscalls).
    this.stuck = same && far === this.far && (reexecutes?.() ?? true) && elrNow?.() === this.elr ? this.stuck + 1 : 0;
    this.far = far;
    this.vector = vector;
    this.elr = elr;
    this.esr = esr;
    if (elr === vector) return `exception loop: the vector at 0x${vector.toString(16)} itself raised ${name}`;
    const table = vbar & ~0x7ffn;
    if (elr >= table && elr < table + 0x800n && this.repeats >= 8) {
      return `exception loop: ${name} at 0x${elr.toString(16)} in the vector table, taken at 0x${vector.toString(16)} ${this.repeats + 1} times over`;
    }
    if (this.stuck >= VectorLoopGuard.STUCK_LIMIT) {
      return `exception loop: ${name} at 0x${elr.toString(16)}, taken through the vector at 0x${vector.toString(16)} ${this.stuck + 1} times over with ELR_EL1 left as it was (the handler faults again, or returns to the same fault)`;
    }
    return undefined;
  }
}
