/**
 * The arm64 Linux `Image` header (Linux Documentation/arm64/booting.rst, "Call the kernel
 * image"): 64 bytes, all fields little-endian since v3.17:
 *
 *   0x00 code0, 0x04 code1        executable (branch to the real entry)
 *   0x08 text_offset (u64)        load offset from a 2 MiB aligned base in RAM
 *   0x10 image_size  (u64)        effective size including BSS; 0 in pre-3.17 headers
 *   0x18 flags       (u64)        bit 0 = big-endian kernel, bits 1-2 page size, bit 3 placement
 *   0x38 magic       (u32)        0x644d5241, "ARM\x64"
 *
 * Placement. booting.rst says the Image goes text_offset bytes above a 2 MiB aligned base,
 * and that when image_size is 0 (a pre-3.17 header) "text_offset can be assumed to be
 * 0x80000". Xen 4.17 (xen/arch/arm/kernel.c, kernel_zimage64_probe/kernel_zimage_place)
 * does not apply that rule: it loads a 64-bit Image at the first RAM bank's start plus the
 * header's text_offset, whatever image_size says, and copies the file's length. Since the
 * real Xen is this project's specification, that is the default here; the booting.rst
 * rule is available as `imageSizeZero: 'linux-legacy'`. For real pre-3.17 little-endian
 * kernels the two agree, because their text_offset field already reads 0x80000.
 *
 * Xen 4.17 also ignores image_size and flags. Here image_size is honoured as the kernel's
 * footprint (BSS included; see place-modules.ts) and a big-endian kernel is refused: Xen would
 * enter it little-endian, where it cannot run. The page size and bit 3 need nothing: loading at
 * RAM bank start + text_offset satisfies both placement choices.
 */
import { type Result, ok, err, hex } from '../result.ts';

export const ARM64_IMAGE_MAGIC = 0x644d5241; // "ARM\x64" read little-endian
export const ARM64_IMAGE_MAGIC_OFFSET = 56;
export const ARM64_IMAGE_HEADER_SIZE = 64;
/** The text_offset booting.rst lets a loader assume for a header with image_size 0. */
export const ARM64_LEGACY_TEXT_OFFSET = 0x80000;
const FLAG_BE = 1n;
const FLAG_PAGE_SIZE_SHIFT = 1n;
const FLAG_PHYS_ANYWHERE = 1n << 3n;
const PAGE_SIZES = [undefined, 4096, 16384, 65536] as const;

export interface Arm64ImageHeader {
  textOffset: number;
  /** 0 in a pre-3.17 header (then flags mean nothing). */
  imageSize: number;
  flags: bigint;
  /** The kernel's page size from flags bits 1-2; undefined when unspecified. */
  pageSize: 4096 | 16384 | 65536 | undefined;
  /** flags bit 3: the kernel may sit anywhere in RAM (else near its start). */
  physAnywhere: boolean;
}

export function isArm64Image(bytes: Uint8Array): boolean {
  if (bytes.length < ARM64_IMAGE_HEADER_SIZE) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return dv.getUint32(ARM64_IMAGE_MAGIC_OFFSET, true) === ARM64_IMAGE_MAGIC;
}

export function parseArm64ImageHeader(bytes: Uint8Array): Result<Arm64ImageHeader> {
  if (!isArm64Image(bytes)) {
    return err(`not an arm64 Image: no "ARM\\x64" magic at offset 0x38 of a ${ARM64_IMAGE_HEADER_SIZE}-byte header`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const textOffset = dv.getBigUint64(8, true);
  const imageSize = dv.getBigUint64(16, true);
  const flags = dv.getBigUint64(24, true);
  // 2^53 is far beyond any guest RAM; larger values are corrupt headers.
  if (textOffset > BigInt(Number.MAX_SAFE_INTEGER)) return err(`arm64 Image text_offset ${hex(textOffset)} is too large`);
  if (imageSize > BigInt(Number.MAX_SAFE_INTEGER)) return err(`arm64 Image image_size ${hex(imageSize)} is too large`);
  // flags only exist from v3.17 on, i.e. when image_size is set.
  if (imageSize !== 0n && (flags & FLAG_BE) !== 0n) {
    return err(`arm64 Image flags ${hex(flags)} say this is a big-endian kernel (bit 0); Xen enters guests little-endian, so only little-endian kernels can boot`);
  }
  const known = imageSize !== 0n;
  return ok({
    textOffset: Number(textOffset),
    imageSize: Number(imageSize),
    flags,
    pageSize: known ? PAGE_SIZES[Number((flags >> FLAG_PAGE_SIZE_SHIFT) & 3n)] : undefined,
    physAnywhere: known && (flags & FLAG_PHYS_ANYWHERE) !== 0n,
  });
}
