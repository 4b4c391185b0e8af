/**
 * Puts a guest kernel/firmware image into a domain's RAM: inflates a gzip-compressed one
 * first (as Xen 4.17 does, see gunzip.ts), detects the format (ELF64 AArch64 executable or
 * arm64 Image), checks every byte it will write lands in guest RAM and outside reserved
 * ranges, and only then writes. On failure guest memory is untouched.
 */
import type { GuestMemory } from '../../mem/guest-memory.ts';
import { type Result, ok, err, hex } from '../result.ts';
import { isElf, parseElf64 } from './elf.ts';
import { ARM64_IMAGE_MAGIC_OFFSET, ARM64_LEGACY_TEXT_OFFSET, isArm64Image, parseArm64ImageHeader } from './arm64-image.ts';
import { type ElfSymbol, symbolize } from './symbols.ts';
import { gunzipBounded, isGzip } from './gunzip.ts';

/**
 * Largest kernel a gzip file may inflate to, whatever the RAM: real arm64 kernels are tens
 * of MiB (Debian's is ~30 MiB), and the cap bounds what a corrupt or hostile file can cost.
 */
export const MAX_INFLATED_KERNEL = 512 * 1024 * 1024;

export interface ReservedRange {
  base: number;
  size: number;
  /** What lives there, for the message ("devicetree"). */
  what: string;
}

export interface LoadOptions {
  /** Guest-physical ranges the image must not overlap. */
  reserve?: ReservedRange[];
  /**
   * arm64 Image with image_size 0: 'xen' loads at RAM base + text_offset as written (what
   * Xen 4.17 does; default), 'linux-legacy' assumes text_offset 0x80000 as booting.rst
   * permits. See arm64-image.ts.
   */
  imageSizeZero?: 'xen' | 'linux-legacy';
  /** Upper bound for an inflated gzip kernel (default: the RAM size, at most MAX_INFLATED_KERNEL). */
  maxInflated?: number;
}

export interface LoadedRegion {
  /** "segment N" (program header index) or "image". */
  label: string;
  addr: number;
  /** Bytes copied from the file. */
  fileSize: number;
  /** Bytes occupied in guest RAM; [fileSize, memSize) is zero-filled. */
  memSize: number;
}

export interface LoadedImage {
  format: 'elf' | 'arm64-image';
  /** Where the vCPU starts (MMU off, so a physical address). */
  entry: number;
  /** Lowest guest-physical address the image occupies. */
  start: number;
  /** One past the highest guest-physical address it occupies. */
  end: number;
  regions: LoadedRegion[];
  /** Sorted by address; empty for arm64 Images and stripped ELFs. */
  symbols: ElfSymbol[];
  symbolize(addr: number): string;
  warnings: string[];
  /** Size of the gzip file the image was inflated from; absent when it was not compressed. */
  gzipSize?: number;
}

function range(a: number, b: number): string {
  return `[${hex(a)},${hex(b)})`;
}

export function loadImage(file: Uint8Array, mem: GuestMemory, opts: LoadOptions = {}): Result<LoadedImage> {
  let bytes = file;
  if (isGzip(file)) {
    const cap = opts.maxInflated ?? Math.min(mem.size, MAX_INFLATED_KERNEL);
    const why = cap === mem.size ? `the guest's RAM` : cap === MAX_INFLATED_KERNEL ? 'the largest kernel accepted' : 'the limit asked for';
    const inflated = gunzipBounded(file, cap, 'kernel', why);
    if (!inflated.ok) return inflated;
    bytes = inflated.value;
  }
  const gz = (e: string) => (bytes === file ? e : `gzip-compressed kernel: ${e}`);
  let plan: Result<Omit<LoadedImage, 'start' | 'end' | 'symbolize'> & { data: Uint8Array[] }>;
  if (isElf(bytes)) plan = planElf(bytes);
  else if (isArm64Image(bytes)) plan = planArm64Image(bytes, mem, opts);
  else return err(gz(`not an ELF64 AArch64 executable or arm64 Image (${describeMagic(bytes)})`));
  if (!plan.ok) return err(gz(plan.error));
  const { regions, data } = plan.value;

  const ramEnd = mem.base + mem.size;
  const start = regions.reduce((m, r) => Math.min(m, r.addr), Infinity);
  const end = regions.reduce((m, r) => Math.max(m, r.addr + r.memSize), -Infinity);
  if (end - start > mem.size) {
    return err(`image needs ${end - start} bytes at ${hex(start)}, guest RAM is ${mem.size} bytes`);
  }
  for (const r of regions) {
    const rEnd = r.addr + r.memSize;
    if (!mem.contains(r.addr, r.memSize)) {
      return err(`${r.label} ${range(r.addr, rEnd)} is outside guest RAM ${range(mem.base, ramEnd)}`);
    }
    for (const res of opts.reserve ?? []) {
      if (r.addr < res.base + res.size && res.base < rEnd && res.size > 0) {
        return err(`${r.label} ${range(r.addr, rEnd)} overlaps the ${res.what} at ${range(res.base, res.base + res.size)}`);
      }
    }
  }
  const entry = plan.value.entry;
  if (!mem.contains(entry, 4)) {
    return err(`entry point ${hex(entry)} is outside guest RAM ${range(mem.base, ramEnd)}`);
  }

  // All checks passed: write. Zero-fill first so a reused buffer leaves no stale BSS.
  regions.forEach((r, i) => {
    const off = mem.offsetOf(r.addr, r.memSize);
    mem.bytes.fill(0, off + r.fileSize, off + r.memSize);
    mem.bytes.set(data[i], off);
  });

  const symbols = plan.value.symbols;
  return ok({
    format: plan.value.format,
    entry,
    start,
    end,
    regions,
    symbols,
    symbolize: (addr: number) => symbolize(symbols, addr),
    warnings: plan.value.warnings,
    ...(bytes === file ? {} : { gzipSize: file.length }),
  });
}

