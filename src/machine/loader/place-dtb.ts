/**
 * Where the devicetree blob goes in a domain's RAM.
 *
 * This follows the rule Xen 4.17 uses for its guests (xen/arch/arm/kernel.c,
 * place_modules), so a guest sees its DTB at the same address here as under the real Xen:
 * the DTB's footprint is its size rounded up to 2 MiB, then
 *   1. at RAM base + 128 MiB, if RAM reaches past that plus the footprint and the image
 *      ends below it;
 *   2. else at the top of RAM minus the footprint, if that is above the image's end
 *      rounded up to 2 MiB;
 *   3. else just below the image, if there is room between RAM base and the image;
 *   4. else there is no room.
 * (Xen also places an initrd after the DTB; there is none here.) The result is 2 MiB
 * aligned whenever RAM base is, which satisfies booting.rst's 8-byte alignment.
 */
import type { GuestMemory } from '../../mem/guest-memory.ts';
import { type Result, ok, err, hex } from '../result.ts';

const MiB = 1 << 20;
const SZ_2M = 2 * MiB;
const SZ_128M = 128 * MiB;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Chooses the DTB address for an image occupying [image.start, image.end); does not write. */
export function chooseDtbAddress(
  mem: Pick<GuestMemory, 'base' | 'size'>,
  dtbSize: number,
  image: { start: number; end: number },
): Result<number> {
  if (dtbSize <= 0) return err(`devicetree blob is empty`);
  const ramBase = mem.base;
  const ramEnd = mem.base + mem.size;
  const footprint = roundUp(dtbSize, SZ_2M);
  const imageEndRounded = roundUp(image.end, SZ_2M);
  const imageFootprint = imageEndRounded - image.start;
  if (footprint + imageFootprint > mem.size) {
    return err(
      `not enough guest RAM for image and devicetree: image [${hex(image.start)},${hex(image.end)}) takes ${imageFootprint} bytes rounded to 2 MiB, devicetree ${footprint} bytes, guest RAM is ${mem.size} bytes`,
    );
  }
  const at128 = ramBase + SZ_128M;
  if (ramEnd >= at128 + footprint && image.end < at128) return ok(at128);
  if (ramEnd - footprint > imageEndRounded) return ok(ramEnd - footprint);
  if (image.start - ramBase > footprint) return ok(image.start - footprint);
  return err(
    `no room for the devicetree (${footprint} bytes rounded to 2 MiB) in guest RAM [${hex(ramBase)},${hex(ramEnd)}) around image [${hex(image.start)},${hex(image.end)})`,
  );
}

/** Chooses the DTB address, copies the blob there, and returns the address (for x0). */
export function placeDtb(mem: GuestMemory, dtb: Uint8Array, image: { start: number; end: number }): Result<number> {
  const at = chooseDtbAddress(mem, dtb.length, image);
  if (!at.ok) return at;
  if (!mem.write(at.value, dtb)) return err(`devicetree [${hex(at.value)},${hex(at.value + dtb.length)}) is outside guest RAM`);
  return at;
}
