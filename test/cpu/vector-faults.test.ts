// Issue 14, item 6: a guest that faults inside its own exception handling (or has nowhere to
// take an exception) ends with one report — what, where (PC), the syndrome — within a second
// of wall time, in every variant: no vector, a garbage or unmapped VBAR, a vector or the
// handler it branches to that faults again, an invalid stack, from EL1h and EL1t, MMU off and
// on. (Under the real Xen such a guest spins for ever; the emulator promises a report.)
// The machine turns this exit into the one "dN fault: ..." line (test/run/boot.test.ts).
import { describe, expect, it } from 'vitest';
import { EC, SysReg } from '../../src/cpu/arm64.ts';
import { Vcpu, type VcpuExit, type VcpuTraps } from '../../src/cpu/vcpu.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { PhysMem, TableBuilder, tcr } from './page-tables.ts';
import { MOVZ, MOVK, ERET, WFI, UDF } from '../helpers/a64.ts';

const BASE = 0x40000000;
const B = BigInt(BASE);
const VBAR = BASE + 0x800;
const HANDLER = BASE + 0x2000;
const STP_PUSH = 0xa9bf07e0; // stp x0, x1, [sp, #-16]!
const MSR_SPSEL_0 = 0xd50040bf; // msr spsel, #0  (EL1t)
const MOV_SP = (rn: number) => (0x9100001f | (rn << 5)) >>> 0; // mov sp, xn
const B_TO = (from: number, to: number) => (0x14000000 | (((to - from) / 4) & 0x3ffffff)) >>> 0;

/** A vCPU at BASE running `code`, with `extra` words placed at other addresses. */
function guest(code: number[], extra: Record<number, number[]> = {}, mem = new GuestMemory(BASE, 1 << 20), traps: Partial<VcpuTraps> = {}) {
  code.forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
  for (const [at, words] of Object.entries(extra)) words.forEach((w, i) => mem.writeU32(Number(at) + 4 * i, w));
  const r = Vcpu.create({ id: 0, memory: mem, traps: { hvc: () => {}, smc: () => {}, sysreg: () => ({ ok: false }), ...traps } });
  if (!r.ok) throw new Error(r.error);
  r.vcpu.reset(BASE, 0);
  return r.vcpu;
}

/**
 * Runs as the machine does, quantum after quantum (an abort on memory that is not RAM ends a
 * quantum early), with a budget far beyond what a loop needs to be noticed: the report must
 * come within a second of wall time.
 */
function runOn(vcpu: Vcpu, budget = 200_000_000): VcpuExit {
  let exit: VcpuExit = vcpu.run(1_000_000);
  for (let n = 0; exit.kind === 'budget' && vcpu.retired < budget && n < 100_000; n++) exit = vcpu.run(1_000_000);
  return exit;
}

function runToReport(vcpu: Vcpu): Extract<VcpuExit, { kind: 'fault' }>['fault'] {
  const t0 = performance.now();
  const exit = runOn(vcpu);
  const ms = performance.now() - t0;
  expect(exit.kind, JSON.stringify(exit, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))).toBe('fault');
  expect(ms).toBeLessThan(1000);
  if (exit.kind !== 'fault') throw new Error('unreachable');
  expect(exit.fault.esr).toBeDefined();
  return exit.fault;
}

describe('a guest with nowhere to take its exception', () => {
  it.each([
    ['VBAR_EL1 = 0 (no RAM there)', 0n],
    ['VBAR_EL1 garbage below RAM', 0x12345000n],
    ['VBAR_EL1 just past RAM', B + (1n << 20n)],
    ['VBAR_EL1 not canonical', 0xdead_0000_0000_0000n],
    ['VBAR_EL1 all ones (vector wraps past 2^64)', (1n << 64n) - 1n],
  ])('%s: undefined instruction, reported', (_, vbar) => {
    const vcpu = guest([UDF]);
    vcpu.writeSys(SysReg.VBAR_EL1, vbar);
    const f = runToReport(vcpu);
    expect(f.what).toMatch(/^undefined instruction with no vector/);
    expect(f.pc).toBe(B);
  });
});