/**
 * PT_LOAD segments go to p_paddr. For bare-metal firmware that runs with the MMU off the
 * physical address is the one that matters: it is the linker's load address (LMA, set
 * with AT() in a linker script) and equals p_vaddr when the script does not separate them.
 * e_entry is taken as is, which assumes the entry lies where VMA == LMA (true for
 * MMU-off code). Xen's own ELF path makes the same virt == phys assumption.
 */
function planElf(bytes: Uint8Array) {
  const elf = parseElf64(bytes);
  if (!elf.ok) return elf;
  const regions: LoadedRegion[] = [];
  const data: Uint8Array[] = [];
  for (const s of elf.value.segments) {
    regions.push({ label: `segment ${s.index}`, addr: s.paddr, fileSize: s.fileSize, memSize: s.memSize });
    data.push(bytes.subarray(s.fileOffset, s.fileOffset + s.fileSize));
  }
  return ok({
    format: 'elf' as const,
    entry: elf.value.entry,
    regions,
    data,
    symbols: elf.value.symbols,
    warnings: elf.value.warnings,
  });
}

function planArm64Image(bytes: Uint8Array, mem: GuestMemory, opts: LoadOptions) {
  const h = parseArm64ImageHeader(bytes);
  if (!h.ok) return h;
  const warnings: string[] = [];
  let textOffset = h.value.textOffset;
  if (h.value.imageSize === 0 && textOffset !== ARM64_LEGACY_TEXT_OFFSET) {
    if (opts.imageSizeZero === 'linux-legacy') {
      textOffset = ARM64_LEGACY_TEXT_OFFSET;
    } else {
      warnings.push(
        `arm64 Image has image_size 0 (pre-3.17 header); loading at text_offset ${hex(textOffset)} as written, like Xen 4.17 (booting.rst would allow assuming 0x80000)`,
      );
    }
  }
  const addr = mem.base + textOffset;
  // image_size covers BSS the kernel expects to find free (booting.rst); at least the file.
  const memSize = Math.max(bytes.length, h.value.imageSize);
  return ok({
    format: 'arm64-image' as const,
    entry: addr,
    regions: [{ label: 'image', addr, fileSize: bytes.length, memSize }],
    data: [bytes],
    symbols: [] as ElfSymbol[],
    warnings,
  });
}

function describeMagic(b: Uint8Array): string {
  const hx = (x: Uint8Array) => Array.from(x, (v) => v.toString(16).padStart(2, '0')).join(' ');
  if (b.length < 4) return `file is only ${b.length} bytes`;
  const at56 =
    b.length >= ARM64_IMAGE_MAGIC_OFFSET + 4 ? hx(b.subarray(ARM64_IMAGE_MAGIC_OFFSET, ARM64_IMAGE_MAGIC_OFFSET + 4)) : 'past end of file';
  return `magic ${hx(b.subarray(0, 4))} at offset 0x0, ${at56} at offset 0x38; expected 7f 45 4c 46 or 41 52 4d 64 ("ARM\\x64") at 0x38`;
}
