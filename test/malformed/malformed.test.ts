/**
 * Malformed inputs, as a table (issue 14): truncated and corrupt ELF and arm64 Image files,
 * devicetrees with a bad structure, cells, phandles or interrupts, huge and zero sizes, and bad
 * values for every option. Each must end with exit 2 and one line naming what is wrong (the
 * usage text may follow a usage error), never a stack trace. The commands run in-process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../src/cli/run.ts';
import { traceMain } from '../../src/cli/trace.ts';
import { referenceMain } from '../../src/cli/reference.ts';
import { diffMain } from '../../src/cli/diff.ts';
import { image } from '../helpers/firmware.ts';
import { inProcess } from '../helpers/cli-inprocess.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenvm-malformed-'));
const file = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};
const hello = image('xenvm-gicv2', 'hello');
const helloBytes = new Uint8Array(readFileSync(hello));
const elfBytes = new Uint8Array(readFileSync(image('xenvm-gicv2', 'hello', 'elf')));
const boardDtb = new Uint8Array(readFileSync(join(hello, '..', 'board.dtb')));

/** A copy of `b` with little-endian fields patched: [offset, bytes, value]. */
function patch(b: Uint8Array, edits: [number, 1 | 2 | 4 | 8, number | bigint][], be = false): Uint8Array {
  const c = new Uint8Array(b);
  const v = new DataView(c.buffer);
  for (const [off, n, val] of edits) {
    if (n === 1) v.setUint8(off, Number(val));
    else if (n === 2) v.setUint16(off, Number(val), !be);
    else if (n === 4) v.setUint32(off, Number(val), !be);
    else v.setBigUint64(off, BigInt(val), !be);
  }
  return c;
}

// ELF64 header fields (System V gABI): e_phoff 0x20, e_shoff 0x28, e_phentsize 0x36,
// e_phnum 0x38; program header: p_offset +8, p_paddr +0x18, p_filesz +0x20, p_memsz +0x28.
const elfPhoff = Number(new DataView(elfBytes.buffer).getBigUint64(0x20, true));
const ph = (field: number) => elfPhoff + field;

// The board's devicetree as source, varied per case and compiled with dtc.
const boardDts = execFileSync('dtc', ['-q', '-I', 'dtb', '-O', 'dts', join(hello, '..', 'board.dtb')], { encoding: 'utf8' });
function dts(name: string, edit: (s: string) => string): string {
  const src = edit(boardDts);
  if (src === boardDts) throw new Error(`${name}: the edit changed nothing`);
  const p = join(dir, `${name}.dtb`);
  execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', p], { input: src });
  return p;
}
// FDT header (Devicetree Specification 5.2): totalsize 4, off_dt_struct 8, off_dt_strings 12,
// off_mem_rsvmap 16, version 20, size_dt_strings 32, size_dt_struct 36 (big-endian).
const fdtHeader = (off: number) => new DataView(boardDtb.buffer).getUint32(off, false);
const structAt = fdtHeader(8);

type Case = [name: string, argv: () => string[], want: RegExp];

