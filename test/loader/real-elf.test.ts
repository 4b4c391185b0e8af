/**
 * Loads an ELF built by the real cross toolchain and checks the result against binutils:
 * the bytes in guest RAM against `objcopy -O binary`, the symbols against `nm`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { loadImage } from '../../src/machine/loader/load.ts';

const CROSS = process.env.CROSS_COMPILE ?? 'aarch64-linux-gnu-';
const haveGcc = spawnSync(`${CROSS}gcc`, ['--version']).status === 0;

const SRC = `
volatile unsigned long counter = 5;
unsigned long table[64];          /* .bss */
__attribute__((noinline)) static int helper(int x) { return x * 3 + (int)counter; }
int compute(int n) { int s = 0; for (int i = 0; i < n; i++) s += helper(i); table[n & 63] = s; return s; }
void _start(void) { compute(10); for (;;) __asm__ volatile("wfi"); }
`;

const LDS = `
SECTIONS {
  . = 0x40080000;
  .text : { *(.text*) }
  .rodata : { *(.rodata*) }
  .data : { *(.data*) }
  .bss : { *(.bss*) *(COMMON) }
  /DISCARD/ : { *(.comment) *(.note*) }
}
`;

describe.skipIf(!haveGcc)('real aarch64 ELF', () => {
  const dir = mkdtempSync(join(tmpdir(), 'real-elf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    return r.stdout;
  };

  it('loads like objcopy and reads the same symbols as nm', () => {
    writeFileSync(join(dir, 'g.c'), SRC);
    // A linker script like bare-metal firmware uses: sections packed from the load address.
    writeFileSync(join(dir, 'g.ld'), LDS);
    run(`${CROSS}gcc`, [
      '-O1', '-ffreestanding', '-nostdlib', '-static', '-mgeneral-regs-only', '-fno-pie', '-no-pie',
      '-fno-asynchronous-unwind-tables', '-Wl,--build-id=none', '-T', 'g.ld', '-e', '_start', '-o', 'g.elf', 'g.c',
    ]);
    run(`${CROSS}objcopy`, ['-O', 'binary', 'g.elf', 'g.bin']);
    const elf = new Uint8Array(readFileSync(join(dir, 'g.elf')));
    const flat = new Uint8Array(readFileSync(join(dir, 'g.bin')));

    const mem = new GuestMemory(0x40000000, 64 << 20);
    const r = loadImage(elf, mem);
    if (!r.ok) throw new Error(r.error);
    const img = r.value;

    const nmOut = run(`${CROSS}nm`, ['-n', '-S', '--defined-only', 'g.elf']);
    const nmSyms = new Map<string, { addr: number; size: number }>();
    for (const line of nmOut.trim().split('\n')) {
      const f = line.trim().split(/\s+/);
      const [addr, size, , name] = f.length === 4 ? f : [f[0], '0', f[1], f[2]];
      nmSyms.set(name, { addr: parseInt(addr, 16), size: parseInt(size, 16) });
    }
    for (const name of ['_start', 'compute', 'helper', 'counter', 'table']) {
      const mine = img.symbols.find((s) => s.name === name);
      expect(mine, name).toEqual({ name, ...nmSyms.get(name)! });
    }
    expect(img.entry).toBe(nmSyms.get('_start')!.addr);

    // objcopy -O binary dumps from the lowest loaded address; BSS is not in it.
    expect(img.start).toBe(0x40080000);
    expect(mem.read(img.start, flat.length)).toEqual(flat);
    const table = nmSyms.get('table')!;
    expect(table.addr + table.size).toBeLessThanOrEqual(img.end);
    expect(img.symbolize(nmSyms.get('compute')!.addr + 8)).toBe('compute+0x8');
    expect(img.warnings).toEqual([]);
  });
});

/** The project firmware ships each app as both .elf and .img (objcopy'd with an Image header). */
const FW = join(import.meta.dirname, '../../firmware/build/xenvm-gicv3');
const haveFw = existsSync(join(FW, 'hello.elf')) && existsSync(join(FW, 'hello.img'));

describe.skipIf(!haveFw)('project firmware', () => {
  it('hello.elf and hello.img put the same bytes at the same place', () => {
    const load = (f: string) => {
      const mem = new GuestMemory(0x40000000, 64 << 20);
      const r = loadImage(new Uint8Array(readFileSync(join(FW, f))), mem);
      if (!r.ok) throw new Error(r.error);
      return { mem, img: r.value };
    };
    const elf = load('hello.elf');
    const image = load('hello.img');
    expect(image.img.format).toBe('arm64-image');
    expect(image.img.entry).toBe(0x40000000);
    expect([image.img.start, image.img.end]).toEqual([elf.img.start, elf.img.end]);
    expect(elf.img.entry).toBe(image.img.entry);
    const len = elf.img.end - elf.img.start;
    expect(Buffer.from(image.mem.read(image.img.start, len)!).equals(Buffer.from(elf.mem.read(elf.img.start, len)!))).toBe(true);
    expect(elf.img.symbolize(elf.img.entry)).toBe('_start+0x0');
  });
});
