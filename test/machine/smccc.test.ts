// SMCCC/PSCI as the machine answers HVC #0 and SMC (Arm DEN0022, PSCI 1.1 as Xen reports it).
import { describe, expect, it } from 'vitest';
import { PSCI, smcccCall } from '../../src/machine/smccc.ts';

describe('smcccCall', () => {
  it('reports PSCI 1.1 and SMCCC 1.1', () => {
    expect(smcccCall(PSCI.VERSION)).toEqual({ kind: 'value', value: 0x10001 });
    expect(smcccCall(0x80000000)).toEqual({ kind: 'value', value: 0x10001 });
  });
  it('powers off and resets the domain', () => {
    expect(smcccCall(PSCI.SYSTEM_OFF)).toEqual({ kind: 'shutdown', reason: 'poweroff' });
    expect(smcccCall(PSCI.SYSTEM_RESET)).toEqual({ kind: 'shutdown', reason: 'reboot' });
  });
  it('answers NOT_SUPPORTED (-1) to anything else', () => {
    expect(smcccCall(0xc4000003)).toEqual({ kind: 'value', value: -1 });
  });
});
