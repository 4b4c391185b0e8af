/**
 * Where the devicetree and the initial ramdisk go in a domain's RAM, as Xen 4.17 places them
 * for a domain it builds itself (dom0less domUs and dom0): xen/arch/arm/kernel.c,
 * place_modules(), read for the rule only. The real Xen is this project's specification, so a
 * guest finds its DTB and initrd at the same addresses here as under Xen.
 *
 * The rule, with every size of a module rounded up to 2 MiB (Linux itself only needs 8-byte
 * alignment for the DTB, booting.rst; Xen rounds so each module starts on a 2 MiB boundary):
 *
 *   modules   = round2M(dtb) + round2M(initrd)        DTB first, the initrd right after it
 *   kernel    = [kernelStart, kernelEnd)              kernelSize = round2M(kernelEnd) - kernelStart
 *   0. kernelSize + modules > RAM size               -> no room ("not enough memory")
 *   1. RAM base + 128 MiB, if RAM reaches past that plus the modules and the kernel ends below it;
 *   2. else the top of RAM minus the modules, if that is above round2M(kernelEnd);
 *   3. else just below the kernel, if the gap from RAM base to the kernel is larger than the modules;
 *   4. else no room.
 *
 * So with a kernel below 128 MiB and at least 128 MiB + modules of RAM (e.g. 256 MiB, 1 GiB),
 * the DTB is at base + 0x08000000 and the initrd at base + 0x08000000 + round2M(dtb) — seen
 * under the real Xen 4.17 for a 256 MiB domU with a Debian kernel: DTB 0x48000000, initrd
 * 0x48200000. With less RAM (64 MiB, 128 MiB) the modules go to the top of RAM. The initrd's
 * own size is kept exact: only its footprint is rounded (linux,initrd-end = start + size).
 *
 * One difference from Xen, on purpose: Xen 4.17 takes an arm64 Image's end as its load address
 * plus the file's length and never reads image_size, so a kernel whose BSS runs past the file
 * could have its BSS placed over the DTB. Here `kernelSize` is the whole footprint (image_size
 * when it is larger than the file), which gives the same addresses whenever Xen's choice is safe.
 */
import { type Result, ok, err, hex } from '../result.ts';

const MiB = 1024 * 1024;
export const MODULE_ALIGN = 2 * MiB;
/** Xen's preferred module base, above the kernel (booting.rst asks for the DTB below 512 MiB). */
export const MODULES_PREFERRED_OFFSET = 128 * MiB;

export interface BootModuleRequest {
  /** Guest-physical base of the RAM bank everything goes in (Xen's bank 0). */
  ramBase: number;
  ramSize: number;
  /** Where the kernel starts (RAM base + text_offset for an arm64 Image); default ramBase. */
  kernelStart?: number;
  /** Bytes the kernel occupies from kernelStart, BSS included (max of file length, image_size). */
  kernelSize: number;
  dtbSize: number;
  /** 0 (or absent) when there is no initrd. */
  initrdSize?: number;
}

export interface GuestRange {
  start: number;
  /** One past the last byte. */
  end: number;
}

export interface BootModulePlacement {
  kernel: GuestRange;
  /** The DTB's own bytes (its footprint is rounded to 2 MiB). */
  dtb: GuestRange;
  /** The initrd's exact bytes, as linux,initrd-start/-end describe them; absent without one. */
  initrd?: GuestRange;
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;
const mib = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`);

/** Pure: computes the placement; writes nothing. */
export function placeBootModules(req: BootModuleRequest): Result<BootModulePlacement> {
  const { ramBase, ramSize, kernelSize, dtbSize } = req;
  const initrdSize = req.initrdSize ?? 0;
  const kernelStart = req.kernelStart ?? ramBase;
  for (const [name, v] of [['RAM size', ramSize], ['kernel size', kernelSize], ['devicetree size', dtbSize], ['initrd size', initrdSize]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) return err(`boot modules: ${name} ${v} is not a byte count`);
  }
  if (dtbSize === 0) return err('boot modules: the devicetree blob is empty');
  const ramEnd = ramBase + ramSize;
  const kernelEnd = kernelStart + kernelSize;
  if (kernelStart < ramBase || kernelEnd > ramEnd) {
    return err(`the kernel [${hex(kernelStart)},${hex(kernelEnd)}) does not fit in guest RAM [${hex(ramBase)},${hex(ramEnd)}) (${mib(ramSize)})`);
  }
  const dtbFootprint = roundUp(dtbSize, MODULE_ALIGN);
  const modules = dtbFootprint + roundUp(initrdSize, MODULE_ALIGN);
  const kernelEndRounded = roundUp(kernelEnd, MODULE_ALIGN);
  const kernelFootprint = kernelEndRounded - kernelStart;
  const what = initrdSize > 0 ? 'devicetree and initrd' : 'devicetree';
  if (kernelFootprint + modules > ramSize) {
    return err(
      `not enough guest RAM (${mib(ramSize)}) for the kernel (${mib(kernelFootprint)} rounded to 2 MiB) and the ${what} (${mib(modules)} rounded to 2 MiB); raise --memory`,
    );
  }
  const preferred = ramBase + MODULES_PREFERRED_OFFSET;
  let base: number;
  if (ramEnd >= preferred + modules && kernelEnd < preferred) base = preferred;
  else if (ramEnd - modules > kernelEndRounded) base = ramEnd - modules;
  else if (kernelStart - ramBase > modules) base = kernelStart - modules;
  else {
    return err(
      `no room for the ${what} (${mib(modules)} rounded to 2 MiB) in guest RAM [${hex(ramBase)},${hex(ramEnd)}) around the kernel [${hex(kernelStart)},${hex(kernelEnd)}); raise --memory`,
    );
  }
  const placement: BootModulePlacement = {
    kernel: { start: kernelStart, end: kernelEnd },
    dtb: { start: base, end: base + dtbSize },
  };
  if (initrdSize > 0) placement.initrd = { start: base + dtbFootprint, end: base + dtbFootprint + initrdSize };
  return ok(placement);
}
