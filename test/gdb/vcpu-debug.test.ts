// The vCPU hooks the debugger relies on, with tiny hand-assembled guests: code patches take
// effect despite the engine's translation cache, and a planted BRK stops the run uncounted.
import { describe, expect, it } from 'vitest';
import { SysReg } from '../../src/cpu/arm64.ts';
import { Vcpu } from '../../src/cpu/vcpu.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { PhysMem, TableBuilder, tcr } from '../cpu/page-tables.ts';
import { MOVZ, WFI } from '../helpers/a64.ts';

const BASE = 0x40000000;
const B_BACK2 = 0x17fffffe; // b .-8
const BRK0 = 0xd4200000;
const le = (w: number) => Uint8Array.of(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24);

function guest(words: number[]) {
  const mem = new GuestMemory(BASE, 1 << 20);
  words.forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
  const r = Vcpu.create({ id: 0, memory: mem, exactCount: true, traps: { hvc() {}, smc() {}, sysreg: () => ({ ok: false }) } });
  if (!r.ok) throw new Error(r.error);
  r.vcpu.reset(BASE, 0);
  return { vcpu: r.vcpu, mem };
}

describe('vCPU debug hooks', () => {
  it('debugWrite replaces code the engine has already translated; a plain RAM write does not', () => {
    // loop: movz x0, #1 ; wfi ; b loop
    const { vcpu, mem } = guest([MOVZ(0, 1), WFI, B_BACK2]);
    expect(vcpu.run(100).kind).toBe('wfi');
    mem.writeU32(BASE, MOVZ(0, 2)); // behind the engine's back: the stale block still runs
    vcpu.run(100);
    expect(vcpu.xn(0)).toBe(1);
    expect(vcpu.debugWrite(BASE, le(MOVZ(0, 3)))).toBe(true);
    vcpu.run(100);
    expect(vcpu.xn(0)).toBe(3);
    vcpu.close();
  });

  it('stops at a BRK the debugger owns with PC at it, not counted; other BRKs go to the guest', () => {
    const { vcpu } = guest([MOVZ(0, 1), MOVZ(1, 2), MOVZ(2, 3), MOVZ(3, 4), WFI]);
    const owned = new Set([BigInt(BASE + 8)]);
    vcpu.debug = { ownsBreakpoint: (pc) => owned.has(pc) };
    vcpu.debugWrite(BASE + 8, le(BRK0));
    expect(vcpu.run(1000)).toEqual({ kind: 'breakpoint', pc: BigInt(BASE + 8) });
    expect(vcpu.retired).toBe(2);
    expect(vcpu.xn(1)).toBe(2);
    owned.clear();
    // Not ours any more: the guest takes its own breakpoint exception (no vector here: a fault).
    const exit = vcpu.run(1000);
    expect(exit.kind).toBe('fault');
    vcpu.close();
  });
});

describe('debugger memory access with the guest MMU on', () => {
  // A kernel at 0xffff8000_0000_0000 (far above 2^53): TTBR1 maps two read-only, EL1-only pages,
  // KBASE -> RAM + 0 (code) and KBASE + 0x1000 -> RAM + 0x5000 (data); KBASE + 0x2000 is unmapped.
  const KBASE = 0xffff8000_0000_0000n;
  const B = BigInt(BASE);
  function kernel(words: number[]) {
    const phys = new PhysMem(B, 1 << 20);
    const tables = new TableBuilder(phys, 12, 48, B + 0x80000n);
    tables.map(KBASE, B, 3, { ap: 2 });
    tables.map(KBASE + 0x1000n, B + 0x5000n, 3, { ap: 2, pxn: true });
    const mem = new GuestMemory(BASE, 1 << 20, phys.bytes);
    words.forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
    for (let i = 0; i < 16; i++) mem.writeU8(BASE + 0x5ff8 + i, 0xa0 + i); // the data page's tail
    const r = Vcpu.create({ id: 0, memory: mem, exactCount: true, traps: { hvc() {}, smc() {}, sysreg: () => ({ ok: false }) } });
    if (!r.ok) throw new Error(r.error);
    const vcpu = r.vcpu;
    vcpu.writeSys(SysReg.MAIR_EL1, 0xffn);
    vcpu.writeSys(SysReg.TCR_EL1, tcr({ t0sz: 16, t1sz: 16, tg1: 2, epd0: true, ips: 2 }));
    vcpu.writeSys(SysReg.TTBR1_EL1, tables.root);
    vcpu.writeSys(SysReg.SCTLR_EL1, vcpu.readSys(SysReg.SCTLR_EL1) | 1n);
    vcpu.reset(KBASE, 0);
    return { vcpu, mem };
  }

  it('reads at virtual addresses: the readable prefix up to an unmapped page, nothing at one', () => {
    const { vcpu } = kernel([MOVZ(0, 1), WFI]);
    expect(Array.from(vcpu.debugRead(KBASE, 4))).toEqual(Array.from(le(MOVZ(0, 1))));
    expect(Array.from(vcpu.debugRead(KBASE + 0x1ffcn, 8))).toEqual([0xa4, 0xa5, 0xa6, 0xa7]);
    expect(vcpu.debugRead(KBASE + 0x2000n, 4).length).toBe(0);
    // The physical address itself is not mapped at that virtual address.
    expect(vcpu.debugRead(B, 4).length).toBe(0);
    vcpu.close();
  });

  it('patches translated code through a read-only mapping; a write reaching an unmapped page writes nothing', () => {
    const { vcpu, mem } = kernel([MOVZ(0, 1), WFI, B_BACK2]);
    expect(vcpu.run(100).kind).toBe('wfi');
    expect(vcpu.debugWrite(KBASE, le(MOVZ(0, 3)))).toBe(true);
    expect(mem.readU32(BASE)).toBe(MOVZ(0, 3));
    vcpu.run(100);
    expect(vcpu.xn(0)).toBe(3);
    expect(vcpu.debugWrite(KBASE + 0x1ffen, Uint8Array.of(1, 2, 3, 4))).toBe(false);
    expect(mem.readU8(BASE + 0x5ffe)).toBe(0xa6);
    vcpu.close();
  });

  it('stops at a breakpoint planted at a kernel virtual address', () => {
    const { vcpu } = kernel([MOVZ(0, 1), MOVZ(1, 2), MOVZ(2, 3), WFI]);
    vcpu.debug = { ownsBreakpoint: (pc) => pc === KBASE + 8n };
    expect(vcpu.debugWrite(KBASE + 8n, le(BRK0))).toBe(true);
    expect(vcpu.run(1000)).toEqual({ kind: 'breakpoint', pc: KBASE + 8n });
    expect(vcpu.xn(1)).toBe(2);
    vcpu.close();
  });
});
