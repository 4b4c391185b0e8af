// Exception entry and aborts on the real engine: 64-bit kernel addresses with the guest's own
// page tables (HVC address, ELR, FAR exact above 2^53), the vector group by origin, SError
// injection, and a vector table that faults on itself forever. The same behaviours under the
// real Xen are in test/cpu/cpu-arch.test.ts.
import { describe, expect, it } from 'vitest';
import { PSTATE_IL, SysReg } from '../../src/cpu/arm64.ts';
import { entryPstate, vectorAddress, vectorGroup } from '../../src/cpu/exception-entry.ts';
import { Vcpu, type VcpuTraps } from '../../src/cpu/vcpu.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { PhysMem, TableBuilder, tcr } from './page-tables.ts';
import { MOVZ, MOVK, HVC, WFI, NOP, UDF, LDR_X1_X2 } from '../helpers/a64.ts';

const BASE = 0x40000000;
const B = BigInt(BASE);
const KBASE = 0xffff8000_0000_0000n; // where a Linux kernel's image lives, far above 2^53

function vcpuOn(mem: GuestMemory, traps: Partial<VcpuTraps> = {}) {
  const r = Vcpu.create({ id: 0, memory: mem, traps: { hvc: () => {}, smc: () => {}, sysreg: () => ({ ok: false }), ...traps } });
  if (!r.ok) throw new Error(r.error);
  return r.vcpu;
}

describe('exception entry, pure parts (Arm ARM D1.10)', () => {
  it('picks the vector group from where the exception came from', () => {
    expect(vectorGroup(0x0)).toBe(0x400); // EL0t: lower EL, AArch64
    expect(vectorGroup(0x3c4)).toBe(0x000); // EL1t: current EL with SP_EL0
    expect(vectorGroup(0x3c5)).toBe(0x200); // EL1h: current EL with SP_EL1
    expect(vectorGroup(0x10)).toBe(0x600); // AArch32 User: lower EL, AArch32
    expect(vectorGroup(0x3c9)).toBeUndefined(); // EL2: never the guest's
  });
  it('uses all 64 bits of VBAR_EL1 and ignores bits [10:0]', () => {
    expect(vectorAddress(0xffff8000_0801_07ffn, 0x3c5, 'SYNC')).toBe(0xffff8000_0801_0200n);
    expect(vectorAddress(0xffff8000_0801_0000n, 0x0, 'SERROR')).toBe(0xffff8000_0801_0580n);
  });
  it('enters EL1h with DAIF masked, IL and SS cleared, NZCV kept', () => {
    expect(entryPstate(0x6000_0000 | PSTATE_IL | (1 << 21) | 0x4)).toBe(0x6000_03c5);
    expect(entryPstate(0x0)).toBe(0x3c5);
    // With FEAT_PAN (not the A57): PAN set on entry unless SCTLR_EL1.SPAN.
    expect(entryPstate(0x0, { pan: true })).toBe(0x3c5 | (1 << 22));
    expect(entryPstate(0x0, { pan: true, sctlr: 1n << 23n })).toBe(0x3c5);
  });
});

describe('a kernel at 0xffff8000_0000_0000 with its own page tables', () => {
  // TTBR1 maps KBASE -> RAM's first page (code, EL1 only); nothing else in the upper range.
  function kernel(words: number[], traps: Partial<VcpuTraps> = {}) {
    const phys = new PhysMem(B, 1 << 20);
    const tables = new TableBuilder(phys, 12, 48, B + 0x80000n);
    tables.map(KBASE, B, 3, { ap: 0 });
    const mem = new GuestMemory(BASE, 1 << 20, phys.bytes);
    words.forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
    mem.writeU32(BASE + 0xa00, WFI); // VBAR + 0x200: current EL with SP_EL1, synchronous
    const vcpu = vcpuOn(mem, traps);
    vcpu.writeSys(SysReg.MAIR_EL1, 0xffn);
    vcpu.writeSys(SysReg.TCR_EL1, tcr({ t0sz: 16, t1sz: 16, tg1: 2, epd0: true, ips: 2 }));
    vcpu.writeSys(SysReg.TTBR1_EL1, tables.root);
    vcpu.writeSys(SysReg.VBAR_EL1, KBASE + 0x800n);
    vcpu.writeSys(SysReg.SCTLR_EL1, vcpu.readSys(SysReg.SCTLR_EL1) | 1n);
    vcpu.reset(KBASE, 0);
    return vcpu;
  }

  it('HVC: the trap gets the immediate read at the virtual address and the exact 64-bit address', () => {
    const seen: { imm: number; at: bigint }[] = [];
    const vcpu = kernel([MOVZ(16, 17), NOP, NOP, HVC(0xea1), WFI], { hvc: (_v, imm, at) => void seen.push({ imm, at }) });
    expect(vcpu.run(1000).kind).toBe('wfi');
    expect(seen).toEqual([{ imm: 0xea1, at: KBASE + 12n }]);
    expect(vcpu.pc).toBe(KBASE + 20n);
  });

  it('a load from an unmapped kernel address: translation fault at level 2, FAR and ELR exact', () => {
    const far = 0xffff8000_1234_5678n;
    const vcpu = kernel([MOVZ(2, 0x5678), MOVK(2, 0x1234, 16), MOVK(2, 0x8000, 32), MOVK(2, 0xffff, 48), LDR_X1_X2, WFI]);
    expect(vcpu.run(1000).kind).toBe('wfi');
    expect(vcpu.pc).toBe(KBASE + 0xa04n);
    expect(vcpu.readSys(SysReg.ESR_EL1)).toBe(0x96000006n);
    expect(vcpu.readSys(SysReg.FAR_EL1)).toBe(far);
    expect(vcpu.readSys(SysReg.ELR_EL1)).toBe(KBASE + 16n);
  });
});

