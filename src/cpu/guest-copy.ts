/**
 * copy_from_guest / copy_to_guest as Xen on Arm does them: the buffer is a guest *virtual*
 * address, translated page by page with the calling vCPU's EL1 stage-1 view (Xen asks the MMU
 * with AT S12E1R for reads and AT S12E1W for writes, so EL1 read or write permission applies,
 * PAN does not). A page that does not translate, or whose output is not RAM, ends the copy;
 * the pages before it have been copied already (Xen returns the number of bytes left).
 *
 * Xen steps in its own 4 KiB pages whatever the guest's granule, and so do we: a 64K guest
 * page is simply translated (or found in the cache) several times.
 */
import { SCTLR_M, translateStage1, type MmuOptions, type Stage1Regs } from './mmu.ts';

/** The guest RAM accessors the copies need (`GuestMemory` has them). */
export interface GuestRam {
  read(gpa: number, len: number): Uint8Array | undefined;
  write(gpa: number, data: Uint8Array): boolean;
  readU64(gpa: number): bigint | undefined;
}

export interface GuestCopyCtx {
  ram: GuestRam;
  /** The calling vCPU's SCTLR_EL1/TCR_EL1/TTBR0_EL1/TTBR1_EL1 at the time of the hypercall. */
  regs: Stage1Regs;
  mmu?: MmuOptions;
  /** Optional last-page cache; see `GuestPageCache` for how long it may live. */
  cache?: GuestPageCache;
}

export type CopyFromResult = { ok: true; bytes: Uint8Array } | { ok: false; copied: number };
export type CopyToResult = { ok: true } | { ok: false; copied: number };

const PAGE = 4096;
const PAGE_SHIFT = 12n;

/**
 * The last VA page translated, keyed by the register snapshot and the VA page. Only successful
 * translations are kept. The guest's TLB maintenance does not trap to us, so a cache must not
 * outlive the exit it was made in: create one per hypercall (or call `invalidate()` at every
 * guest entry). A changed snapshot (TTBR/TCR/SCTLR) misses by itself.
 */
export class GuestPageCache {
  private sctlr = -1n;
  private tcr = 0n;
  private ttbr0 = 0n;
  private ttbr1 = 0n;
  private vpage = -1n;
  private paPage = 0;
  private writable = false;
  hits = 0;

  invalidate(): void {
    this.vpage = -1n;
  }

  /** Guest-physical address of the page, or undefined on a miss. */
  lookup(regs: Stage1Regs, vpage: bigint, write: boolean): number | undefined {
    if (
      vpage !== this.vpage ||
      regs.sctlr !== this.sctlr ||
      regs.tcr !== this.tcr ||
      regs.ttbr0 !== this.ttbr0 ||
      regs.ttbr1 !== this.ttbr1 ||
      (write && !this.writable)
    )
      return undefined;
    this.hits++;
    return this.paPage;
  }

  store(regs: Stage1Regs, vpage: bigint, paPage: number, writable: boolean): void {
    this.sctlr = regs.sctlr;
    this.tcr = regs.tcr;
    this.ttbr0 = regs.ttbr0;
    this.ttbr1 = regs.ttbr1;
    this.vpage = vpage;
    this.paPage = paPage;
    this.writable = writable;
  }
}

/**
 * Guest-physical address of the 4 KiB page holding `va`, checked for EL1 read or write
 * permission, or undefined when stage 1 faults. RAM is checked by the caller.
 */
export function translateGuestPage(ctx: GuestCopyCtx, va: bigint, write: boolean): number | undefined {
  const vpage = va >> PAGE_SHIFT;
  const hit = ctx.cache?.lookup(ctx.regs, vpage, write);
  if (hit !== undefined) return hit;
  const ram = ctx.ram;
  const r = translateStage1((pa) => ram.readU64(Number(pa)), ctx.regs, { va: vpage << PAGE_SHIFT, kind: write ? 'write' : 'read', el: 1 }, ctx.mmu);
  if (!r.ok) return undefined;
  const paPage = Number(r.pa);
  ctx.cache?.store(ctx.regs, vpage, paPage, r.perms.el1.w);
  return paPage;
}

/** With the MMU off, PA = VA: the whole range at once when it is RAM below the PA size. */
function identityRange(ctx: GuestCopyCtx, va: bigint, len: number): number | undefined {
  if ((ctx.regs.sctlr & SCTLR_M) !== 0n) return undefined;
  const end = va + BigInt(len);
  return end <= 1n << BigInt(ctx.mmu?.paBits ?? 44) ? Number(va) : undefined;
}

const MASK64 = (1n << 64n) - 1n;

/** copy_from_guest: `len` bytes from guest virtual `va`. */
export function copyFromGuest(ctx: GuestCopyCtx, va: bigint, len: number): CopyFromResult {
  const flat = identityRange(ctx, va, len);
  if (flat !== undefined) {
    const bytes = ctx.ram.read(flat, len);
    if (bytes) return { ok: true, bytes };
  }
  const out = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const at = (va + BigInt(done)) & MASK64;
    const off = Number(at & 0xfffn);
    const n = Math.min(len - done, PAGE - off);
    const page = translateGuestPage(ctx, at, false);
    const chunk = page === undefined ? undefined : ctx.ram.read(page + off, n);
    if (!chunk) return { ok: false, copied: done };
    out.set(chunk, done);
    done += n;
  }
  return { ok: true, bytes: out };
}

/** copy_to_guest: `bytes` to guest virtual `va`; pages before a failing one stay written. */
export function copyToGuest(ctx: GuestCopyCtx, va: bigint, bytes: Uint8Array): CopyToResult {
  const len = bytes.length;
  const flat = identityRange(ctx, va, len);
  if (flat !== undefined && ctx.ram.write(flat, bytes)) return { ok: true };
  let done = 0;
  while (done < len) {
    const at = (va + BigInt(done)) & MASK64;
    const off = Number(at & 0xfffn);
    const n = Math.min(len - done, PAGE - off);
    const page = translateGuestPage(ctx, at, true);
    if (page === undefined || !ctx.ram.write(page + off, bytes.subarray(done, done + n))) return { ok: false, copied: done };
    done += n;
  }
  return { ok: true };
}