const imageCases: Case[] = [
  ['an empty file', () => [file('empty.img', new Uint8Array(0))], /empty|not an ELF64|too short|truncated/i],
  ['one byte', () => [file('one.img', new Uint8Array([0x7f]))], /not an ELF64|too short|truncated/i],
  ['an ELF cut inside its header', () => [file('elf-40.elf', elfBytes.subarray(0, 40))], /truncated|beyond the end|too short/i],
  ['an ELF cut inside its program headers', () => [file('elf-ph.elf', elfBytes.subarray(0, elfPhoff + 20))], /truncated|beyond the end/i],
  ['an ELF cut inside its segment', () => [file('elf-seg.elf', elfBytes.subarray(0, 0x1000 + 100))], /truncated|beyond the end/i],
  ['ELF class 32', () => [file('elf32.elf', patch(elfBytes, [[4, 1, 1]]))], /ELF64|class/i],
  ['ELF big-endian', () => [file('elf-be.elf', patch(elfBytes, [[5, 1, 2]]))], /endian|ELF64/i],
  ['ELF for another machine', () => [file('elf-x86.elf', patch(elfBytes, [[0x12, 2, 62]]))], /AArch64|machine/i],
  ['ELF program headers beyond the file', () => [file('elf-phoff.elf', patch(elfBytes, [[0x20, 8, 0xffff_ffff_0000n]]))], /program header|beyond|truncated/i],
  ['ELF with 65535 program headers', () => [file('elf-phnum.elf', patch(elfBytes, [[0x38, 2, 0xffff]]))], /program header|beyond|truncated/i],
  ['ELF with a bad program header size', () => [file('elf-phent.elf', patch(elfBytes, [[0x36, 2, 7]]))], /e_phentsize 7 is not 56/],
  ['ELF segment offset beyond the file', () => [file('elf-poff.elf', patch(elfBytes, [[ph(8), 8, 0x7fff_ffff_ffffn]]))], /segment|beyond|truncated/i],
  ['ELF segment file size beyond the file', () => [file('elf-filesz.elf', patch(elfBytes, [[ph(0x20), 8, 0x1_0000_0000n]]))], /segment|beyond|truncated|file size/i],
  ['ELF segment memory size 2^64-1', () => [file('elf-memsz.elf', patch(elfBytes, [[ph(0x28), 8, 0xffff_ffff_ffff_ffffn]]))], /RAM|memory|outside|too large|size/i],
  ['ELF segment outside RAM', () => [file('elf-paddr.elf', patch(elfBytes, [[ph(0x18), 8, 0x1000n]]))], /RAM|outside/i],
  ['ELF segment at the top of the address space', () => [file('elf-top.elf', patch(elfBytes, [[ph(0x18), 8, 0xffff_ffff_ffff_f000n]]))], /p_paddr 0xfffffffffffff000 is too large|RAM|outside/i],
  ['ELF entry outside RAM', () => [file('elf-entry.elf', patch(elfBytes, [[0x18, 8, 0x10n]]))], /entry/i],
  ['an Image cut inside its header', () => [file('img-30.img', helloBytes.subarray(0, 30))], /not an ELF64|too short|truncated/i],
  ['an Image with a wrong magic', () => [file('img-magic.img', patch(helloBytes, [[56, 4, 0x12345678]]))], /not an ELF64 AArch64 executable or arm64 Image/],
  ['an Image with image_size 2^64-1', () => [file('img-size.img', patch(helloBytes, [[16, 8, 0xffff_ffff_ffff_ffffn]]))], /image needs|RAM|too large|image_size/i],
  ['an Image with text_offset 2^63', () => [file('img-text.img', patch(helloBytes, [[8, 8, 1n << 63n]]))], /text_offset|RAM|outside/i],
  ['an Image with text_offset beyond RAM', () => [file('img-text2.img', patch(helloBytes, [[8, 8, 0x1000_0000n]]))], /text_offset|RAM|outside|needs/i],
  ['a big-endian Image', () => [file('img-be.img', patch(helloBytes, [[24, 8, 1n]]))], /big-endian/i],
  ['a truncated gzip', () => [file('trunc.gz', new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2]))], /gzip|compressed|truncated/i],
  ['a missing image', () => [join(dir, 'missing.img')], /cannot read image .*no such file/],
  ['a directory as the image', () => [dir], /not a regular file|directory/i],
  ['/dev/zero as the image', () => ['/dev/zero'], /not a regular file \(a character device\)/],
  ['a FIFO as the image', () => [fifo()], /not a regular file \(a FIFO\)/],
];

