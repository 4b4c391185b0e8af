/**
 * Register encodings shared by the GICv2 distributor, the GICv3 distributor and the GICv3
 * redistributor SGI frame: one-bit-per-interrupt banks (ISENABLER/ICENABLER, ISPENDR/ICPENDR,
 * ISACTIVER/ICACTIVER), byte-per-interrupt IPRIORITYR, two-bits-per-interrupt ICFGR
 * (IHI0048B §4.3.5-4.3.13, IHI0069 §12.9). `vcpu` selects the bank for INTIDs 0..31.
 */
import { GicCore, NR_SGIS } from './core.ts';
import type { AccessSize, GicAccess, GicWrite } from './types.ts';

export type BitKind = 'enable' | 'pending' | 'active';

export const ok = (value: number): GicAccess => ({ ok: true, value: value >>> 0 });
export const okW: GicWrite = { ok: true };
export const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** First INTID covered by the 32-bit word at `off` of a one-bit-per-interrupt bank at `base`. */
export function firstOf(off: number, base: number): number {
  return ((off - base) >> 2) * 32;
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** A register value as Xen's vGIC logs it (%#016"PRIregister": "0x" and 14 digits on arm64). */
export function xenRegister(n: number): string {
  return '0x' + n.toString(16).padStart(14, '0');
}

/**
 * Read one 32-interrupt word of a set/clear-enable bank. (The pending and active banks read
 * as zero under Xen, so only the enable bits are ever shown.)
 */
export function readEnableBits(core: GicCore, vcpu: number, first: number): number {
  let v = 0;
  for (let i = 0; i < 32; i++) {
    const id = first + i;
    if (!core.validIntid(id)) break;
    if (core.isEnabled(vcpu, id)) v |= 1 << i;
  }
  return v >>> 0;
}

/** Write-1-to-set (set=true) or write-1-to-clear (set=false) one word of a bit bank.
 *  `sgiPendingWI`: GICv2 ignores ISPENDR/ICPENDR writes for SGIs (they have per-source
 *  SPENDSGIR/CPENDSGIR instead, IHI0048B §4.3.7). */
export function writeBits(
  core: GicCore, vcpu: number, kind: BitKind, first: number, value: number, set: boolean, sgiPendingWI = false,
): void {
  for (let i = 0; i < 32; i++) {
    if (((value >>> i) & 1) === 0) continue;
    const id = first + i;
    if (!core.validIntid(id)) break;
    if (kind === 'enable') core.setEnabled(vcpu, id, set);
    else if (kind === 'active') {
      if (set) core.setActive(vcpu, id, true);
      else core.deactivate(vcpu, id);
    } else {
      if (sgiPendingWI && id < NR_SGIS) continue;
      if (set) core.setPending(vcpu, id, vcpu);
      else core.clearPending(vcpu, id);
    }
  }
}

/** IPRIORITYR: one byte per interrupt, byte- or word-accessible. */
export function readPriority(core: GicCore, vcpu: number, first: number, size: AccessSize): number {
  let v = 0;
  for (let i = 0; i < size; i++) {
    const id = first + i;
    if (core.validIntid(id)) v |= core.getPriority(vcpu, id) << (8 * i);
  }
  return v >>> 0;
}

export function writePriority(core: GicCore, vcpu: number, first: number, size: AccessSize, value: number): void {
  for (let i = 0; i < size; i++) {
    const id = first + i;
    if (core.validIntid(id)) core.setPriority(vcpu, id, (value >>> (8 * i)) & 0xff);
  }
}

/** ICFGR: two bits per interrupt, bit 2n+1 set = edge-triggered; bit 2n is reserved. */
export function readConfig(core: GicCore, vcpu: number, first: number): number {
  let v = 0;
  for (let i = 0; i < 16; i++) {
    const id = first + i;
    if (core.validIntid(id) && core.isEdge(vcpu, id)) v |= 2 << (2 * i);
  }
  return v >>> 0;
}

export function writeConfig(core: GicCore, vcpu: number, first: number, value: number): void {
  for (let i = 0; i < 16; i++) {
    const id = first + i;
    if (core.validIntid(id)) core.setEdge(vcpu, id, ((value >>> (2 * i + 1)) & 1) === 1);
  }
}

/** Natural alignment and an allowed width, else the reason the access faults. */
export function checkAccess(off: number, size: AccessSize, allowed: readonly AccessSize[]): string | null {
  if (!allowed.includes(size)) return `bad width ${size} at offset ${hex(off)}`;
  if (off % size !== 0) return `misaligned ${size}-byte access at offset ${hex(off)}`;
  return null;
}