describe('injected exceptions and vectors that never get anywhere', () => {
  it('an SError goes to VBAR + 0x380 from EL1h with its syndrome', () => {
    const mem = new GuestMemory(BASE, 1 << 20);
    [NOP, NOP, WFI].forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
    mem.writeU32(BASE + 0x800 + 0x380, WFI);
    const vcpu = vcpuOn(mem);
    vcpu.writeSys(SysReg.VBAR_EL1, B + 0x800n);
    vcpu.reset(B, 0);
    expect(vcpu.injectSError(0xbe000000)).toBe(true);
    expect(vcpu.run(1000).kind).toBe('wfi');
    expect(vcpu.pc).toBe(B + 0xb84n);
    expect(vcpu.readSys(SysReg.ESR_EL1)).toBe(0xbe000000n);
    expect(vcpu.readSys(SysReg.ELR_EL1)).toBe(B);
    expect(vcpu.readSys(SysReg.SPSR_EL1)).toBe(0x3c5n);
  });

  it('a vector whose second instruction is undefined, forever: a fault report, not a spin', () => {
    const mem = new GuestMemory(BASE, 1 << 20);
    mem.writeU32(BASE, UDF);
    mem.writeU32(BASE + 0x800 + 0x200, NOP);
    mem.writeU32(BASE + 0x800 + 0x204, UDF);
    const vcpu = vcpuOn(mem);
    vcpu.writeSys(SysReg.VBAR_EL1, B + 0x800n);
    vcpu.reset(B, 0);
    const exit = vcpu.run(1_000_000);
    expect(exit.kind).toBe('fault');
    if (exit.kind !== 'fault') return;
    expect(exit.fault.what).toMatch(/^exception loop: undefined instruction at 0x40000a04 in the vector table/);
    expect(exit.fault.pc).toBe(B + 0xa04n);
    expect(exit.fault.esr).toBe(0x02000000);
    expect(vcpu.retired).toBeLessThan(100);
  });

});

describe('a stop requested inside the MRS/MSR hook', () => {
  it('resumes right after the MRS: what ran before it in the block does not run twice', () => {
    // sub sp, sp, #16 ; add x1, x1, #1 ; mrs x0, cntvct_el0 ; str x0, [sp] ; add x2, x2, #1 ; wfi
    const SUB_SP_16 = 0xd10043ff;
    const ADD_X1_1 = 0x91000421;
    const MRS_CNTVCT = 0xd53be040;
    const ADD_X2_1 = 0x91000442;
    const mem = new GuestMemory(BASE, 1 << 20);
    const STR_X0_SP = 0xf90003e0;
    [SUB_SP_16, ADD_X1_1, MRS_CNTVCT, STR_X0_SP, ADD_X2_1, WFI].forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
    let vcpu!: Vcpu;
    const r = Vcpu.create({
      id: 0,
      memory: mem,
      counted: false,
      traps: {
        hvc: () => {},
        smc: () => {},
        // The machine's answer to a first timer access on an uncounted vCPU: stop, count from now on.
        sysreg: () => {
          vcpu.needVirtualTime();
          return { ok: true, value: 1234n };
        },
      },
    });
    if (!r.ok) throw new Error(r.error);
    vcpu = r.vcpu;
    vcpu.reset(B, 0);
    vcpu.sp = B + 0x10000n;
    expect(vcpu.run(1000, 1_000_000).kind).toBe('stopped');
    expect(vcpu.pc).toBe(B + 12n);
    expect(vcpu.run(1000).kind).toBe('wfi');
    expect(vcpu.sp).toBe(B + 0x10000n - 16n);
    expect([vcpu.x(0), vcpu.x(1), vcpu.x(2)]).toEqual([1234n, 1n, 1n]);
  });
});
