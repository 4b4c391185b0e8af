import { describe, expect, it } from 'vitest';
import { decodeSysregAccess, hvcImmediate, svcImmediate, brkImmediate, sysregName } from '../../src/cpu/decode.ts';
import { esr, EC } from '../../src/cpu/arm64.ts';
import { loadStoreAddress, locateFaultingAccess } from '../../src/cpu/fault-locate.ts';

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
  const regs = [0x10000000, 0x40001000, 0x20];
  const reg = (n: number) => regs[n] ?? 0;
  it('computes addresses of the common forms', () => {
    expect(loadStoreAddress(0xb9400021, 0, reg)).toBe(0x40001000); // ldr w1, [x1]
    expect(loadStoreAddress(0xf9400422, 0, reg)).toBe(0x40001008); // ldr x2, [x1, #8]
    expect(loadStoreAddress(0xf8626820, 0, reg)).toBe(0x40001020); // ldr x0, [x1, x2]
    expect(loadStoreAddress(0xa9bf7bfd, 0, (n) => (n === 31 ? 0x4000f000 : 0))).toBe(0x4000eff0); // stp x29, x30, [sp, #-16]!
    expect(loadStoreAddress(0xd2800000, 0, reg)).toBeUndefined(); // mov x0, #0
  });
  it('finds the first access that covers the fault address', () => {
    // mov x1, #0x10000000 ; nop ; ldr w1, [x0] ; ...
    const code = [0xd2a20001, 0xd503201f, 0xb9400001, 0xd65f03c0];
    const read = (a: number) => code[(a - 0x1000) / 4];
    expect(locateFaultingAccess(read, 0x1000, 0x10000000, reg)).toBe(0x1008);
    expect(locateFaultingAccess(read, 0x1000, 0x30000000, reg)).toBeUndefined();
  });
});
