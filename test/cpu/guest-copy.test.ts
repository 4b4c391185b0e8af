import { describe, expect, it } from 'vitest';
import { copyFromGuest, copyToGuest, GuestPageCache, type GuestCopyCtx } from '../../src/cpu/guest-copy.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { PhysMem, TableBuilder, tcr, TG0 } from './page-tables.ts';

const RAM = 0x4000_0000n;
const SIZE = 8 << 20;

function setup(grain: 12 | 14 | 16 = 12) {
  const phys = new PhysMem(RAM, SIZE);
  const ram = new GuestMemory(Number(RAM), SIZE, phys.bytes);
  const pt = new TableBuilder(phys, grain, 48, RAM + 0x40_0000n);
  const ctx: GuestCopyCtx = { ram, regs: { sctlr: 1n, tcr: tcr({ tg0: TG0[grain] }), ttbr0: pt.root, ttbr1: 0n } };
  const fill = (pa: bigint, len: number, seed: number) => {
    for (let i = 0; i < len; i++) phys.bytes[Number(pa - RAM) + i] = (seed + i) & 0xff;
  };
  return { phys, ram, pt, ctx, fill };
}

const pattern = (len: number, seed: number) => Uint8Array.from({ length: len }, (_, i) => (seed + i) & 0xff);

describe('copies with the MMU off', () => {
  it('PA = VA; a range that leaves RAM stops at the first page outside it', () => {
    const { ctx, fill } = setup();
    ctx.regs.sctlr = 0n;
    fill(RAM + 0x1000n, 16, 7);
    expect(copyFromGuest(ctx, RAM + 0x1000n, 16)).toEqual({ ok: true, bytes: pattern(16, 7) });
    const end = RAM + BigInt(SIZE);
    expect(copyFromGuest(ctx, end - 0x1800n, 0x2000)).toEqual({ ok: false, copied: 0x1800 });
    expect(copyToGuest(ctx, end - 0x10n, new Uint8Array(0x20))).toEqual({ ok: false, copied: 0x10 });
    expect(copyFromGuest(ctx, 1n << 50n, 4)).toEqual({ ok: false, copied: 0 });
  });
});

