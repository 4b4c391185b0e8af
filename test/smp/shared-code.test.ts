/**
 * Two vCPUs of one domain are two engines over one RAM buffer. Each engine keeps its own
 * translated code and TLB, which the other's maintenance instructions do not reach: the
 * machine counts every vCPU's TLBI and IC (a native SYS hook) and, before a vCPU runs, drops
 * what its engine cached if a sibling did either (DomainVcpu.catchUp). These tiny guests show
 * both halves: the count, and the stale code an engine runs without the invalidation.
 */
import { describe, expect, it } from 'vitest';
import { Vcpu } from '../../src/cpu/vcpu.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { MOVZ, WFI } from '../helpers/a64.ts';

const BASE = 0x40000000;
const STR_W1_X2 = 0xb9000041;
const IC_IVAU_X2 = 0xd50b7522;
const DSB_ISH = 0xd5033b9f;
const ISB = 0xd5033fdf;
const TLBI_VMALLE1IS = 0xd508831f;

function twoVcpus() {
  const mem = new GuestMemory(BASE, 1 << 20);
  const make = (id: number) => {
    const r = Vcpu.create({ id, memory: mem, traps: { hvc: () => {}, smc: () => {}, sysreg: () => ({ ok: false }) } });
    if (!r.ok) throw new Error(r.error);
    expect(r.vcpu.watchMaintenance()).toBeUndefined();
    return r.vcpu;
  };
  return { mem, a: make(0), b: make(1) };
}

const load = (mem: GuestMemory, at: number, words: number[]) => words.forEach((w, i) => mem.writeU32(at + 4 * i, w));

describe('vCPUs sharing RAM: TLB and instruction-cache maintenance', () => {
  it('counts TLBI and IC instructions per vCPU', () => {
    const { mem, a, b } = twoVcpus();
    load(mem, BASE, [TLBI_VMALLE1IS, DSB_ISH, TLBI_VMALLE1IS, IC_IVAU_X2, WFI]);
    a.reset(BASE, 0);
    a.setX(2, BASE);
    expect(a.run(1000).kind).toBe('wfi');
    expect(a.maintenance).toEqual({ tlbi: 2, ic: 1 });
    expect(b.maintenance).toEqual({ tlbi: 0, ic: 0 });
    a.close();
    b.close();
  });

  it('code one vCPU rewrites (STR + IC IVAU) is stale in the other engine until it is invalidated', () => {
    const { mem, a, b } = twoVcpus();
    const X = BASE + 0x1000;
    const Y = BASE + 0x2000;
    load(mem, X, [MOVZ(0, 1), WFI]);
    load(mem, Y, [STR_W1_X2, IC_IVAU_X2, DSB_ISH, ISB, WFI]);
    a.reset(X, 0);
    expect(a.run(1000).kind).toBe('wfi');
    expect(a.x(0)).toBe(1n);

    // vCPU b patches X to "movz x0, #2" and makes the write visible to instruction fetches.
    b.reset(Y, 0);
    b.setX(1, MOVZ(0, 2));
    b.setX(2, X);
    expect(b.run(1000).kind).toBe('wfi');
    expect(mem.readU32(X)).toBe(MOVZ(0, 2));
    expect(b.maintenance.ic).toBe(1);

    // a's engine still holds its translation of X (measured on Unicorn 2.1.1)...
    a.pc = BigInt(X);
    expect(a.run(1000).kind).toBe('wfi');
    expect(a.x(0)).toBe(1n);
    // ...until b's IC reaches it.
    a.invalidate(false, true);
    a.pc = BigInt(X);
    expect(a.run(1000).kind).toBe('wfi');
    expect(a.x(0)).toBe(2n);
    a.close();
    b.close();
  });
});
