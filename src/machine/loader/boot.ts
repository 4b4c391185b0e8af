/**
 * Everything a domain's RAM holds at its first instruction, as Xen 4.17 lays it out for a
 * domain it builds: the kernel (inflated if gzip, at RAM base + text_offset for an arm64
 * Image, at its segments' addresses for an ELF), then the devicetree and the initrd where
 * place-modules.ts says, with /chosen telling the kernel the command line and where the
 * initrd is (chosen.ts). The vCPU then starts at the kernel's entry with x0 = the DTB's
 * address and x1..x3 = 0 (Linux booting.rst, "Call the kernel image").
 */
import type { GuestMemory } from '../../mem/guest-memory.ts';
import { type Result, ok, err, hex } from '../result.ts';
import { applyChosen, type ChosenValues } from './chosen.ts';
import { loadImage, type LoadedImage } from './load.ts';
import { placeBootModules, type GuestRange } from './place-modules.ts';

/**
 * Makes the domain's devicetree once /chosen's values are known. A tree generated as Xen
 * generates it is built with them (Xen writes /chosen while it builds the tree); a blob the
 * user brought gets them written into its /chosen (applyChosen).
 */
export type DtbBuilder = (chosen: ChosenValues) => Result<Uint8Array>;

export interface BootModules {
  /** Kernel or firmware: ELF64, arm64 Image, or either gzip-compressed. */
  kernel: Uint8Array;
  /** The domain's devicetree: a blob before /chosen is filled in, or a builder. */
  dtb: Uint8Array | DtbBuilder;
  initrd?: Uint8Array;
  /** Kernel command line (/chosen/bootargs). */
  cmdline?: string;
}

export interface BootLayout {
  image: LoadedImage;
  /** Guest-physical address of the DTB: x0 at entry. */
  dtbAddress: number;
  /** The blob as written to guest RAM (with /chosen filled in). */
  dtb: Uint8Array;
  /** Exact bytes of the initrd in guest RAM; absent without one. */
  initrd?: GuestRange;
}

/**
 * Loads the kernel, places and writes the DTB and the initrd. A failure leaves a half-written
 * RAM behind, which is fine for its one caller: the domain is then not created at all.
 */
export function loadBootModules(mem: GuestMemory, m: BootModules): Result<BootLayout> {
  const image = loadImage(m.kernel, mem);
  if (!image.ok) return image;
  const initrdSize = m.initrd?.length ?? 0;
  // The blob's size does not depend on the values, so a first pass with placeholders sizes it
  // (Xen does the same: it writes zeroes, places the modules, then fills the values in).
  const placeholder = initrdSize ? { start: 0n, end: 0n } : undefined;
  const blob = m.dtb;
  const build: DtbBuilder = typeof blob === 'function' ? blob : (chosen) => applyChosen(blob, chosen);
  const sized = build({ bootargs: m.cmdline, initrd: placeholder });
  if (!sized.ok) return sized;
  const at = placeBootModules({
    ramBase: mem.base,
    ramSize: mem.size,
    kernelStart: image.value.start,
    kernelSize: image.value.end - image.value.start,
    dtbSize: sized.value.length,
    initrdSize,
  });
  if (!at.ok) return at;
  const { dtb: dtbAt, initrd } = at.value;
  const dtb = build({ bootargs: m.cmdline, initrd: initrd && { start: BigInt(initrd.start), end: BigInt(initrd.end) } });
  if (!dtb.ok) return dtb;
  if (!mem.write(dtbAt.start, dtb.value)) return err(`devicetree [${hex(dtbAt.start)},${hex(dtbAt.start + dtb.value.length)}) is outside guest RAM`);
  if (initrd && m.initrd && !mem.write(initrd.start, m.initrd)) return err(`initrd [${hex(initrd.start)},${hex(initrd.end)}) is outside guest RAM`);
  return ok({ image: image.value, dtbAddress: dtbAt.start, dtb: dtb.value, ...(initrd ? { initrd } : {}) });
}
