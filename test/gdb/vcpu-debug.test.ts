// The vCPU hooks the debugger relies on, with tiny hand-assembled guests: code patches take
// effect despite the engine's translation cache, and a planted BRK stops the run uncounted.
import { describe, expect, it } from 'vitest';
import { Vcpu } from '../../src/cpu/vcpu.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';

const BASE = 0x40000000;
const MOVZ = (rd: number, imm: number) => (0xd2800000 | ((imm & 0xffff) << 5) | rd) >>> 0;
const WFI = 0xd503207f;
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