const dtbCases: Case[] = [
  ['an empty devicetree', () => ['--dtb', file('empty.dtb', new Uint8Array(0)), hello], /devicetree/i],
  ['a devicetree with a bad magic', () => ['--dtb', file('magic.dtb', patch(boardDtb, [[0, 4, 0x12345678]], true)), hello], /magic/i],
  ['a devicetree cut in half', () => ['--dtb', file('half.dtb', boardDtb.subarray(0, boardDtb.length >> 1)), hello], /devicetree.*(truncated|size|beyond)/i],
  ['a devicetree whose totalsize is 4 GiB', () => ['--dtb', file('total.dtb', patch(boardDtb, [[4, 4, 0xffffffff]], true)), hello], /devicetree/i],
  ['a devicetree whose structure block is beyond its end', () => ['--dtb', file('struct.dtb', patch(boardDtb, [[8, 4, 0x7fff0000]], true)), hello], /devicetree/i],
  ['a devicetree whose strings block is beyond its end', () => ['--dtb', file('strings.dtb', patch(boardDtb, [[12, 4, 0x7fff0000]], true)), hello], /devicetree/i],
  ['a devicetree of version 1', () => ['--dtb', file('version.dtb', patch(boardDtb, [[20, 4, 1]], true)), hello], /devicetree.*version/i],
  ['a devicetree with a bad token', () => ['--dtb', file('token.dtb', patch(boardDtb, [[structAt, 4, 0x77]], true)), hello], /devicetree.*token/i],
  ['a devicetree with no memory node', () => ['--dtb', dts('no-memory', (s) => s.replace(/\tmemory@40000000 \{[^}]*\};\n/, '')), hello], /memory/i],
  ['a memory node with a zero size', () => ['--dtb', dts('mem-zero', (s) => s.replace('reg = <0x00 0x40000000 0x00 0x4000000>', 'reg = <0x00 0x40000000 0x00 0x00>')), hello], /memory/i],
  ['a memory node of 8 GiB', () => ['--dtb', dts('mem-8g', (s) => s.replace('reg = <0x00 0x40000000 0x00 0x4000000>', 'reg = <0x00 0x40000000 0x02 0x00>')), hello], /memory.*(limit|large|GiB|MiB)/i],
  ['a memory node of 2^64-1 bytes', () => ['--dtb', dts('mem-huge', (s) => s.replace('reg = <0x00 0x40000000 0x00 0x4000000>', 'reg = <0x00 0x40000000 0xffffffff 0xffffffff>')), hello], /memory/i],
  ['a memory reg with a cell missing', () => ['--dtb', dts('mem-cells', (s) => s.replace('reg = <0x00 0x40000000 0x00 0x4000000>', 'reg = <0x00 0x40000000 0x00>')), hello], /memory|reg|cells/i],
  ['#address-cells 5 at the root', () => ['--dtb', dts('addr-cells', (s) => s.replace('#address-cells = <0x02>;\n\t#size-cells = <0x02>;', '#address-cells = <0x05>;\n\t#size-cells = <0x02>;')), hello], /cells|reg|memory/i],
  ['interrupt-parent naming no node', () => ['--dtb', dts('phandle', (s) => s.replace('interrupt-parent = <0x01>;\n\tmodel', 'interrupt-parent = <0x99>;\n\tmodel').replace(/interrupt-parent = <0x01>;/g, 'interrupt-parent = <0x99>;')), hello], /phandle|interrupt-parent|GIC|interrupt controller/i],
  ['no interrupt controller', () => ['--dtb', dts('no-gic', (s) => s.replace(/\tinterrupt-controller@3001000 \{[\s\S]*?\n\t\};\n/, '')), hello], /GIC|interrupt controller|phandle|interrupt-parent/i],
  ['hypervisor interrupts with two cells', () => ['--dtb', dts('hyp-irq', (s) => s.replace('interrupts = <0x01 0x0f 0xf08>;', 'interrupts = <0x01 0x0f>;')), hello], /interrupts|hypervisor|cells/i],
  ['hypervisor interrupt of an unknown type', () => ['--dtb', dts('hyp-type', (s) => s.replace('interrupts = <0x01 0x0f 0xf08>;', 'interrupts = <0x07 0x0f 0xf08>;')), hello], /interrupt|hypervisor/i],
  ['#interrupt-cells 0 on the GIC', () => ['--dtb', dts('gic-cells', (s) => s.replace('#interrupt-cells = <0x03>;', '#interrupt-cells = <0x00>;')), hello], /interrupt-cells|interrupts|GIC/i],
  ['a GIC with no reg', () => ['--dtb', dts('gic-reg', (s) => s.replace('reg = <0x00 0x3001000 0x00 0x1000 0x00 0x3002000 0x00 0x2000>;', '')), hello], /GIC|reg/i],
  ['a missing devicetree', () => ['--dtb', join(dir, 'nope.dtb'), hello], /cannot read|no such file/i],
  ['a directory as the devicetree', () => ['--dtb', dir, hello], /not a regular file|directory/i],
  ['/dev/urandom as the devicetree', () => ['--dtb', '/dev/urandom', hello], /not a regular file \(a character device\)/],
];

