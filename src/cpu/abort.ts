/**
 * The syndrome of an abort the guest takes (ESR_EL1 and FAR_EL1), worked out from what the
 * engine leaves us. With the guest's MMU on, the engine hands a stage-1 fault to the exception
 * hook as "prefetch abort" or "data abort" at the exact PC, without the fault status or the
 * address: the instruction at PC (fetched through the guest's translation) says which address
 * and which access, and the stage-1 walker (mmu.ts) says which fault at which level.
 * Alignment faults are found here too (they come before translation faults, D8.x).
 *
 * Stage-2 aborts (an access whose IPA has neither RAM nor a device) are Xen's to report: it
 * injects them with an empty ISS, FAR = the virtual address (measured under the real Xen 4.17:
 * 0x96000000 / 0x92000000 for loads and stores alike, 0x86000000 / 0x82000000 for fetches).
 */
import { esr, PSTATE_M_MASK } from './arm64.ts';
import { decodeMemAccess, type MemAccess } from './decode-ls.ts';
import { alignmentRule, scanBlock } from './fault-locate.ts';
import type { GuestView } from './guest-view.ts';
import { abortEc, abortSyndrome, type AbortCause, type AccessKind, type Stage1Regs } from './mmu.ts';

export interface AbortReport {
  esr: number;
  far: bigint;
  /** For messages: what the guest did. */
  what: string;
}

export type AbortResult = { ok: true; abort: AbortReport } | { ok: false; error: string };

const SCTLR_A = 1n << 1n;