describe('a guest whose exception handling faults again', () => {
  it('EL1h: the vector itself is an undefined instruction', () => {
    const vcpu = guest([UDF]);
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR)); // zeros: UDF
    expect(runToReport(vcpu).what).toMatch(/exception loop: the vector at 0x40000a00 itself raised undefined instruction/);
  });

  it('EL1t: the SP_EL0 vector group (+0x000) faults, and then its own EL1h vector', () => {
    const vcpu = guest([MSR_SPSEL_0, UDF]);
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    // The first entry comes from EL1t (+0x000); the UDF there is taken from EL1h (+0x200).
    expect(runToReport(vcpu).what).toMatch(/exception loop: the vector at 0x40000a00 itself raised undefined instruction/);
  });

  it('EL1h: the vector branches to a handler outside the table, which faults', () => {
    const vcpu = guest([UDF], { [VBAR + 0x200]: [B_TO(VBAR + 0x200, HANDLER)], [HANDLER]: [UDF] });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    const f = runToReport(vcpu);
    expect(f.what).toMatch(/exception loop: undefined instruction at 0x40002000/);
    expect(f.pc).toBe(BigInt(HANDLER));
  });

  it('EL1t: the handler outside the table faults', () => {
    const vcpu = guest([MSR_SPSEL_0, UDF], { [VBAR]: [B_TO(VBAR, HANDLER)], [VBAR + 0x200]: [B_TO(VBAR + 0x200, HANDLER)], [HANDLER]: [UDF] });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    expect(runToReport(vcpu).what).toMatch(/exception loop: undefined instruction at 0x40002000/);
  });

  it('an invalid SP: the vector\'s first push aborts', () => {
    // x2 = 0x10 (no RAM); sp = x2; udf
    const vcpu = guest([MOVZ(2, 0x10), MOV_SP(2), UDF], { [VBAR + 0x200]: [STP_PUSH, WFI] });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    const f = runToReport(vcpu);
    expect(f.what).toMatch(/exception loop: the vector at 0x40000a00 itself raised data abort/);
  });

  it('an invalid SP: the push in the handler the vector branches to aborts', () => {
    const vcpu = guest([MOVZ(2, 0x10), MOV_SP(2), UDF], { [VBAR + 0x200]: [B_TO(VBAR + 0x200, HANDLER)], [HANDLER]: [STP_PUSH, WFI] });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    const f = runToReport(vcpu);
    expect(f.what).toMatch(/exception loop: data abort at 0x40002000/);
    expect(f.esr! >>> 26).toBe(0x25);
  });

  it('a handler that returns to the same fault without fixing it (ERET to the faulting instruction)', () => {
    const vcpu = guest([MOVZ(2, 0x10), 0xf9400041 /* ldr x1, [x2] */, WFI], { [VBAR + 0x200]: [B_TO(VBAR + 0x200, HANDLER)], [HANDLER]: [ERET] });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    const f = runToReport(vcpu);
    expect(f.what).toMatch(/exception loop: data abort at 0x40000004/);
  });

  it('a handler that skips the faulting instruction is not a loop (the same fault, taken 100000 times, each returned from)', () => {
    // loop: ldr x1, [x2]; subs x3, x3, #1; b.ne loop; wfi — the handler adds 4 to ELR_EL1 and returns.
    const code = [MOVZ(2, 0x10), MOVZ(3, 0x86a0), MOVK(3, 0x1, 16), 0xf9400041, 0xf1000463, 0x54ffffc1, WFI];
    const handler = [0xd538402a /* mrs x10, elr_el1 */, 0x9100114a /* add x10, x10, #4 */, 0xd518402a /* msr elr_el1, x10 */, 0xd69f03e0 /* eret */];
    const vcpu = guest(code, { [VBAR + 0x200]: [B_TO(VBAR + 0x200, HANDLER)], [HANDLER]: handler });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    expect(runOn(vcpu, 50_000_000).kind).toBe('wfi');
    expect(vcpu.x(3)).toBe(0n);
  });
});

describe('a handler that fixes each fault is not a loop', () => {
  it('the same store faulting on ever new addresses, returned to unchanged each time', () => {
    // loop: str x1, [x2]; add x2, x2, #8; subs x3, x3, #1; b.ne loop — x2 walks addresses with
    // nothing behind them. The handler moves x2 on by 8 and returns to the store (ELR_EL1
    // untouched), as a handler that maps each page and retries would: every entry has the same
    // instruction and syndrome but a new fault address, so it is not a loop, and it runs on.
    const code = [MOVZ(2, 0x10), MOVZ(3, 1000), 0xf9000041, 0x91002042, 0xf1000463, 0x54ffffa1, WFI];
    const handler = [0x91002042 /* add x2, x2, #8 */, 0xd69f03e0 /* eret */];
    const vcpu = guest(code, { [VBAR + 0x200]: [B_TO(VBAR + 0x200, HANDLER)], [HANDLER]: handler });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    expect(runOn(vcpu, 2_000_000).kind).toBe('budget');
    expect(vcpu.x(2)).toBeGreaterThan(0x10n + 64n * 8n);
  });
});

