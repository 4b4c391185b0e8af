import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { loadImage } from '../../src/machine/loader/load.ts';
import { readImageFile } from '../../src/machine/loader/read-file.ts';
import { symbolize } from '../../src/machine/loader/symbols.ts';
import { buildArm64Image, buildElf } from './elf-writer.ts';

const RAM_BASE = 0x40000000;
const MiB = 1 << 20;
const ram = (size = 64 * MiB) => new GuestMemory(RAM_BASE, size);
const bytes = (...b: number[]) => new Uint8Array(b);

function must<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('ELF loader', () => {
  const code = bytes(0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6); // nop; ret
  const data = bytes(1, 2, 3, 4);

  it('loads PT_LOAD segments at p_paddr, zero-fills memsz, and keeps e_entry', () => {
    const mem = ram();
    mem.bytes.fill(0xaa); // stale contents that BSS must not inherit
    const elf = buildElf({
      entry: 0x40000004,
      segments: [
        { paddr: 0x40000000, data: code },
        { paddr: 0x40010000, data, memsz: 0x20 },
        { paddr: 0x40020000, data: bytes(9), type: 4 /* PT_NOTE: not loaded */ },
      ],
    });
    const img = must(loadImage(elf, mem));
    expect(img.format).toBe('elf');
    expect(img.entry).toBe(0x40000004);
    expect(img.start).toBe(0x40000000);
    expect(img.end).toBe(0x40010020);
    expect(img.regions.map((r) => r.label)).toEqual(['segment 0', 'segment 1']);
    expect(mem.read(0x40000000, 8)).toEqual(code);
    expect(mem.read(0x40010000, 4)).toEqual(data);
    expect(mem.read(0x40010004, 0x1c)).toEqual(new Uint8Array(0x1c)); // BSS zeroed
    expect(mem.readU8(0x40010020)).toBe(0xaa); // nothing beyond memsz touched
    expect(mem.readU8(0x40020000)).toBe(0xaa); // PT_NOTE not loaded
  });

  it('loads at p_paddr, not p_vaddr, when they differ', () => {
    const mem = ram();
    const img = must(loadImage(buildElf({ entry: 0x40100000, segments: [{ paddr: 0x40100000, vaddr: 0x80000000, data: code }] }), mem));
    expect(img.start).toBe(0x40100000);
    expect(mem.read(0x40100000, 8)).toEqual(code);
  });

  it('reads .symtab into a sorted list and symbolizes addresses', () => {
    const elf = buildElf({
      entry: 0x40000000,
      segments: [{ paddr: 0x40000000, data: new Uint8Array(0x100) }],
      symbols: [
        { name: 'main', addr: 0x40000040, size: 0x20 },
        { name: '_start', addr: 0x40000000, size: 0, kind: 0 },
        { name: 'counter', addr: 0x40000080, size: 8, kind: 1 },
        { name: '$x', addr: 0x40000000, size: 0, kind: 0 }, // mapping symbol: dropped
        { name: 'undefined_ext', addr: 0, size: 0, shndx: 0 }, // SHN_UNDEF: dropped
        { name: 'sec', addr: 0x40000000, size: 0, kind: 3 }, // STT_SECTION: dropped
      ],
    });
    const img = must(loadImage(elf, ram()));
    expect(img.warnings).toEqual([]);
    expect(img.symbols).toEqual([
      { name: '_start', addr: 0x40000000, size: 0 },
      { name: 'main', addr: 0x40000040, size: 0x20 },
      { name: 'counter', addr: 0x40000080, size: 8 },
    ]);
    expect(img.symbolize(0x40000000)).toBe('_start+0x0');
    expect(img.symbolize(0x4000003c)).toBe('_start+0x3c'); // unsized label runs to the next symbol
    expect(img.symbolize(0x40000054)).toBe('main+0x14');
    expect(img.symbolize(0x40000060)).toBe('0x40000060'); // past main's size, before counter
    expect(img.symbolize(0x40000084)).toBe('counter+0x4');
    expect(img.symbolize(0x3fffffff)).toBe('0x3fffffff');
  });

  it('symbolizes a label inside a sized function as the label', () => {
    const syms = [
      { name: 'f', addr: 0x100, size: 0x40 },
      { name: 'f_loop', addr: 0x110, size: 0 },
      { name: 'g', addr: 0x200, size: 4 },
    ];
    expect(symbolize(syms, 0x114)).toBe('f_loop+0x4');
    expect(symbolize(syms, 0x108)).toBe('f+0x8');
    expect(symbolize([], 0x10)).toBe('0x10');
  });

  const mkElf = () => buildElf({ entry: 0x40000000, segments: [{ paddr: 0x40000000, data: code }] });

  it('rejects a truncated ELF header', () => {
    expect(loadImage(mkElf().subarray(0, 40), ram())).toEqual({
      ok: false,
      error: 'ELF truncated: file is 40 bytes, the ELF64 header needs 64',
    });
  });

  it('rejects a truncated program header table', () => {
    expect(loadImage(mkElf().subarray(0, 100), ram())).toEqual({
      ok: false,
      error: 'ELF truncated: program header table [0x40,0x78) extends past end of file (100 bytes)',
    });
  });

  it('rejects a segment whose file bytes run past the end of the file', () => {
    expect(loadImage(mkElf().subarray(0, 0x7c), ram())).toEqual({
      ok: false,
      error: 'ELF truncated: segment 0 file bytes [0x78,0x80) extend past end of file (124 bytes)',
    });
  });

  it('rejects the wrong class, endianness, machine and type', () => {
    const seg = [{ paddr: 0x40000000, data: code }];
    expect(loadImage(buildElf({ entry: 0, segments: seg, eiClass: 1 }), ram())).toEqual({
      ok: false,
      error: 'ELF class 1 (ELFCLASS32) is not ELFCLASS64: only 64-bit AArch64 executables are supported',
    });
    expect(loadImage(buildElf({ entry: 0, segments: seg, eiData: 2 }), ram())).toEqual({
      ok: false,
      error: 'ELF data encoding 2 (ELFDATA2MSB, big-endian) is not ELFDATA2LSB: only little-endian AArch64 is supported',
    });
    expect(loadImage(buildElf({ entry: 0, segments: seg, machine: 62 }), ram())).toEqual({
      ok: false,
      error: 'ELF machine 62 (EM_X86_64) is not EM_AARCH64 (183)',
    });
    expect(loadImage(buildElf({ entry: 0, segments: seg, type: 3 }), ram())).toEqual({
      ok: false,
      error: 'ELF type 3 (ET_DYN) is not ET_EXEC: only statically linked executables are loaded',
    });
  });

  it('rejects p_filesz > p_memsz', () => {
    const elf = buildElf({ entry: 0x40000000, segments: [{ paddr: 0x40000000, data: code, memsz: 4 }] });
    expect(loadImage(elf, ram())).toEqual({ ok: false, error: 'ELF segment 0: p_filesz 0x8 is larger than p_memsz 0x4' });
  });

  it('rejects a segment outside guest RAM and leaves memory untouched', () => {
    const mem = ram();
    const elf = buildElf({
      entry: 0x40100000,
      segments: [
        { paddr: 0x40100000, data: code },
        { paddr: 0x44000000 - 4, data },
        { paddr: 0x43fffff0, data, memsz: 0x20 },
      ],
    });
    expect(loadImage(elf, mem)).toEqual({
      ok: false,
      error: 'segment 2 [0x43fffff0,0x44000010) is outside guest RAM [0x40000000,0x44000000)',
    });
    expect(Buffer.from(mem.bytes).equals(Buffer.alloc(mem.size))).toBe(true);
    const below = buildElf({ entry: 0x40000000, segments: [{ paddr: 0x3ffff000, data }] });
    expect(loadImage(below, mem)).toEqual({
      ok: false,
      error: 'segment 0 [0x3ffff000,0x3ffff004) is outside guest RAM [0x40000000,0x44000000)',
    });
  });

  it('rejects an image larger than RAM', () => {
    const elf = buildElf({ entry: 0x40000000, segments: [{ paddr: 0x40000000, data: code, memsz: 0x5000000 }] });
    expect(loadImage(elf, ram())).toEqual({
      ok: false,
      error: 'image needs 83886080 bytes at 0x40000000, guest RAM is 67108864 bytes',
    });
  });

  it('rejects an entry point outside RAM', () => {
    const elf = buildElf({ entry: 0x1000, segments: [{ paddr: 0x40000000, data: code }] });
    expect(loadImage(elf, ram())).toEqual({ ok: false, error: 'entry point 0x1000 is outside guest RAM [0x40000000,0x44000000)' });
  });

  it('rejects overlap with a reserved range', () => {
    const elf = buildElf({ entry: 0x40000000, segments: [{ paddr: 0x40000000, data: code, memsz: 0x300000 }] });
    const reserve = [{ base: 0x40200000, size: 0x200000, what: 'devicetree' }];
    expect(loadImage(elf, ram(), { reserve })).toEqual({
      ok: false,
      error: 'segment 0 [0x40000000,0x40300000) overlaps the devicetree at [0x40200000,0x40400000)',
    });
    expect(loadImage(elf, ram(), { reserve: [{ base: 0x40300000, size: 0x1000, what: 'devicetree' }] }).ok).toBe(true);
  });

  it('keeps loading when the symbol table is damaged, with a warning', () => {
    const elf = buildElf({ entry: 0x40000000, segments: [{ paddr: 0x40000000, data: code }], symbols: [{ name: 'x', addr: 0x40000000, size: 4 }] });
    const dv = new DataView(elf.buffer);
    const shoff = Number(dv.getBigUint64(40, true));
    dv.setBigUint64(shoff + 2 * 64 + 56, 23n, true); // .symtab sh_entsize
    const img = must(loadImage(elf, ram()));
    expect(img.symbols).toEqual([]);
    expect(img.warnings).toEqual(['symbol table ignored: .symtab sh_entsize 23 is not 24']);
  });
});

