// A guest booted the way Xen 4.17 boots a dom0less kernel: a gzip-compressed arm64 Image,
// an initrd and a command line. The guest (firmware/apps/dtb-dump) prints x0 at entry and the
// devicetree it finds there; the test reads /chosen back from what the guest printed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { parseFdt } from '../../src/machine/fdt/fdt.ts';
import { findByPath } from '../../src/machine/fdt/props.ts';
import { image } from '../helpers/firmware.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenvm-boot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, bytes: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
const dtbDump = readFileSync(image('xenvm-gicv2', 'dtb-dump'));
// No board.dtb beside these files: the run takes the default board (xenvm-gicv2).
const vmlinuz = write('vmlinuz', gzipSync(dtbDump));
const initrdBytes = new Uint8Array(3_000_000).map((_, i) => (i * 31) >>> 3);
const initrd = write('initramfs.cpio.gz', initrdBytes);
const CMDLINE = 'console=ttyAMA0 earlycon=pl011,0x22000000';

/** The devicetree a domain printed ("dtb: <hex>" lines), and the x0 it reported. */
function guestView(lines: string[], prefix: string) {
  const mine = lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  const x0 = Number(/^dtb_addr: (0x[0-9a-f]+)$/.exec(mine.find((l) => l.startsWith('dtb_addr:')) ?? '')?.[1]);
  const hex = mine.filter((l) => l.startsWith('dtb: ')).map((l) => l.slice(5)).join('');
  const fdt = parseFdt(Buffer.from(hex, 'hex'));
  if (!fdt.ok) throw new Error(fdt.error);
  const chosen = findByPath(fdt.value, '/chosen')!;
  const memory = findByPath(fdt.value, '/memory')!;
  const u64 = (name: string) => {
    const b = chosen.props.get(name);
    return b && new DataView(b.buffer, b.byteOffset).getBigUint64(0);
  };
  const reg = new DataView(memory.props.get('reg')!.buffer, memory.props.get('reg')!.byteOffset);
  return {
    x0,
    bootargs: chosen.props.has('bootargs') ? new TextDecoder().decode(chosen.props.get('bootargs')).replace(/\0$/, '') : undefined,
    initrdStart: u64('linux,initrd-start'),
    initrdEnd: u64('linux,initrd-end'),
    memory: [reg.getBigUint64(0), reg.getBigUint64(8)],
  };
}

describe('booting like a dom0less Linux kernel', () => {
  it('run --memory 256 --initrd --cmdline vmlinuz: x0, /chosen and /memory as under Xen 4.17', async () => {
    const r = await runImages({ images: [vmlinuz], memoryMiB: 256, initrd, cmdline: CMDLINE });
    expect(r.exitCode).toBe(0);
    expect(guestView(r.lines, 'd1: ')).toEqual({
      x0: 0x48000000,
      bootargs: CMDLINE,
      initrdStart: 0x48200000n,
      initrdEnd: 0x48200000n + 3_000_000n,
      memory: [0x40000000n, 256n << 20n],
    });
  });

  it('per-domain initrd= and cmdline= override the run-wide ones', async () => {
    const small = write('small.cpio', new Uint8Array(5000).fill(1));
    const r = await runImages({
      images: [vmlinuz, vmlinuz],
      initrd,
      cmdline: CMDLINE,
      domainOptions: [`d2,memory=64,initrd=${small},cmdline=root=/dev/ram0,rw`],
    });
    expect(r.exitCode).toBe(0);
    // d1: the board's 64 MiB, 6 MiB of modules at the top of RAM.
    expect(guestView(r.lines, 'd1: ')).toMatchObject({ x0: 0x43a00000, bootargs: CMDLINE, initrdStart: 0x43c00000n, initrdEnd: 0x43c00000n + 3_000_000n });
    expect(guestView(r.lines, 'd2: ')).toMatchObject({ x0: 0x43c00000, bootargs: 'root=/dev/ram0,rw', initrdStart: 0x43e00000n, initrdEnd: 0x43e00000n + 5000n });
  });

  it('bad boot inputs end the run with exit 2 and say what is wrong', async () => {
    const corrupt = Buffer.from(gzipSync(dtbDump));
    corrupt[corrupt.length - 6] ^= 0xff;
    const r1 = await runImages({ images: [write('corrupt.gz', corrupt)] });
    expect(r1.exitCode).toBe(2);
    expect(r1.message).toBe(`d1 (${join(dir, 'corrupt.gz')}): gzip-compressed kernel is corrupt: incorrect data check`);
    const r2 = await runImages({ images: [vmlinuz], initrd: join(dir, 'none.cpio') });
    expect(r2.exitCode).toBe(2);
    expect(r2.message).toBe(`d1: cannot read initrd '${join(dir, 'none.cpio')}': no such file`);
    const r3 = await runImages({ images: [vmlinuz], memoryMiB: 4, initrd });
    expect(r3.exitCode).toBe(2);
    expect(r3.message).toMatch(/not enough guest RAM \(4 MiB\) for the kernel .* and the devicetree and initrd \(6 MiB rounded to 2 MiB\); raise --memory$/);
  });
});

describe('guest RAM costs the host only what the guest touches', () => {
  it('a 3 GiB domain adds far less than 3 GiB to the resident set', async () => {
    // Node's ArrayBuffer memory comes from calloc, which maps large blocks lazily (measured on
    // Node 20 / Linux: RSS 41 MiB before and after new Uint8Array(256 MiB) or (3 GiB); touching
    // 16 MiB of it adds 16 MiB). The engine maps the same buffer with uc_mem_map_ptr.
    const before = process.memoryUsage().rss;
    const r = await runImages({ images: [vmlinuz], memoryMiB: 3072, initrd });
    expect(r.exitCode).toBe(0);
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(512 << 20);
  });
});
