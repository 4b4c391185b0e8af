/**
 * Virtual GIC entry point. createGic() builds a GICv2 or GICv3 model in Xen's guest memory layout
 * (xen/include/public/arch-arm.h: GUEST_GICD_BASE 0x03001000, GUEST_GICC_BASE 0x03002000,
 * GUEST_GICV3_RDIST_BASE 0x03020000).
 */
import { GicV2 } from './gicv2.ts';
import { GicV3 } from './gicv3.ts';
import type { GicConfig, VirtualGic } from './types.ts';

export const GUEST_GICD_BASE = 0x0300_1000;
export const GUEST_GICC_BASE = 0x0300_2000;
export const GUEST_GICV3_RDIST_BASE = 0x0302_0000;
export const DEFAULT_NR_SPIS = 64;
export const DEFAULT_PRIORITY_BITS = 5;

/**
 * Most vCPUs a vGIC serves: GICv2's CPU target lists have 8 bits (IHI0048 4.3.12); with GICv3
 * this model's per-vCPU masks stop at 32.
 */
export function gicMaxVcpus(version: 2 | 3): number {
  return version === 2 ? 8 : 32;
}

/** Build a virtual GIC. Invalid configuration is a programming error and throws RangeError. */
export function createGic(cfg: GicConfig): VirtualGic {
  const maxVcpus = gicMaxVcpus(cfg.version);
  if (!Number.isInteger(cfg.nrVcpus) || cfg.nrVcpus < 1 || cfg.nrVcpus > maxVcpus) {
    throw new RangeError(`GICv${cfg.version} supports 1..${maxVcpus} vCPUs, not ${cfg.nrVcpus}`);
  }
  const nrSpis = cfg.nrSpis ?? DEFAULT_NR_SPIS;
  if (!Number.isInteger(nrSpis) || nrSpis < 0 || nrSpis > 988) throw new RangeError(`nrSpis ${nrSpis} not in 0..988`);
  const priorityBits = cfg.priorityBits ?? DEFAULT_PRIORITY_BITS;
  if (!Number.isInteger(priorityBits) || priorityBits < 4 || priorityBits > 8) {
    throw new RangeError(`priorityBits ${priorityBits} not in 4..8`);
  }
  const nrIrqs = 32 + Math.ceil(nrSpis / 32) * 32;
  const distBase = cfg.distBase ?? GUEST_GICD_BASE;
  const gic: VirtualGic = cfg.version === 2
    ? new GicV2({ nrVcpus: cfg.nrVcpus, nrIrqs, priorityBits, distBase, cpuBase: cfg.cpuBase ?? GUEST_GICC_BASE })
    : new GicV3({ nrVcpus: cfg.nrVcpus, nrIrqs, priorityBits, distBase, redistBase: cfg.redistBase ?? GUEST_GICV3_RDIST_BASE });
  if (cfg.onLineChange) gic.onLineChange = cfg.onLineChange;
  if (cfg.observer) gic.observer = cfg.observer;
  return gic;
}

export { GicV2 } from './gicv2.ts';
export { GicV3, vcpuAffinity } from './gicv3.ts';
export { SPURIOUS_INTID } from './core.ts';
export * from './types.ts';
