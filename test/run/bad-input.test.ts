// Bad input gets a clear error and loses nothing: every case ends the run with exit 2 and a
// message that names the file and what is wrong.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenvm-bad-'));
const write = (name: string, bytes: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
const hello = image('xenvm-gicv2', 'hello');
const helloElf = image('xenvm-gicv2', 'hello', 'elf');
const dtb = join(hello, '..', 'board.dtb');

describe('bad images', () => {
  it('a missing file', async () => {
    const r = await runImages({ images: [join(dir, 'nope.img')] });
    expect(r.exitCode).toBe(2);
    expect(r.message).toBe(`cannot read image '${join(dir, 'nope.img')}': no such file`);
  });

  it('a truncated ELF', async () => {
    const p = write('truncated.elf', readFileSync(helloElf).subarray(0, 100));
    const r = await runImages({ images: [p], dtb });
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/^d1 \(.*truncated\.elf\): .*truncated|beyond the end/i);
  });

  it('wrong magic', async () => {
    const p = write('garbage.img', new TextEncoder().encode('this is not a kernel image at all, really not: '.repeat(4)));
    const r = await runImages({ images: [p], dtb });
    expect(r.exitCode).toBe(2);
    expect(r.message).toContain('not an ELF64 AArch64 executable or arm64 Image');
  });

  it('an image larger than guest RAM', async () => {
    const img = new Uint8Array(readFileSync(hello));
    const big = new Uint8Array(3 * 1024 * 1024);
    big.set(img);
    // image_size (u64 at 16) says how much RAM the Image needs.
    new DataView(big.buffer).setBigUint64(16, BigInt(big.length), true);
    const p = write('big.img', big);
    const r = await runImages({ images: [p], dtb, memoryMiB: 2 });
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/^d1 \(.*big\.img\): image needs \d+ bytes at 0x40000000, guest RAM is 2097152 bytes/);
  });

  it('a devicetree that is not one', async () => {
    const p = write('bad.dtb', new Uint8Array(64));
    const r = await runImages({ images: [hello], dtb: p });
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/^d1: devicetree .*bad\.dtb: .*magic/);
  });

  it('a --gic that contradicts the devicetree', async () => {
    const r = await runImages({ images: [hello], gic: 3 });
    expect(r.exitCode).toBe(2);
    expect(r.message).toContain('--gic 3 asked, but');
    expect(r.message).toContain('describes a GICv2');
  });

  it('no images at all', async () => {
    const r = await runImages({ images: [] });
    expect(r.exitCode).toBe(2);
    expect(r.message).toBe('no images given');
  });
});

describe('--memory', () => {
  it('resizes the RAM the guest gets, and the devicetree says so', async () => {
    const r = await runImages({ images: [image('xenvm-gicv2', 'hello')], memoryMiB: 128 });
    expect(r.exitCode).toBe(0);
  });
});
