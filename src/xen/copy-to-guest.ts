/**
 * Copying a hypercall's result out to the guest as Xen on Arm does (raw_copy_to_guest): page
 * by page, so a buffer that runs off the end of RAM has the part in RAM written before the
 * call answers -EFAULT. On guest-physical addresses: right for a guest with its MMU off (all
 * the project's firmware); Xen translates each page through the caller's stage 1, which
 * src/cpu/guest-copy.ts does but the hypercall layer does not use yet (issue 15). Measured under the real Xen 4.17 (firmware/apps/efault-probe): an
 * extraversion aimed at RAM's last 8 bytes leaves ".7" and six NULs there.
 */
const PAGE_SIZE = 4096;

/** Writes `bytes` at `gpa`, page by page; false as soon as a page is not RAM (earlier pages stay written). */
export function copyToGuestPhys(mem: { write(gpa: number, b: Uint8Array): boolean }, gpa: number, bytes: Uint8Array): boolean {
  if (gpa < 0) return false;
  for (let pos = 0; pos < bytes.length; ) {
    const at = gpa + pos;
    const n = Math.min(bytes.length - pos, PAGE_SIZE - (at % PAGE_SIZE));
    if (!mem.write(at, bytes.subarray(pos, pos + n))) return false;
    pos += n;
  }
  return true;
}