/** One FIFO for every case that wants one, made on first use (a failing mkfifo fails the case). */
function fifo(): string {
  const p = join(dir, 'fifo');
  if (!existsSync(p)) execFileSync('mkfifo', [p]);
  return p;
}
const emptyDir = join(dir, 'subdir');
mkdirSync(emptyDir);
const optionCases: Case[] = [
  ['--gic 4', () => ['--gic', '4', hello], /--gic takes 2 or 3, not '4'/],
  ['--gic empty', () => ['--gic=', hello], /--gic takes 2 or 3/],
  ['--xsm flask', () => ['--xsm', 'flask', hello], /--xsm takes dummy or silo/],
  ['--memory 0', () => ['--memory', '0', hello], /--memory takes a whole number from 1/],
  ['--memory -5', () => ['--memory', '-5', hello], /--memory takes a whole number/],
  ['--memory 1.5', () => ['--memory', '1.5', hello], /--memory takes a whole number/],
  ['--memory 99999', () => ['--memory', '99999', hello], /--memory takes a whole number/],
  ['--memory 1 (too small for the image)', () => ['--memory', '1', hello], /RAM|needs|memory/i],
  ['--timeout -1', () => ['--timeout', '-1', hello], /--timeout takes a whole number/],
  ['--timeout abc', () => ['--timeout', 'abc', hello], /--timeout takes a whole number/],
  ['--timeout 1e9', () => ['--timeout', '1000000000', hello], /--timeout takes a whole number/],
  ['--max-instructions 0', () => ['--max-instructions', '0', hello], /--max-instructions takes a whole number/],
  ['--max-instructions 2^64', () => ['--max-instructions', '18446744073709551616', hello], /--max-instructions takes a whole number/],
  ['--seed -1', () => ['--seed', '-1', hello], /--seed takes a whole number/],
  ['--seed 2^32', () => ['--seed', '4294967296', hello], /--seed takes a whole number/],
  ['--quantum 1', () => ['--quantum', '1', hello], /--quantum takes a whole number/],
  ['--quantum x', () => ['--quantum', 'x', hello], /--quantum takes a whole number/],
  ['--gdb 70000', () => ['--gdb', '70000', hello], /--gdb takes a whole number/],
  ['--gdb-wait alone', () => ['--gdb-wait', hello], /--gdb-wait needs --gdb/],
  ['--max-host-memory -1', () => ['--max-host-memory', '-1', hello], /--max-host-memory takes a whole number/],
  ['--max-console-bytes x', () => ['--max-console-bytes', 'x', hello], /--max-console-bytes takes a whole number/],
  ['--trace-max-bytes 5', () => ['--trace-file', join(dir, 't.jsonl'), '--trace-max-bytes', '5', hello], /--trace-max-bytes takes a whole number from 1024/],
  ['--trace-filter bad', () => ['--trace-filter', 'port=x', hello], /--trace-filter term 'port=x'/],
  ['--trace-filter empty', () => ['--trace-filter', '', hello], /--trace-filter '' has no terms/],
  ['--trace-file in a missing directory', () => ['--trace-file', join(dir, 'no', 'x.jsonl'), hello], /cannot write/],
  ['--trace-file a directory', () => ['--trace-file', emptyDir, hello], /cannot write/],
  ['--perfetto in a missing directory', () => ['--perfetto', join(dir, 'no', 'x.json'), hello], /cannot write/],
  ['--initrd empty', () => ['--initrd', '', hello], /--initrd needs a file name/],
  ['--initrd missing', () => ['--initrd', join(dir, 'nope.cpio'), hello], /initrd|cannot read/i],
  ['--initrd a directory', () => ['--initrd', emptyDir, hello], /not a regular file|directory|initrd/i],
  ['--initrd a FIFO', () => ['--initrd', fifo(), hello], /not a regular file \(a FIFO\)/],
  ['--initrd /dev/zero', () => ['--initrd', '/dev/zero', hello], /not a regular file/],
  ['--dom0 missing', () => ['--dom0', join(dir, 'nope0.img'), hello], /cannot read image|no such file/],
  ['--domain with no domain', () => ['--domain', 'memory=32', hello], /--domain/],
  ['--domain d9 (no such domain)', () => ['--domain', 'd9,memory=32', hello], /d9/],
  ['--domain unknown key', () => ['--domain', 'd1,colour=blue', hello], /colour/],
  ['--domain memory=0', () => ['--domain', 'd1,memory=0', hello], /memory/],
  ['--domain gic=5', () => ['--domain', 'd1,gic=5', hello], /gic/],
  ['--domain dtb missing', () => ['--domain', `d1,dtb=${join(dir, 'nope.dtb')}`, hello], /cannot read|no such file|dtb/i],
  ['an unknown option', () => ['--frobnicate', hello], /unknown option '--frobnicate'/],
  ['an option with no value', () => [hello, '--memory'], /--memory needs a value/],
  ['a flag with a value', () => ['--trace=yes', hello], /--trace takes no value/],
  ['an option given twice', () => ['--gic', '2', '--gic', '3', hello], /--gic given twice/],
  ['no image', () => [], /no IMAGE given/],
];