describe('arm64 Image loader', () => {
  const body = bytes(0xde, 0xad, 0xbe, 0xef);

  it('loads at RAM base + text_offset; entry is the load address; image_size beyond the file is zeroed', () => {
    const mem = ram();
    mem.bytes.fill(0x55);
    const img = must(loadImage(buildArm64Image({ textOffset: 0x200000, imageSize: 0x100, body }), mem));
    expect(img).toMatchObject({ format: 'arm64-image', entry: 0x40200000, start: 0x40200000, end: 0x40200100, warnings: [] });
    expect(mem.readU32(0x40200000 + 56)).toBe(0x644d5241);
    expect(mem.read(0x40200040, 4)).toEqual(body);
    expect(mem.read(0x40200044, 0x100 - 0x44)).toEqual(new Uint8Array(0x100 - 0x44));
    expect(mem.readU8(0x40200100)).toBe(0x55);
    expect(img.symbolize(0x40200000)).toBe('0x40200000');
  });

  it('with image_size 0 follows Xen (text_offset as written) and warns; linux-legacy uses 0x80000', () => {
    const image = buildArm64Image({ textOffset: 0, imageSize: 0, body });
    const xen = must(loadImage(image, ram()));
    expect(xen.entry).toBe(0x40000000);
    expect(xen.warnings).toEqual([
      'arm64 Image has image_size 0 (pre-3.17 header); loading at text_offset 0x0 as written, like Xen 4.17 (booting.rst would allow assuming 0x80000)',
    ]);
    const linux = must(loadImage(image, ram(), { imageSizeZero: 'linux-legacy' }));
    expect(linux.entry).toBe(0x40080000);
  });

  it('rejects an image larger than RAM', () => {
    expect(loadImage(buildArm64Image({ textOffset: 0, imageSize: 0x5000000, body }), ram())).toEqual({
      ok: false,
      error: 'image needs 83886080 bytes at 0x40000000, guest RAM is 67108864 bytes',
    });
  });

  it('rejects an image pushed past the end of RAM by text_offset', () => {
    expect(loadImage(buildArm64Image({ textOffset: 0x3fff000, imageSize: 0x2000, body }), ram())).toEqual({
      ok: false,
      error: 'image [0x43fff000,0x44001000) is outside guest RAM [0x40000000,0x44000000)',
    });
  });

  it('rejects a big-endian Image', () => {
    expect(loadImage(buildArm64Image({ textOffset: 0, imageSize: 0x1000, flags: 0xb, body }), ram())).toEqual({
      ok: false,
      error: 'arm64 Image flags 0xb say this is a big-endian kernel (bit 0); Xen enters guests little-endian, so only little-endian kernels can boot',
    });
  });

  it('rejects anything else with the magic it saw', () => {
    const pe = new Uint8Array(64);
    pe.set([0x4d, 0x5a, 0x90, 0x00]);
    expect(loadImage(pe, ram())).toEqual({
      ok: false,
      error:
        'not an ELF64 AArch64 executable or arm64 Image (magic 4d 5a 90 00 at offset 0x0, 00 00 00 00 at offset 0x38; expected 7f 45 4c 46 or 41 52 4d 64 ("ARM\\x64") at 0x38)',
    });
    expect(loadImage(bytes(1, 2), ram())).toEqual({
      ok: false,
      error: 'not an ELF64 AArch64 executable or arm64 Image (file is only 2 bytes)',
    });
  });
});

