/**
 * /chosen as Xen writes it for a domain it boots (xen/arch/arm/domain_build.c): `bootargs` only
 * when the command line is not empty, `linux,initrd-start`/`-end` as 64-bit values with the
 * ramdisk's exact end. The devicetree edit itself is the FDT writer's (fdt/writer.ts).
 */
import { withChosen } from '../fdt/writer.ts';
import { type Result, ok, err } from '../result.ts';

export interface ChosenValues {
  bootargs?: string;
  initrd?: { start: bigint; end: bigint };
}

/** The blob with /chosen filled in; the very same blob when there is nothing to add. */
export function applyChosen(dtb: Uint8Array, values: ChosenValues): Result<Uint8Array> {
  const bootargs = values.bootargs ? values.bootargs : undefined;
  if (bootargs === undefined && values.initrd === undefined) return ok(dtb);
  const r = withChosen(dtb, { bootargs, initrd: values.initrd });
  return r.ok ? ok(r.dtb) : err(`devicetree: ${r.error}`);
}
