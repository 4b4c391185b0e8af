import { describe, expect, it } from 'vitest';
import { decodeSysregAccess, hvcImmediate, svcImmediate, brkImmediate, sysregName } from '../../src/cpu/decode.ts';
import { esr, EC } from '../../src/cpu/arm64.ts';
import { decodeMemAccess } from '../../src/cpu/decode-ls.ts';
import { alignmentRule, loadStoreAddress, locateFaultingAccess } from '../../src/cpu/fault-locate.ts';

describe('instruction decoding', () => {
  it('HVC/SVC/BRK immediates', () => {
    expect(hvcImmediate(0xd401d422)).toBe(0xea1); // hvc #0xea1
    expect(hvcImmediate(0xd4024682)).toBe(0x1234);
    expect(hvcImmediate(0xd4000001)).toBeUndefined(); // svc #0
    expect(svcImmediate(0xd4000841)).toBe(0x42);
    expect(brkImmediate(0xd4200000)).toBe(0);
  });
  it('MRS/MSR of GICv3 CPU interface registers', () => {
    // mrs x0, ICC_IAR1_EL1 (S3_0_C12_C12_0)
    expect(decodeSysregAccess(0xd538cc00)).toEqual({ read: true, op0: 3, op1: 0, crn: 12, crm: 12, op2: 0, rt: 0 });
    // msr ICC_EOIR1_EL1, x5 (S3_0_C12_C12_1)
    const w = decodeSysregAccess(0xd518cc25)!;
    expect(w).toMatchObject({ read: false, rt: 5 });
    expect(sysregName(w)).toBe('S3_0_C12_C12_1');
    expect(decodeSysregAccess(0xd503207f)).toBeUndefined(); // wfi is not a register access
  });
  it('ESR values as Xen injects them', () => {
    expect(esr(EC.UNKNOWN).toString(16)).toBe('2000000');
    expect(esr(EC.IABT_CUR).toString(16)).toBe('86000000');
    expect(esr(EC.DABT_CUR).toString(16)).toBe('96000000');
  });
});

describe('locating a faulting load/store from its block', () => {
  const regs = [0x10000000n, 0x40001000n, 0x20n];
  const reg = (n: number) => regs[n] ?? 0n;
  it('computes addresses of the common forms', () => {
    expect(loadStoreAddress(0xb9400021, 0n, reg)).toBe(0x40001000n); // ldr w1, [x1]
    expect(loadStoreAddress(0xf9400422, 0n, reg)).toBe(0x40001008n); // ldr x2, [x1, #8]
    expect(loadStoreAddress(0xf8626820, 0n, reg)).toBe(0x40001020n); // ldr x0, [x1, x2]
    expect(loadStoreAddress(0xa9bf7bfd, 0n, (n) => (n === 31 ? 0x4000f000n : 0n))).toBe(0x4000eff0n); // stp x29, x30, [sp, #-16]!
    expect(loadStoreAddress(0xd2800000, 0n, reg)).toBeUndefined(); // mov x0, #0
  });
  it('keeps kernel virtual addresses exact and knows which accesses are always alignment-checked', () => {
    const kva = 0xffff8000_0812_3458n;
    const r = (n: number) => (n === 1 ? kva : n === 31 ? 0xffff8000_0a00_0000n : 0n);
    expect(loadStoreAddress(0xf9400422, 0n, r)).toBe(kva + 8n); // ldr x2, [x1, #8]
    expect(loadStoreAddress(0x58000040, 0xffff8000_0800_0000n, r)).toBe(0xffff8000_0800_0008n); // ldr x0, .+8
    const rule = (insn: number) => alignmentRule(insn, decodeMemAccess(insn, r)!);
    expect(rule(0xc85f7c22)).toEqual({ align: 8, always: true }); // ldxr x2, [x1]
    expect(rule(0xc89ffc22)).toEqual({ align: 8, always: true }); // stlr x2, [x1]
    expect(rule(0xf9400422)).toEqual({ align: 8, always: false }); // ldr x2, [x1, #8]
    expect(rule(0xa9bf7bfd)).toEqual({ align: 8, always: false }); // stp x29, x30, [sp, #-16]!
    expect(rule(0xd50b7421)).toBeUndefined(); // dc zva, x1
  });
  it('finds the first access that covers the fault address', () => {
    // mov x1, #0x10000000 ; nop ; ldr w1, [x0] ; ...
    const code = [0xd2a20001, 0xd503201f, 0xb9400001, 0xd65f03c0];
    const read = (a: bigint) => code[Number(a - 0x1000n) / 4];
    expect(locateFaultingAccess(read, 0x1000n, 0x10000000n, reg)).toBe(0x1008n);
    expect(locateFaultingAccess(read, 0x1000n, 0x30000000n, reg)).toBeUndefined();
  });
});
