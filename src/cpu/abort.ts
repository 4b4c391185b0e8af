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
import { EC, esr, PSTATE_M_MASK } from './arm64.ts';
import { decodeLoadStore, type LoadStore } from './fault-locate.ts';
import type { GuestView } from './guest-view.ts';
import { abortSyndrome, type AbortCause, type Stage1Regs } from './mmu.ts';

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
  const ls = decodeLoadStore(insn, pc, reg);
  if (!ls) return { ok: false, error: `data abort at ${hex(pc)} by 0x${insn.toString(16).padStart(8, '0')}, not a load/store this decoder knows` };
  const cause = accessFault(view, regs, ls, el);
  if (!cause) return { ok: false, error: `data abort at ${hex(pc)} (${describe(ls)}) that the stage-1 tables allow` };
  return {
    ok: true,
    abort: {
      esr: abortSyndrome({ fault: cause.fault, kind: ls.write ? 'write' : 'read', fromEl: el, currentEl: 1 }),
      far: cause.far,
      what: describe(ls),
    },
  };
}

/** The first fault the access raises, with the address it reports, or undefined if none. */
function accessFault(view: GuestView, regs: Stage1Regs, ls: LoadStore, el: 0 | 1): { fault: AbortCause; far: bigint } | undefined {
  if (ls.va % BigInt(ls.align) !== 0n && (ls.alignmentChecked || (regs.sctlr & SCTLR_A) !== 0n)) return { fault: { kind: 'alignment' }, far: ls.va };
  const permEl = ls.unprivileged ? 0 : el;
  const kind = ls.write ? 'write' : 'read';
  const first = view.translate(ls.va, kind, permEl, regs);
  if (!first.ok) return { fault: first.fault, far: ls.va };
  // An access that crosses into the next page faults there (FAR = the first byte of that page).
  const last = BigInt.asUintN(64, ls.va + BigInt(ls.size - 1));
  if (last >> 12n !== ls.va >> 12n) {
    const next = BigInt.asUintN(64, (last >> 12n) << 12n);
    const second = view.translate(next, kind, permEl, regs);
    if (!second.ok) return { fault: second.fault, far: next };
  }
  return undefined;
}

/** Xen's injection for an access to an IPA with nothing behind it: EC by direction and EL, ISS 0. */
export function stage2Abort(pstate: number, va: bigint, kind: 'fetch' | 'data'): AbortReport {
  const lower = currentEl(pstate) === 0;
  const ec = kind === 'fetch' ? (lower ? EC.IABT_LOW : EC.IABT_CUR) : lower ? EC.DABT_LOW : EC.DABT_CUR;
  return { esr: esr(ec, 0), far: va, what: `${kind === 'fetch' ? 'fetch from' : 'access to'} ${hex(va)}, where the domain has neither RAM nor a device` };
}

function describe(ls: LoadStore): string {
  return `${ls.size}-byte ${ls.write ? 'write to' : 'read from'} ${hex(ls.va)}`;
}