/** The EL the guest ran at (PSTATE.M[3:2]); the guest only runs at EL0 and EL1. */
export function currentEl(pstate: number): 0 | 1 {
  return (pstate & PSTATE_M_MASK) >>> 2 === 0 ? 0 : 1;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Instruction abort at `pc` (the address that could not be fetched). */
export function prefetchAbort(view: GuestView, pstate: number, pc: bigint): AbortResult {
  const el = currentEl(pstate);
  const r = view.translate(pc, 'fetch', el);
  if (r.ok) return { ok: true, abort: stage2Abort(pstate, pc, 'fetch') };
  return { ok: true, abort: { esr: abortSyndrome({ fault: r.fault, kind: 'fetch', fromEl: el, currentEl: 1 }), far: pc, what: `fetch from ${hex(pc)}` } };
}

/**
 * Data abort raised by the load/store at `pc`. `reg` reads Xn (31 = the SP in use).
 * Fails when the instruction cannot be read or decoded, or when the walker finds nothing wrong
 * with the access (the guest changed its tables without invalidating the TLB).
 */
export function dataAbort(view: GuestView, regs: Stage1Regs, pstate: number, pc: bigint, reg: (n: number) => bigint): AbortResult {
  const el = currentEl(pstate);
  const insn = view.fetch(pc, el);
  if (insn === undefined) return { ok: false, error: `data abort at ${hex(pc)}, whose instruction cannot be read` };
  const ls = decodeMemAccess(insn, reg, pc);
  if (!ls) return { ok: false, error: `data abort at ${hex(pc)} by 0x${insn.toString(16).padStart(8, '0')}, not a load/store this decoder knows` };
  const cause = accessFault(view, regs, insn, ls, el);
  if (!cause) return { ok: false, error: `data abort at ${hex(pc)} (${describe(ls)}) that the stage-1 tables allow` };
  return {
    ok: true,
    abort: {
      esr: abortSyndrome({ fault: cause.fault, kind: cause.kind, fromEl: el, currentEl: 1, cacheMaintenance: ls.cacheMaintenance }),
      far: cause.far,
      what: describe(ls),
    },
  };
}

type Cause = { fault: AbortCause; far: bigint; kind: AccessKind };

/**
 * The first fault the access raises, with the address and direction it reports, or undefined
 * if none. Alignment comes before translation. A read-modify-write (atomic, CAS) reports a read
 * when reading would fault, else a write (WnR, DDI0487 "ISS encoding for a Data Abort").
 */
function accessFault(view: GuestView, regs: Stage1Regs, insn: number, ls: MemAccess, el: 0 | 1): Cause | undefined {
  const rule = alignmentRule(insn, ls);
  const checked = rule !== undefined && (rule.always || (regs.sctlr & SCTLR_A) !== 0n);
  if (checked && ls.address % BigInt(rule.align) !== 0n) return { fault: { kind: 'alignment' }, far: ls.address, kind: ls.write && !ls.read ? 'write' : 'read' };
  const permEl = ls.unprivileged ? 0 : el;
  const page = (va: bigint): Cause | undefined => {
    if (ls.read || !ls.write) {
      const r = view.translate(va, 'read', permEl, regs);
      if (!r.ok) return { fault: r.fault, far: va, kind: ls.cacheMaintenance ? 'write' : 'read' };
    }
    if (ls.write) {
      const w = view.translate(va, 'write', permEl, regs);
      if (!w.ok) return { fault: w.fault, far: va, kind: 'write' };
    }
    return undefined;
  };
  const first = page(ls.address);
  if (first) return first;
  // An access that crosses into the next page faults there (FAR = the first byte of that page).
  const last = BigInt.asUintN(64, ls.address + BigInt(ls.size - 1));
  if (last >> 12n !== ls.address >> 12n) return page(BigInt.asUintN(64, (last >> 12n) << 12n));
  return undefined;
}

/** Xen's injection for an access to an IPA with nothing behind it: EC by direction and EL, ISS 0. */
export function stage2Abort(pstate: number, va: bigint, kind: 'fetch' | 'data'): AbortReport {
  return { esr: esr(abortEc(kind === 'fetch', currentEl(pstate) === 0), 0), far: va, what: `${kind === 'fetch' ? 'fetch from' : 'access to'} ${hex(va)}, where the domain has neither RAM nor a device` };
}

function describe(ls: MemAccess): string {
  return `${ls.size}-byte ${ls.write ? 'write to' : 'read from'} ${hex(ls.address)}`;
}

export interface Stage2Ctx {
  view: GuestView;
  mmuOn: boolean;
  el: 0 | 1;
  reg: (n: number) => bigint;
  insnAt: (va: bigint) => number | undefined;
}

/**
 * The load/store behind an access the engine stopped on because nothing is mapped at guest-
 * physical `pa`, and the virtual address it used (the guest's FAR). The engine's PC is the
 * instruction itself, or, in a run without a per-instruction hook, possibly the start of its
 * translation block or of an earlier block it was chained from: then the block that started
 * last (`blockPc`, from the counter's block hook) is scanned, and with the MMU off the block at
 * the engine's PC. `va` is undefined when no instruction accounts for `pa`.
 */
export function locateStage2Access(ctx: Stage2Ctx, pcNow: bigint, pa: bigint, blockPc?: bigint): { pc: bigint; va?: bigint } {
  const matches = (insn: number, insnPc: bigint): bigint | undefined => {
    const ls = decodeMemAccess(insn, ctx.reg, insnPc);
    if (!ls) return undefined;
    const va = ls.address;
    if (!ctx.mmuOn) return pa >= va && pa < va + 64n ? va : undefined;
    const t = ctx.view.translate(va, ls.write && !ls.read ? 'write' : 'read', ctx.el);
    return t.ok && pa >= t.pa && pa < t.pa + 64n ? va : undefined;
  };
  const insn = ctx.insnAt(pcNow);
  const va = insn === undefined ? undefined : matches(insn, pcNow);
  if (va !== undefined) return { pc: pcNow, va };
  // The engine's PC can name an earlier block of a chain (a loop that branched straight into
  // the faulting block); the block hook's record of the block that started last is the one
  // that faulted, so its instructions are scanned first. With the MMU off, the block at the
  // engine's PC is scanned too (fault-locate.ts).
  const found =
    (blockPc !== undefined && blockPc !== pcNow ? scanBlock(ctx.insnAt, blockPc, matches) : undefined) ??
    (ctx.mmuOn ? undefined : scanBlock(ctx.insnAt, pcNow, matches));
  return found ? { pc: found.pc, va: found.found } : { pc: pcNow };
}
