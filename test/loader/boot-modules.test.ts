// Kernel, devicetree and initrd in guest RAM (src/machine/loader/boot.ts and what it uses):
// arm64 Image headers, gzip kernels, /chosen, and the whole layout on plain memory.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { parseArm64ImageHeader } from '../../src/machine/loader/arm64-image.ts';
import { gunzipBounded } from '../../src/machine/loader/gunzip.ts';
import { loadImage } from '../../src/machine/loader/load.ts';
import { applyChosen } from '../../src/machine/loader/chosen.ts';
import { loadBootModules } from '../../src/machine/loader/boot.ts';
import { parseFdt, type FdtNode } from '../../src/machine/fdt/fdt.ts';
import { findByPath } from '../../src/machine/fdt/props.ts';
import { buildArm64Image } from './elf-writer.ts';
import { cellsOf, str, writeFdt, type WNode } from '../fdt/fdt-writer.ts';

const MiB = 1024 * 1024;
const RAM_BASE = 0x40000000;
const ram = (mib = 64) => new GuestMemory(RAM_BASE, mib * MiB);
const body = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);

function must<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('arm64 Image header', () => {
  it('decodes text_offset, image_size and the flags (LE, page size, placement bit 3)', () => {
    expect(must(parseArm64ImageHeader(buildArm64Image({ textOffset: 0x80000, imageSize: 0x1000, flags: 0x2 | 8 })))).toEqual({
      textOffset: 0x80000,
      imageSize: 0x1000,
      flags: 0xan,
      pageSize: 4096,
      physAnywhere: true,
    });
    expect(must(parseArm64ImageHeader(buildArm64Image({ textOffset: 0, imageSize: 0x1000, flags: 0x6 }))).pageSize).toBe(65536);
    expect(must(parseArm64ImageHeader(buildArm64Image({ textOffset: 0, imageSize: 0x1000, flags: 0 }))).pageSize).toBeUndefined();
  });

  it('text_offset 0 and 0x80000 load at RAM base + text_offset', () => {
    expect(must(loadImage(buildArm64Image({ textOffset: 0, imageSize: 0x1000, body }), ram())).entry).toBe(0x40000000);
    expect(must(loadImage(buildArm64Image({ textOffset: 0x80000, imageSize: 0x1000, body }), ram())).entry).toBe(0x40080000);
  });

  it('image_size 0 (pre-3.17): the file length is the footprint and the flags are not read, as in Xen', () => {
    // 0x1 would be "big-endian" in a 3.17+ header; with image_size 0 the field means nothing.
    const img = must(loadImage(buildArm64Image({ textOffset: 0x80000, imageSize: 0, flags: 1, body }), ram()));
    expect(img).toMatchObject({ entry: 0x40080000, start: 0x40080000, end: 0x40080000 + 64 + body.length });
  });

  it('image_size reserves the BSS: the DTB goes above it, not over it', () => {
    const mem = ram(256);
    // A 68-byte file claiming 130 MiB: Xen 4.17 would put the DTB at +128 MiB, inside that BSS.
    const kernel = buildArm64Image({ textOffset: 0, imageSize: 130 * MiB, body });
    const boot = must(loadBootModules(mem, { kernel, dtb: boardDtb() }));
    expect(boot.image.end).toBe(RAM_BASE + 130 * MiB);
    expect(boot.dtbAddress).toBe(RAM_BASE + 254 * MiB);
  });

  it('refuses a big-endian kernel', () => {
    expect(loadImage(buildArm64Image({ textOffset: 0, imageSize: 0x1000, flags: 0x3, body }), ram())).toEqual({
      ok: false,
      error: 'arm64 Image flags 0x3 say this is a big-endian kernel (bit 0); Xen enters guests little-endian, so only little-endian kernels can boot',
    });
  });
});