describe('readImageFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loader-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses devices, FIFOs and oversized files before opening them (no hang, no unbounded read)', () => {
    expect(readImageFile('/dev/zero')).toEqual({ ok: false, error: `cannot read image '/dev/zero': not a regular file (a character device)` });
    expect(readImageFile('/dev/urandom', 'devicetree')).toEqual({
      ok: false,
      error: `cannot read devicetree '/dev/urandom': not a regular file (a character device)`,
    });
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(readImageFile(fifo)).toEqual({ ok: false, error: `cannot read image '${fifo}': not a regular file (a FIFO)` });
    writeFileSync(join(dir, 'big.img'), new Uint8Array(4097));
    expect(readImageFile(join(dir, 'big.img'), 'image', 4096)).toEqual({
      ok: false,
      error: `cannot read image '${join(dir, 'big.img')}': too large: 4097 bytes, limit 4096`,
    });
  });

  it('reads a file', () => {
    writeFileSync(join(dir, 'a.img'), bytes(1, 2, 3));
    expect(readImageFile(join(dir, 'a.img'))).toEqual({ ok: true, value: bytes(1, 2, 3) });
  });

  it('names the path and the reason on failure', () => {
    expect(readImageFile(join(dir, 'x.img'))).toEqual({ ok: false, error: `cannot read image '${join(dir, 'x.img')}': no such file` });
    expect(readImageFile(dir)).toEqual({ ok: false, error: `cannot read image '${dir}': not a regular file (a directory)` });
    writeFileSync(join(dir, 'empty.img'), new Uint8Array(0));
    expect(readImageFile(join(dir, 'empty.img'), 'devicetree')).toEqual({
      ok: false,
      error: `cannot read devicetree '${join(dir, 'empty.img')}': file is empty`,
    });
  });

  it.skipIf(process.getuid?.() === 0)('reports permission problems', () => {
    const f = join(dir, 'locked.img');
    writeFileSync(f, bytes(1));
    chmodSync(f, 0);
    expect(readImageFile(f)).toEqual({ ok: false, error: `cannot read image '${f}': permission denied` });
  });
});
