// The vCPU on a real engine with tiny hand-assembled guests (no firmware): traps, exception
// entry, the IRQ line, WFI, counted budgets.
import { describe, expect, it } from 'vitest';
import { Vcpu, type VcpuTraps } from '../../src/cpu/vcpu.ts';
import { EC, SysReg } from '../../src/cpu/arm64.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { MOVZ, HVC, ERET, WFI } from '../helpers/a64.ts';
import { UartBlock } from '../../src/unicorn/counter.ts';

const BASE = 0x40000000;
const B = BigInt(BASE);
function guest(words: number[], traps: Partial<VcpuTraps> = {}, exactCount = false) {
  const mem = new GuestMemory(BASE, 1 << 20);
  words.forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
  const calls: { imm: number; nr: number; a: bigint[]; pc: bigint }[] = [];
  const r = Vcpu.create({
    id: 0,
    memory: mem,
    exactCount,
    traps: {
      // Plays the hypervisor: records every HVC with its registers and answers -22 in x0.
      hvc: (v, imm, pc) => {
        calls.push({ imm, ...v.hypercallArgs(), pc });
        v.setX(0, -22);
      },
      smc: (v) => v.setX(0, 0x10001),
      sysreg: () => ({ ok: false }),
      ...traps,
    },
  });
  if (!r.ok) throw new Error(r.error);
  r.vcpu.reset(BASE, 0x43e00000);
  return { vcpu: r.vcpu, mem, calls };
}

const B_SELF = 0x14000000;