describe('gzip-compressed kernels', () => {
  const image = buildArm64Image({ textOffset: 0x80000, imageSize: 0x2000, body });

  it('are inflated first, then loaded like the Image inside', () => {
    const mem = ram();
    const gz = gzipSync(image);
    const img = must(loadImage(gz, mem));
    expect(img).toMatchObject({ format: 'arm64-image', entry: 0x40080000, gzipSize: gz.length });
    expect(mem.read(0x40080000, image.length)).toEqual(image);
  });

  it('corrupt data is refused with what zlib saw', () => {
    const gz = gzipSync(new Uint8Array(64 * 1024).fill(7));
    gz[gz.length - 6] ^= 0xff; // CRC32 in the trailer
    expect(gunzipBounded(gz, MiB)).toEqual({ ok: false, error: 'gzip-compressed kernel is corrupt: incorrect data check' });
    const bad = gzipSync(image);
    bad[10] = 0xff; // first deflate block header: an invalid block type
    const r = loadImage(bad, ram());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^gzip-compressed kernel is corrupt: /);
  });

  it('a truncated file is refused as truncated', () => {
    const gz = gzipSync(new Uint8Array(64 * 1024).fill(7));
    expect(gunzipBounded(gz.subarray(0, gz.length - 40), MiB)).toEqual({
      ok: false,
      error: 'gzip-compressed kernel is truncated: the deflate stream ends early',
    });
    expect(gunzipBounded(gz.subarray(0, 12), MiB)).toEqual({
      ok: false,
      error: 'gzip-compressed kernel is truncated: 12 bytes, a gzip member needs at least 18',
    });
  });

  it('output is capped (a bomb costs at most the cap): by default the guest RAM', () => {
    const bomb = gzipSync(new Uint8Array(80 * MiB)); // ~80 KiB of gzip
    expect(bomb.length).toBeLessThan(MiB);
    expect(loadImage(bomb, ram(64))).toEqual({
      ok: false,
      error: "gzip-compressed kernel is too large: it inflates past the limit of 67108864 bytes (the guest's RAM)",
    });
    expect(gunzipBounded(bomb, 4 * MiB).ok).toBe(false);
  });

  it('inflating to something that is no kernel says it was compressed', () => {
    const r = loadImage(gzipSync(new Uint8Array(100)), ram());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^gzip-compressed kernel: not an ELF64 AArch64 executable or arm64 Image/);
  });
});

function boardDtb(chosen?: WNode): Uint8Array {
  const children: WNode[] = [
    { name: 'memory@40000000', props: [['device_type', str('memory')], ['reg', cellsOf(0, RAM_BASE, 0, 64 * MiB)]] },
  ];
  if (chosen) children.push(chosen);
  children.push({ name: 'psci', props: [['compatible', str('arm,psci-1.0')]] });
  return writeFdt({ name: '', props: [['#address-cells', cellsOf(2)], ['#size-cells', cellsOf(2)]], children }).blob;
}

function chosenOf(blob: Uint8Array) {
  const fdt = must(parseFdt(blob));
  return findByPath(fdt, '/chosen');
}
const u64 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getBigUint64(0) : undefined);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

describe('applyChosen', () => {
  const values = { bootargs: 'console=ttyAMA0 earlycon=pl011,0x22000000', initrd: { start: 0x48200000n, end: 0x484dc6c0n } };

  it('creates /chosen with bootargs and the initrd range (u64 cells) when the blob has none', () => {
    const out = must(applyChosen(boardDtb(), values));
    const c = chosenOf(out)!;
    expect(text(c.props.get('bootargs'))).toBe(values.bootargs + '\0');
    expect(c.props.get('linux,initrd-start')?.length).toBe(8);
    expect(u64(c.props.get('linux,initrd-start'))).toBe(0x48200000n);
    expect(u64(c.props.get('linux,initrd-end'))).toBe(0x484dc6c0n);
    // The rest of the tree is intact; the new node comes first, as in the trees Xen builds.
    const fdt = must(parseFdt(out));
    expect(fdt.root.children.map((n) => n.fullName)).toEqual(['chosen', 'memory@40000000', 'psci']);
  });

  it('keeps what /chosen has, replaces a property of the same name, and leaves child nodes alone', () => {
    const dtb = boardDtb({
      name: 'chosen',
      props: [['stdout-path', str('serial0')], ['bootargs', str('old')]],
      children: [{ name: 'module@0', props: [['bootargs', str('module args')]] }],
    });
    const c = chosenOf(must(applyChosen(dtb, values)))!;
    expect([...c.props.keys()]).toEqual(['stdout-path', 'bootargs', 'linux,initrd-start', 'linux,initrd-end']);
    expect(text(c.props.get('bootargs'))).toBe(values.bootargs + '\0');
    expect(text(c.children[0].props.get('bootargs'))).toBe('module args\0');
  });

  it('with nothing to add returns the blob unchanged; without bootargs writes only the initrd', () => {
    const dtb = boardDtb();
    expect(must(applyChosen(dtb, {}))).toBe(dtb);
    expect(must(applyChosen(dtb, { bootargs: '' }))).toBe(dtb);
    const c = chosenOf(must(applyChosen(dtb, { initrd: values.initrd })))!;
    expect([...c.props.keys()]).toEqual(['linux,initrd-start', 'linux,initrd-end']);
  });

  it('refuses a blob that is not a devicetree', () => {
    expect(applyChosen(new Uint8Array(64), values)).toEqual({ ok: false, error: 'devicetree: fdt: bad magic 0x0 at offset 0x0 (expected 0xd00dfeed)' });
  });
});