/** Message lines of stderr: up to the usage text a usage error adds after it. */
function messageLines(stderr: string): string[] {
  const lines = stderr.split('\n');
  const end = lines.findIndex((l) => l === '' || l.startsWith('usage: '));
  return (end < 0 ? lines : lines.slice(0, end)).filter((l) => l !== '');
}

function check(r: Awaited<ReturnType<typeof inProcess>>, want: RegExp) {
  expect(r.threw, String((r.threw as Error | undefined)?.stack)).toBeUndefined();
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr).not.toMatch(/RangeError|TypeError|ReferenceError|SyntaxError/);
  const lines = messageLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^xenvm-emu( run| trace| reference| diff)?: /);
  expect(lines[0]).toMatch(want);
  expect(r.status, r.stderr).toBe(2);
}

describe.each([
  ['images', imageCases],
  ['devicetrees', dtbCases],
  ['run options', optionCases],
] as const)('malformed %s: exit 2, one line, no stack trace', (_kind, cases) => {
  it.each(cases.map((c) => [c[0], c] as const))('%s', async (_name, [, argv, want]) => {
    const a = argv();
    // A bound in case some case ran a guest after all (it must not: each is refused up front).
    check(await inProcess(runMain, a.some((x) => x.startsWith('--timeout')) ? a : ['--timeout', '20', ...a]), want);
  });
});