describe('Vcpu', () => {
  it('boots at EL1h with DAIF masked and x0 = the devicetree', () => {
    const { vcpu } = guest([B_SELF]);
    expect(vcpu.pc).toBe(B);
    expect(vcpu.x(0)).toBe(0x43e00000n);
    expect(vcpu.pstate & 0x3cf).toBe(0x3c5);
  });

  it('HVC calls the trap with its immediate, its address, x16 and x0..x4; the answer lands sign-extended in x0', () => {
    const { vcpu, calls } = guest([MOVZ(16, 32), MOVZ(0, 4), MOVZ(1, 7), HVC(0xea1), WFI]);
    expect(vcpu.run(1_000_000).kind).toBe('wfi');
    expect(calls).toEqual([{ imm: 0xea1, nr: 32, a: [4n, 7n, 0n, 0n, 0n], pc: B + 12n }]);
    expect(vcpu.x(0)).toBe(0xffffffffffffffean);
  });

  it('SMC calls the smc trap, whose answer lands in x0', () => {
    const SMC0 = 0xd4000003;
    const { vcpu } = guest([MOVZ(0, 0), SMC0, WFI]);
    expect(vcpu.run(1_000_000).kind).toBe('wfi');
    expect(vcpu.x(0)).toBe(0x10001n);
  });

  it('an unknown HVC immediate enters the guest vector with EC 0 and ELR past the HVC', () => {
    const bad: number[] = [];
    // The hypervisor's answer to an HVC immediate it does not know (Xen's): an undefined instruction.
    const { vcpu, mem } = guest([HVC(0x1234), B_SELF], {
      hvc: (v, imm, at) => {
        bad.push(imm);
        v.injectSync(EC.UNKNOWN, 0, at + 4n);
      },
    });
    mem.writeU32(BASE + 0x800 + 0x200, WFI);
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(BASE + 0x800));
    expect(vcpu.run(1_000_000).kind).toBe('wfi');
    expect(bad).toEqual([0x1234]);
    expect(vcpu.pc).toBe(B + 0x800n + 0x204n); // current EL with SP_ELx, synchronous (past the WFI)
    expect(vcpu.readSys(SysReg.ESR_EL1)).toBe(0x2000000n);
    expect(vcpu.readSys(SysReg.ELR_EL1)).toBe(BigInt(BASE + 4));
  });

  const undefInjector: Partial<VcpuTraps> = { hvc: (v, _imm, at) => void v.injectSync(EC.UNKNOWN, 0, at + 4n) };

  it('an exception with no vector is a fault report, not a hang', () => {
    const { vcpu } = guest([HVC(0x1234)], undefInjector);
    const exit = vcpu.run(1_000_000);
    expect(exit.kind).toBe('fault');
    if (exit.kind === 'fault') expect(exit.fault.what).toBe('undefined instruction with no vector (VBAR_EL1=0x0)');
  });

  it('raising the IRQ line delivers through VBAR_EL1+0x280 as soon as PSTATE.I is clear', () => {
    // msr daifclr, #2 ; b .   — the IRQ vector runs HVC #0xEA1 (so the test can lower the line) then WFI
    const words = [0xd50342ff, B_SELF];
    let vcpuRef: Vcpu | undefined;
    const { vcpu, mem } = guest(words, { hvc: () => vcpuRef!.setIrqLine(false) });
    vcpuRef = vcpu;
    mem.writeU32(BASE + 0x800 + 0x280, HVC(0xea1));
    mem.writeU32(BASE + 0x800 + 0x284, WFI);
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(BASE + 0x800));
    vcpu.setIrqLine(true);
    expect(vcpu.run(1_000_000).kind).toBe('wfi');
    expect(vcpu.pc).toBe(B + 0x800n + 0x288n);
    // Taken right after the daifclr: the interrupted instruction is the branch at +4.
    expect(vcpu.readSys(SysReg.ELR_EL1)).toBe(BigInt(BASE + 4));
  });

  it('a vector that faults on itself is reported as an exception loop, not a hang', () => {
    const { vcpu } = guest([HVC(0x1234)], undefInjector);
    vcpu.writeSys(SysReg.VBAR_EL1, BigInt(BASE + 0x800)); // zeros there: UDF
    const exit = vcpu.run(1_000_000);
    expect(exit.kind).toBe('fault');
    if (exit.kind === 'fault') expect(exit.fault.what).toBe(`exception loop: the vector at 0x${(BASE + 0xa00).toString(16)} itself raised undefined instruction`);
  });

  it('exact counting stops after exactly the budget and counts what retired', () => {
    const { vcpu } = guest([MOVZ(1, 1), MOVZ(2, 2), 0x17fffffe /* b -8 */], {}, true);
    expect(vcpu.run(1000).kind).toBe('budget');
    expect(vcpu.retired).toBe(1000);
    expect(vcpu.run(234).kind).toBe('budget');
    expect(vcpu.retired).toBe(1234);
  });

  it('block counting overshoots a budget by less than one block, the same way every time', () => {
    const run = () => {
      const { vcpu } = guest([MOVZ(1, 1), MOVZ(2, 2), 0x17fffffe /* b -8 */]);
      vcpu.run(1000);
      return vcpu.retired;
    };
    const n = run();
    expect(n).toBeGreaterThanOrEqual(1000);
    expect(n).toBeLessThan(1003);
    expect(run()).toBe(n);
  });

  it('runs that end early (WFI) still know how many instructions retired', () => {
    const { vcpu } = guest([MOVZ(1, 1), MOVZ(2, 2), MOVZ(3, 3), WFI]);
    expect(vcpu.run(1000).kind).toBe('wfi');
    expect(vcpu.retired).toBe(4);
  });

  it('the vpl011 window: with the fast path on, DR writes queue natively and FR reads come from its copy', () => {
    const UART_BASE = 0x22000000;
    const STR_W1_X2 = 0xb9000041; // str w1, [x2]
    const LDR_W3_X2_FR = 0xb9401843; // ldr w3, [x2, #0x18]
    const { vcpu } = guest([MOVZ(2, 0x2200, 16), MOVZ(1, 0x41), STR_W1_X2, MOVZ(1, 0x42), STR_W1_X2, LDR_W3_X2_FR, WFI]);
    const seen: string[] = [];
    const block = new UartBlock();
    try {
      const err = vcpu.mapMmio(
        UART_BASE,
        0x1000,
        {
          read: (o) => (seen.push(`r${o}`), 0x90),
          write: (o, _s, v) => void seen.push(`w${o}=${v}`),
        },
        block,
      );
      expect(err).toBeUndefined();
      block.fr = 0x90;
      block.fast = true;
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(seen).toEqual([]);
      expect([...(block.take() ?? [])]).toEqual([0x41, 0x42]);
      expect(block.take()).toBeUndefined();
      expect(vcpu.x(3)).toBe(0x10n); // TXFE cleared by the first character, as under Xen
      // Off: every access reaches the device model, in order.
      block.fast = false;
      vcpu.pc = B;
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(seen).toEqual(['w0=65', 'w0=66', 'r24']);
      expect(block.take()).toBeUndefined();
    } finally {
      vcpu.close();
      block.free();
    }
  });

  describe('generic timer registers (the native MRS/MSR hook)', () => {
    // mrs Xt, <reg> = 0xd5300000 | op0-2 << 19 | op1 << 16 | CRn << 12 | CRm << 8 | op2 << 5 | t;
    // msr sets bit 21 clear (0xd5100000).
    const sys = (read: boolean, op1: number, crn: number, crm: number, op2: number, t: number) =>
      ((read ? 0xd5380000 : 0xd5180000) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | t) >>> 0;
    const MRS_CNTVCT = (t: number) => sys(true, 3, 14, 0, 2, t);
    const MSR_CNTV_CVAL = (t: number) => sys(false, 3, 14, 3, 2, t);
    const MSR_TPIDR_EL0 = (t: number) => sys(false, 3, 13, 0, 2, t);
    const MRS_TPIDR_EL0 = (t: number) => sys(true, 3, 13, 0, 2, t);
    const MSR_VBAR = (t: number) => sys(false, 0, 12, 0, 0, t);

    it('reads and writes of the timer block reach the sysreg trap; the answer lands in Rt (x0..x30, not xzr)', () => {
      const seen: string[] = [];
      let n = 0;
      const { vcpu } = guest([MRS_CNTVCT(3), MRS_CNTVCT(30), MRS_CNTVCT(31), MOVZ(5, 0x1234), MSR_CNTV_CVAL(5), WFI], {
        sysreg: (_v, a) => {
          seen.push(`${a.read ? 'r' : 'w'} S${a.op0}_${a.op1}_C${a.crn}_C${a.crm}_${a.op2} x${a.rt}${a.value !== undefined ? ` =${a.value}` : ''}`);
          return { ok: true, value: BigInt(100 + n++) };
        },
      });
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(seen).toEqual(['r S3_3_C14_C0_2 x3', 'r S3_3_C14_C0_2 x30', 'r S3_3_C14_C0_2 x31', 'w S3_3_C14_C3_2 x5 =4660']);
      expect([vcpu.x(3), vcpu.x(30)]).toEqual([100n, 101n]);
    });

    // Virtual time as the machine hands it over: a number while a safe integer, a bigint beyond.
    it.each([
      ['numbers', 1600, 1606],
      ['bigints', 1600n, 1606n],
    ] as const)('with a clock set (%s), counter reads before the deadline are answered natively from virtual time', (_kind, now, due) => {
      // Three reads in one block (counted when it starts: 5 instructions), then a deadline that
      // falls between two blocks: a read at or past it must reach the trap (it fires the timer).
      const seen: number[] = [];
      const { vcpu } = guest([MRS_CNTVCT(3), MRS_CNTVCT(30), MRS_CNTVCT(31), MOVZ(5, 7), 0x14000001 /* b +4 */, MRS_CNTVCT(4), WFI], {
        sysreg: (v, a) => {
          seen.push(v.retired);
          return { ok: true, value: 0xabcn + BigInt(a.rt) };
        },
      });
      // Virtual time = 1600 ns + instructions retired; 16 ns a tick; the deadline at 1606 ns.
      vcpu.setClock(now, due, 16);
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(vcpu.x(3)).toBe((1600n + 5n) / 16n); // the first block's 5 instructions counted at its start
      expect(vcpu.x(30)).toBe(vcpu.x(3));
      expect(vcpu.x(5)).toBe(7n);
      // The second block starts at 1605 + 2 = 1607 >= 1606: the trap answers.
      expect(seen).toEqual([7]);
      expect(vcpu.x(4)).toBe(0xabcn + 4n);
    });

    it('tick 0 turns the native counter reads off: every read reaches the trap', () => {
      let calls = 0;
      const { vcpu } = guest([MRS_CNTVCT(3), MRS_CNTVCT(4), WFI], {
        sysreg: () => ({ ok: true, value: BigInt(++calls) }),
      });
      vcpu.setClock(0n, 1n << 40n, 0);
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(calls).toBe(2);
    });

    it('other system registers never reach the trap and keep the engine\'s behaviour', () => {
      let calls = 0;
      const { vcpu } = guest([MOVZ(1, 77), MSR_TPIDR_EL0(1), MRS_TPIDR_EL0(2), WFI], {
        sysreg: () => {
          calls++;
          return { ok: true, value: 0n };
        },
      });
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(calls).toBe(0);
      expect(vcpu.x(2)).toBe(77n);
    });

    it('a declined timer access is performed by the engine (no exception)', () => {
      // The engine's CNTFRQ_EL0 is its own (non-zero) reset value.
      const MRS_CNTFRQ = (t: number) => sys(true, 3, 14, 0, 0, t);
      const { vcpu } = guest([MOVZ(6, 0), MRS_CNTFRQ(6), WFI], { sysreg: () => ({ ok: false }) });
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(vcpu.x(6)).toBeGreaterThan(0n);
    });

    it('an uncounted vCPU that needs virtual time stops, and counts from its next run on', () => {
      const mem = new GuestMemory(BASE, 1 << 20);
      [MRS_CNTVCT(0), MOVZ(1, 1), MOVZ(2, 2), MOVZ(3, 3), WFI].forEach((w, i) => mem.writeU32(BASE + 4 * i, w));
      const r = Vcpu.create({
        id: 0,
        memory: mem,
        counted: false,
        traps: {
          hvc: () => {},
          smc: () => {},
          sysreg: (v) => {
            v.needVirtualTime();
            return { ok: true, value: 5n };
          },
        },
      });
      if (!r.ok) throw new Error(r.error);
      const vcpu = r.vcpu;
      vcpu.reset(BASE, 0);
      expect(vcpu.counted).toBe(false);
      // The stop lands at the end of the translation block, which here ends with the WFI
      // (a WFI may complete early, so nothing is lost).
      expect(vcpu.run(1000, 1_000_000).kind).toBe('stopped');
      expect(vcpu.x(0)).toBe(5n);
      vcpu.pc = B;
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(vcpu.counted).toBe(true);
      // All five, counted although their block was translated before counting began.
      expect(vcpu.retired).toBe(5);
    });

    it('the interrupt-entry watch learns VBAR_EL1 from the guest\'s own write', () => {
      const { vcpu } = guest([MOVZ(1, 0x800), 0xf2a80001 /* movk x1, #0x4000, lsl 16 */, MSR_VBAR(1), WFI]);
      expect(vcpu.run(1000).kind).toBe('wfi');
      expect(vcpu.readSys(SysReg.VBAR_EL1)).toBe(0x40000800n);
      expect(vcpu.guestVbar).toBe(0x40000800n);
    });
  });

  it('the interrupt watch reports an IRQ taken again right after its ERET as returned, then taken, at the same pc', () => {
    // VBAR = BASE + 0x800; its IRQ slot (current EL, SPx: +0x280) is a lone ERET. The IRQ line
    // stays up, so the vCPU re-enters the vector each time it returns.
    const MSR_DAIFCLR_I = 0xd50342ff;
    const words = [MOVZ(1, 0x800), 0xf2a80001 /* movk x1, #0x4000, lsl 16 */, 0xd518c001 /* msr vbar_el1, x1 */, MSR_DAIFCLR_I, B_SELF];
    const { vcpu, mem } = guest(words);
    mem.writeU32(BASE + 0x800 + 0x280, ERET);
    const steps: string[] = [];
    expect(vcpu.watchInterrupts((s) => steps.push(s.kind === 'taken' ? `taken ${(s.elr - B).toString(16)}` : `returned ${(s.pc - B).toString(16)}`))).toBe(true);
    vcpu.setIrqLine(true);
    vcpu.run(60);
    expect(steps.slice(0, 5)).toEqual(['taken 10', 'returned 10', 'taken 10', 'returned 10', 'taken 10']);
  });
});