describe('copies through stage 1', () => {
  it('gather a buffer spread over scattered pages', () => {
    const { pt, ctx, fill } = setup();
    const va = 0xffff_0000n; // TTBR0, 48-bit range
    pt.map(va, RAM + 0x5000n);
    pt.map(va + 0x1000n, RAM + 0x2000n);
    pt.map(va + 0x2000n, RAM + 0x9000n);
    fill(RAM + 0x5f00n, 0x100, 1);
    fill(RAM + 0x2000n, 0x1000, 1 + 0x100);
    fill(RAM + 0x9000n, 0x80, 1 + 0x1100);
    const r = copyFromGuest(ctx, va + 0xf00n, 0x1180);
    expect(r).toEqual({ ok: true, bytes: pattern(0x1180, 1) });
    expect(copyToGuest(ctx, va + 0xff8n, pattern(16, 0x40))).toEqual({ ok: true });
    expect(copyFromGuest(ctx, va + 0xff8n, 16)).toEqual({ ok: true, bytes: pattern(16, 0x40) });
    expect(Array.from(ctx.ram.read(Number(RAM) + 0x5ff8, 8)!)).toEqual(Array.from(pattern(8, 0x40)));
    expect(Array.from(ctx.ram.read(Number(RAM) + 0x2000, 8)!)).toEqual(Array.from(pattern(8, 0x48)));
  });

  it('stop at the first page that does not translate; copy-to keeps the pages before it', () => {
    const { pt, ctx, ram } = setup();
    pt.map(0x10000n, RAM + 0x10000n);
    pt.map(0x12000n, RAM + 0x12000n); // 0x11000 is a hole
    expect(copyFromGuest(ctx, 0x10ff0n, 0x2000)).toEqual({ ok: false, copied: 0x10 });
    expect(copyToGuest(ctx, 0x10ff0n, new Uint8Array(0x2000).fill(0xaa))).toEqual({ ok: false, copied: 0x10 });
    expect(Array.from(ram.read(Number(RAM) + 0x10fec, 0x18)!)).toEqual([0, 0, 0, 0, ...new Array(0x10).fill(0xaa), 0, 0, 0, 0]);
    expect(ram.readU8(Number(RAM) + 0x12000)).toBe(0); // nothing past the hole
  });

  it('a page mapped outside RAM stops the copy like a fault', () => {
    const { pt, ctx } = setup();
    pt.map(0x10000n, RAM);
    pt.map(0x11000n, 0x0900_0000n); // device space, not RAM
    expect(copyFromGuest(ctx, 0x10800n, 0x1000)).toEqual({ ok: false, copied: 0x800 });
  });

  it('reads need EL1 read permission, writes EL1 write permission; AF=0 fails both', () => {
    const { pt, ctx } = setup();
    pt.map(0x10000n, RAM, 3, { ap: 2 }); // EL1 read-only
    pt.map(0x11000n, RAM, 3, { ap: 1 }); // EL0 RW: EL1 RW too
    pt.map(0x12000n, RAM, 3, { af: false });
    expect(copyFromGuest(ctx, 0x10000n, 8).ok).toBe(true);
    expect(copyToGuest(ctx, 0x10000n, new Uint8Array(8))).toEqual({ ok: false, copied: 0 });
    expect(copyToGuest(ctx, 0x11000n, new Uint8Array(8))).toEqual({ ok: true });
    expect(copyFromGuest(ctx, 0x12000n, 8)).toEqual({ ok: false, copied: 0 });
  });

  it('with a 64K granule', () => {
    const { pt, ctx, fill } = setup(16);
    pt.map(0x3_0000n, RAM + 0x20_0000n);
    pt.map(0x4_0000n, RAM + 0x10_0000n);
    fill(RAM + 0x20_fff0n, 0x10, 3);
    fill(RAM + 0x10_0000n, 0x10, 3 + 0x10);
    expect(copyFromGuest(ctx, 0x3_fff0n, 0x20)).toEqual({ ok: true, bytes: pattern(0x20, 3) });
  });
});

describe('the last-page cache', () => {
  it('hits within a page and misses when the snapshot changes', () => {
    const { phys, pt, ctx, fill } = setup();
    const pt2 = new TableBuilder(phys, 12, 48, RAM + 0x60_0000n);
    pt.map(0x10000n, RAM + 0x1000n);
    pt2.map(0x10000n, RAM + 0x2000n);
    fill(RAM + 0x1000n, 4, 0x10);
    fill(RAM + 0x2000n, 4, 0x20);
    ctx.cache = new GuestPageCache();
    expect(copyFromGuest(ctx, 0x10000n, 4)).toEqual({ ok: true, bytes: pattern(4, 0x10) });
    expect(copyFromGuest(ctx, 0x10000n, 4)).toEqual({ ok: true, bytes: pattern(4, 0x10) });
    expect(ctx.cache.hits).toBe(1);
    ctx.regs = { ...ctx.regs, ttbr0: pt2.root };
    expect(copyFromGuest(ctx, 0x10000n, 4)).toEqual({ ok: true, bytes: pattern(4, 0x20) });
    expect(ctx.cache.hits).toBe(1);
  });

  it('a read-only page cached by a read does not let a write through', () => {
    const { pt, ctx } = setup();
    pt.map(0x10000n, RAM, 3, { ap: 2 });
    ctx.cache = new GuestPageCache();
    expect(copyFromGuest(ctx, 0x10000n, 4).ok).toBe(true);
    expect(copyToGuest(ctx, 0x10000n, new Uint8Array(4))).toEqual({ ok: false, copied: 0 });
  });

  it('invalidate() forgets a page the guest has since unmapped', () => {
    const { pt, ctx } = setup();
    const at = pt.map(0x10000n, RAM);
    ctx.cache = new GuestPageCache();
    expect(copyFromGuest(ctx, 0x10000n, 4).ok).toBe(true);
    pt.mem.write64(at, 0n);
    ctx.cache.invalidate();
    expect(copyFromGuest(ctx, 0x10000n, 4)).toEqual({ ok: false, copied: 0 });
  });
});