describe('loadBootModules', () => {
  it('writes kernel, DTB and initrd where Xen would, and names them in /chosen', () => {
    const mem = ram(256);
    const initrd = new Uint8Array(3_000_000).map((_, i) => i * 7);
    const kernel = buildArm64Image({ textOffset: 0, imageSize: 0x10000, body });
    const boot = must(loadBootModules(mem, { kernel, dtb: boardDtb(), initrd, cmdline: 'console=hvc0' }));
    expect(boot.dtbAddress).toBe(0x48000000);
    expect(boot.initrd).toEqual({ start: 0x48200000, end: 0x48200000 + 3_000_000 });
    expect(Buffer.from(mem.read(0x48200000, initrd.length)!).equals(initrd)).toBe(true); // (toEqual on 3 MB is slow)
    expect(mem.read(0x48000000, boot.dtb.length)).toEqual(boot.dtb);
    const c = chosenOf(boot.dtb)!;
    expect(text(c.props.get('bootargs'))).toBe('console=hvc0\0');
    expect(u64(c.props.get('linux,initrd-start'))).toBe(0x48200000n);
    expect(u64(c.props.get('linux,initrd-end'))).toBe(BigInt(0x48200000 + 3_000_000));
  });

  it('without initrd or cmdline writes the DTB unchanged (the old behaviour)', () => {
    const mem = ram(64);
    const dtb = boardDtb();
    const boot = must(loadBootModules(mem, { kernel: buildArm64Image({ textOffset: 0, imageSize: 0x1000, body }), dtb }));
    expect(boot.dtbAddress).toBe(0x43e00000);
    expect(boot.dtb).toBe(dtb);
    expect(boot.initrd).toBeUndefined();
  });

  it('reports an initrd that does not fit', () => {
    const r = loadBootModules(ram(8), { kernel: buildArm64Image({ textOffset: 0, imageSize: 0x1000, body }), dtb: boardDtb(), initrd: new Uint8Array(7 * MiB) });
    expect(r).toEqual({
      ok: false,
      error: 'not enough guest RAM (8 MiB) for the kernel (2 MiB rounded to 2 MiB) and the devicetree and initrd (10 MiB rounded to 2 MiB); raise --memory',
    });
  });
});

describe('applyChosen on arbitrary trees', () => {
  // Trees of a few nodes (some named chosen, at any depth), each with a few properties.
  const name = fc.constantFrom('chosen', 'memory@40000000', 'psci', 'uart@22000000', 'module@0');
  const prop = fc.tuple(fc.constantFrom('bootargs', 'compatible', 'linux,initrd-start', 'reg', 'x'), fc.uint8Array({ maxLength: 11 }));
  const node: fc.Memo<WNode> = fc.memo((d) =>
    fc.record({ name, props: fc.array(prop, { maxLength: 3 }), children: d > 1 ? fc.array(node(d - 1), { maxLength: 3 }) : fc.constant([]) }),
  );
  const tree = fc.record({ props: fc.array(prop, { maxLength: 2 }), children: fc.array(node(3), { maxLength: 4 }) });
  // Sizes from 1: an all-zero entry is the reservation block's terminator (devicetree spec 5.3),
  // so no blob can hold one as a reservation.
  const rsv = fc.array(fc.tuple(fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), fc.bigInt({ min: 1n, max: (1n << 20n) - 1n })), { maxLength: 2 });

  /** Every node's path -> its properties, except /chosen's own. */
  const others = (blob: Uint8Array) => {
    const out: Record<string, [string, number[]][]> = {};
    const walk = (n: FdtNode, path: string) => {
      if (path !== '/chosen') out[path + '#' + Object.keys(out).length] = [...n.props].map(([k, v]) => [k, [...v]]);
      n.children.forEach((c) => walk(c, `${path === '/' ? '' : path}/${c.fullName}`));
    };
    walk(must(parseFdt(blob)).root, '/');
    return out;
  };

  it('the result parses, /chosen holds exactly the new values, everything else is unchanged', () => {
    fc.assert(
      fc.property(tree, rsv, fc.string({ minLength: 1, maxLength: 40 }), fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), (t, reservations, bootargs, start) => {
        const blob = writeFdt({ name: '', ...t }, reservations).blob;
        const out = must(applyChosen(blob, { bootargs, initrd: { start, end: start + 5n } }));
        const fdt = must(parseFdt(out));
        expect(fdt.reservations).toEqual(reservations.map(([address, size]) => ({ address, size })));
        const c = findByPath(fdt, '/chosen')!;
        expect(c.props.get('bootargs')).toEqual(new TextEncoder().encode(bootargs + '\0'));
        expect(u64(c.props.get('linux,initrd-start'))).toBe(start);
        expect(u64(c.props.get('linux,initrd-end'))).toBe(start + 5n);
        // /chosen's other properties stay, in order; a replaced one keeps its place, new ones follow.
        const before = [...(findByPath(must(parseFdt(blob)), '/chosen')?.props.keys() ?? [])];
        const added = ['bootargs', 'linux,initrd-start', 'linux,initrd-end'].filter((k) => !before.includes(k));
        expect([...c.props.keys()]).toEqual([...before, ...added]);
        expect(others(out)).toEqual(others(blob));
      }),
      { numRuns: 300 },
    );
  });
});
