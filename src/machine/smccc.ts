/**
 * SMCCC calls a guest makes through `HVC #0` or `SMC` (Arm DEN0028, PSCI DEN0022). Xen
 * answers PSCI for its guests; a single-vCPU domain only needs the version, the feature query,
 * and the power-off / reset calls, which end the domain like SCHEDOP_shutdown.
 */
export const PSCI = {
  VERSION: 0x84000000,
  CPU_OFF: 0x84000002,
  SYSTEM_OFF: 0x84000008,
  SYSTEM_RESET: 0x84000009,
  FEATURES: 0x8400000a,
} as const;

export const SMCCC_VERSION = 0x80000000;
export const SMCCC_NOT_SUPPORTED = -1;

export type SmcccResult =
  | { kind: 'value'; value: number }
  | { kind: 'shutdown'; reason: 'poweroff' | 'reboot' };

/** PSCI 1.1 as Xen 4.17 reports it; everything else is NOT_SUPPORTED. */
export function smcccCall(fid: number): SmcccResult {
  switch (fid >>> 0) {
    case SMCCC_VERSION:
      return { kind: 'value', value: 0x10001 };
    case PSCI.VERSION:
      return { kind: 'value', value: 0x10001 };
    case PSCI.SYSTEM_OFF:
      return { kind: 'shutdown', reason: 'poweroff' };
    case PSCI.SYSTEM_RESET:
      return { kind: 'shutdown', reason: 'reboot' };
    case PSCI.CPU_OFF:
      return { kind: 'shutdown', reason: 'poweroff' };
    default:
      return { kind: 'value', value: SMCCC_NOT_SUPPORTED };
  }
}
