/**
 * How much host memory a guest's RAM really uses: the pages of its buffer the kernel has
 * committed (resident or swapped out). Guest RAM is one large zero-filled buffer that costs
 * nothing until written (src/mem/guest-memory.ts), so this grows with the pages a guest
 * touches, and is what a per-domain limit (--max-host-memory) is checked against.
 *
 * Linux reports it per page through /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst:
 * one little-endian u64 per virtual page, bit 63 "present", bit 62 "swapped"; both readable
 * without privileges). Elsewhere there is no per-buffer figure: `residentBytes` says undefined.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import koffi from 'koffi';

const PAGE = 4096;
let pagemap: number | undefined | null;

function openPagemap(): number | undefined {
  if (pagemap === undefined) {
    try {
      pagemap = process.platform === 'linux' ? openSync('/proc/self/pagemap', 'r') : null;
    } catch {
      pagemap = null;
    }
    if (pagemap !== null) process.once('exit', () => pagemap && closeSync(pagemap));
  }
  return pagemap ?? undefined;
}

/** Scratch space for one read: 512 KiB of entries covers 256 MiB of guest RAM. */
const CHUNK_PAGES = 65536;
let scratch: Buffer | undefined;

/** Bytes of `bytes` the host has committed, or undefined where the platform cannot tell. */
export function residentBytes(bytes: Uint8Array): number | undefined {
  const fd = openPagemap();
  if (fd === undefined || bytes.byteLength === 0) return fd === undefined ? undefined : 0;
  let addr: bigint;
  try {
    addr = BigInt(koffi.address(bytes) as bigint | number);
  } catch {
    return undefined;
  }
  const first = Number(addr / BigInt(PAGE));
  const last = Number((addr + BigInt(bytes.byteLength) - 1n) / BigInt(PAGE));
  scratch ??= Buffer.alloc(CHUNK_PAGES * 8);
  let pages = 0;
  for (let p = first; p <= last; p += CHUNK_PAGES) {
    const n = Math.min(CHUNK_PAGES, last - p + 1);
    let got: number;
    try {
      got = readSync(fd, scratch, 0, n * 8, p * 8);
    } catch {
      return undefined;
    }
    // Bits 63 (present) and 62 (swapped) are the top two bits of the high 32-bit word.
    for (let i = 0; i < got; i += 8) if (scratch.readUInt32LE(i + 4) & 0xc000_0000) pages++;
  }
  return pages * PAGE;
}