// `reference` refuses all of these before QEMU starts (nothing here boots the real Xen).
const referenceCases: Case[] = [
  ['--gic 4', () => ['--gic', '4', hello], /--gic takes 2 or 3/],
  ['--xsm flask', () => ['--xsm', 'flask', hello], /--xsm takes dummy or silo/],
  ['--timeout -1', () => ['--timeout', '-1', hello], /--timeout takes a positive number/],
  ['--memory 0', () => ['--memory', '0', hello], /--memory takes a positive whole number/],
  ['--cpus 0', () => ['--cpus', '0', hello], /--cpus takes a whole number from 1 to 128/],
  ['--cpus abc', () => ['--cpus', 'abc', hello], /--cpus takes a whole number/],
  ['an unknown option', () => ['--frob', hello], /unknown option/],
  ['no image', () => [], /no IMAGE given/],
  ['a missing image', () => [join(dir, 'missing.img')], /cannot read image .*no such file/],
  ['/dev/zero as the image', () => ['/dev/zero'], /not a regular file \(a character device\)/],
  ['a directory as the image', () => [dir], /not a regular file \(a directory\)/],
  ['an image with a wrong magic', () => [file('ref-magic.img', patch(helloBytes, [[56, 4, 0x12345678]]))], /not an arm64 Image/],
  ['an ELF (Xen wants an Image)', () => [image('xenvm-gicv2', 'hello', 'elf')], /not an arm64 Image/],
  ['/dev/zero as the initrd', () => ['--initrd', '/dev/zero', hello], /cannot read initrd '\/dev\/zero': not a regular file/],
  ['a missing dom0', () => ['--dom0', join(dir, 'nope0.img'), hello], /cannot read dom0 image .*no such file/],
];

describe.each([
  ['reference', referenceMain],
  ['diff', diffMain],
] as const)('malformed %s arguments: exit 2, one line, before QEMU starts', (_cmd, main) => {
  it.each(referenceCases.map((c) => [c[0], c] as const))('%s', async (_name, [, argv, want]) => {
    check(await inProcess(main, argv()), want);
  });
});

const goodLine = '{"seq":0,"time":0,"kind":"sched","domid":1,"vcpu":0,"change":"wake"}';
const traceCases: Case[] = [
  ['an empty argument list', () => [], /no FILE\.jsonl given/],
  ['a missing file', () => [join(dir, 'nope.jsonl')], /cannot read/],
  ['a directory', () => [dir], /cannot read .*not a regular file \(a directory\)/],
  ['/dev/zero', () => ['/dev/zero'], /cannot read \/dev\/zero: not a regular file/],
  ['a FIFO', () => [fifo()], /not a regular file/],
  ['not JSON', () => [file('a.jsonl', '{nope\n')], /:1: not JSON/],
  ['an array', () => [file('b.jsonl', '[1,2]\n')], /:1: not a JSON object/],
  ['a negative time', () => [file('c.jsonl', goodLine.replace('"time":0', '"time":-5'))], /:1: seq and time must be integers/],
  ['a fractional time', () => [file('d.jsonl', goodLine.replace('"time":0', '"time":1.5'))], /:1: seq and time must be integers/],
  ['a time string that is not decimal', () => [file('e.jsonl', goodLine.replace('"time":0', '"time":"0x10"'))], /:1: seq and time must be integers/],
  ['a time past 2^53 as a number (rounded)', () => [file('f.jsonl', goodLine.replace('"time":0', '"time":18446744073709551615'))], /:1: seq and time must be integers/],
  ['an unknown kind', () => [file('g.jsonl', goodLine.replace('"sched"', '"nap"'))], /:1: unknown kind "nap"/],
  ['a field of the wrong type', () => [file('h.jsonl', goodLine.replace('"domid":1', '"domid":"one"'))], /:1: sched event: field 'domid' must be an integer/],
  ['a bad second line', () => [file('i.jsonl', `${goodLine}\n{}\n`)], /:2: /],
  ['a bad filter', () => ['--trace-filter', 'port=x', file('j.jsonl', goodLine)], /--trace-filter term 'port=x'/],
];

describe('malformed trace files and trace options: exit 2, one line, no stack trace', () => {
  it.each(traceCases.map((c) => [c[0], c] as const))('%s', async (_name, [, argv, want]) => {
    check(await inProcess(traceMain, argv()), want);
  });
  it('a time past 2^53 as a decimal string is read exactly', async () => {
    const r = await inProcess(traceMain, ['--no-summary', file('ok.jsonl', goodLine.replace('"time":0', '"time":"18446744073709551615"'))]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[18446744073709551615]');
  });
});