describe('calls in a loop are not exception loops', () => {
  // loop: <call>; subs x3, x3, #1; b.ne loop; wfi — the handler returns with ELR_EL1 untouched.
  const loop = (call: number) => [MOVZ(3, 1000), call, 0xf1000463, 0x54ffffc1, WFI];

  it('SVC #0 a thousand times from the same place', () => {
    const vcpu = guest(loop(0xd4000001), { [VBAR + 0x200]: [ERET] });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    expect(runOn(vcpu, 1_000_000).kind).toBe('wfi');
    expect(vcpu.x(3)).toBe(0n);
  });

  it('an HVC Xen does not know (undefined instruction taken past it) a thousand times', () => {
    const HVC_1 = 0xd4000022;
    const vcpu = guest(loop(HVC_1), { [VBAR + 0x200]: [ERET] }, undefined, { hvc: (v, _imm, at) => void v.injectSync(EC.UNKNOWN, 0, at + 4n) });
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(VBAR));
    expect(runOn(vcpu, 1_000_000).kind).toBe('wfi');
    expect(vcpu.x(3)).toBe(0n);
  });
});

describe('MMU on', () => {
  const KBASE = 0xffff8000_0000_0000n;
  /** A kernel at KBASE (TTBR1 maps one 4 KiB code page and one stack page), vectors at `vbar`. */
  function kernel(code: number[], vbar: bigint, vectorWords: Record<number, number[]> = {}) {
    const phys = new PhysMem(B, 1 << 20);
    const tables = new TableBuilder(phys, 12, 48, B + 0x80000n);
    tables.map(KBASE, B, 3, { ap: 0 });
    tables.map(KBASE + 0x1f000n, B + 0x1f000n, 3, { ap: 0 }); // stack page, below KBASE + 0x20000
    const mem = new GuestMemory(BASE, 1 << 20, phys.bytes);
    const vcpu = guest(code, vectorWords, mem);
    vcpu.writeSys(SysReg.MAIR_EL1, 0xffn);
    vcpu.writeSys(SysReg.TCR_EL1, tcr({ t0sz: 16, t1sz: 16, tg1: 2, epd0: true, ips: 2 }));
    vcpu.writeSys(SysReg.TTBR1_EL1, tables.root);
    vcpu.writeSys(SysReg.VBAR_EL1, vbar);
    vcpu.writeSys(SysReg.SCTLR_EL1, vcpu.readSys(SysReg.SCTLR_EL1) | 1n);
    vcpu.reset(KBASE, 0);
    return vcpu;
  }
  /** sp = 0xffff8000_0000_0000 + (hi16 << 16) */
  const setSp = (hi16: number) => [MOVZ(2, hi16, 16), MOVK(2, 0x8000, 32), MOVK(2, 0xffff, 48), MOV_SP(2)];

  it('the vector page is not mapped: reported as no vector', () => {
    const vcpu = kernel([UDF], KBASE + 0x200000n);
    const f = runToReport(vcpu);
    expect(f.what).toMatch(/^undefined instruction with no vector \(VBAR_EL1=0xffff800000200000\)/);
    expect(f.pc).toBe(KBASE);
  });

  it('the vector is mapped and valid but the stack is not: its push aborts on translation', () => {
    // Vectors at KBASE+0x800 (in the code page); SP in the unmapped upper half.
    const vcpu = kernel([...setSp(0x40), UDF], KBASE + 0x800n, { [BASE + 0xa00]: [STP_PUSH, WFI] });
    const f = runToReport(vcpu);
    expect(f.what).toMatch(/exception loop: the vector at 0xffff800000000a00 itself raised data abort/);
    expect(f.address).toBe(KBASE + 0x400000n - 16n);
  });

  it('a mapped stack: the same vector pushes and stops at WFI (no false report)', () => {
    const vcpu = kernel([...setSp(0x2), UDF], KBASE + 0x800n, { [BASE + 0xa00]: [STP_PUSH, WFI] });
    expect(runOn(vcpu, 10_000).kind).toBe('wfi');
  });
});
