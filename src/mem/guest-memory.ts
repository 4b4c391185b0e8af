/**
 * A domain's RAM: one contiguous guest-physical region backed by a host buffer.
 *
 * The same buffer is handed to the CPU engine (mapped with uc_mem_map_ptr), so the
 * hypervisor side reads and writes guest memory with no copy and no native call — the
 * hypercall path and the 2-level event ABI on shared_info touch it on every event.
 * The guest and these accessors never run at the same time (the engine calls back into
 * JavaScript synchronously), so plain loads and stores are atomic with respect to the guest.
 *
 * Every accessor is bounds-checked and reports "unmapped" as `undefined`/`false` rather
 * than throwing: a hostile pointer in a hypercall argument becomes -EFAULT, never a crash.
 *
 * A large RAM costs the host only the pages the guest (or the loader) touches. Node takes
 * zero-filled ArrayBuffer memory from calloc, and glibc serves large blocks with a fresh
 * anonymous mmap that it does not clear, so nothing is committed until written. Measured on
 * Node 20.20 / Linux x86-64: RSS 41 MiB before and after `new Uint8Array(256 MiB)`, the same
 * for 3 GiB and for Buffer.alloc; writing one byte per page over 16 MiB adds 16 MiB. A whole
 * run of a small guest with --memory 64, 256, 1024 and 3072 grows RSS by <15 MiB each
 * (the engine maps this same buffer with uc_mem_map_ptr, which does not touch it either).
 * Nothing here may fill or copy the whole buffer (no bytes.fill(), no slice() of it all).
 */
export class GuestMemory {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(
    /** Guest-physical address of the first byte. */
    readonly base: number,
    /** Size in bytes. */
    readonly size: number,
    backing?: Uint8Array,
  ) {
    this.bytes = backing ?? new Uint8Array(size);
    if (this.bytes.length !== size) throw new RangeError('backing buffer size mismatch');
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Host offset of [gpa, gpa+len), or -1 when any byte of it is outside RAM. */
  offsetOf(gpa: number, len: number): number {
    const off = gpa - this.base;
    return off >= 0 && len >= 0 && off + len <= this.size && Number.isSafeInteger(off) ? off : -1;
  }

  contains(gpa: number, len = 1): boolean {
    return this.offsetOf(gpa, len) >= 0;
  }

  /** A copy of guest bytes, or undefined when the range is not RAM. */
  read(gpa: number, len: number): Uint8Array | undefined {
    const off = this.offsetOf(gpa, len);
    return off < 0 ? undefined : this.bytes.slice(off, off + len);
  }

  write(gpa: number, data: Uint8Array): boolean {
    const off = this.offsetOf(gpa, data.length);
    if (off < 0) return false;
    this.bytes.set(data, off);
    return true;
  }

  /**
   * Writes 4 KiB page by page, as Xen's copy_to_guest does: when the range runs off RAM, the
   * pages before the first one outside are written and the answer is false.
   */
  writePagewise(gpa: number, data: Uint8Array): boolean {
    if (this.write(gpa, data)) return true;
    for (let pos = 0; pos < data.length; ) {
      const n = Math.min(data.length - pos, 4096 - ((gpa + pos) % 4096));
      if (!this.write(gpa + pos, data.subarray(pos, pos + n))) return false;
      pos += n;
    }
    return true;
  }

  readU8(gpa: number): number | undefined {
    const off = this.offsetOf(gpa, 1);
    return off < 0 ? undefined : this.bytes[off];
  }
  readU16(gpa: number): number | undefined {
    const off = this.offsetOf(gpa, 2);
    return off < 0 ? undefined : this.view.getUint16(off, true);
  }
  readU32(gpa: number): number | undefined {
    const off = this.offsetOf(gpa, 4);
    return off < 0 ? undefined : this.view.getUint32(off, true);
  }
  readU64(gpa: number): bigint | undefined {
    const off = this.offsetOf(gpa, 8);
    return off < 0 ? undefined : this.view.getBigUint64(off, true);
  }

  writeU8(gpa: number, v: number): boolean {
    const off = this.offsetOf(gpa, 1);
    if (off < 0) return false;
    this.bytes[off] = v;
    return true;
  }
  writeU16(gpa: number, v: number): boolean {
    const off = this.offsetOf(gpa, 2);
    if (off < 0) return false;
    this.view.setUint16(off, v, true);
    return true;
  }
  writeU32(gpa: number, v: number): boolean {
    const off = this.offsetOf(gpa, 4);
    if (off < 0) return false;
    this.view.setUint32(off, v >>> 0, true);
    return true;
  }
  writeU64(gpa: number, v: bigint): boolean {
    const off = this.offsetOf(gpa, 8);
    if (off < 0) return false;
    this.view.setBigUint64(off, BigInt.asUintN(64, v), true);
    return true;
  }

  /** Reads a NUL-terminated or length-bounded string; undefined if it runs off RAM. */
  readString(gpa: number, len: number): string | undefined {
    const b = this.read(gpa, len);
    return b === undefined ? undefined : new TextDecoder('latin1').decode(b);
  }
}
