import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobFromTranscript, DTB_CASES, dtbGoldenFile } from '../../scripts/golden-dtb.ts';
import { parseFdt, type Fdt } from '../../src/machine/fdt/fdt.ts';
import { findByPath, getString, getStringList, getU32, getU32Array } from '../../src/machine/fdt/props.ts';
import {
  bytesProp,
  emptyProp,
  node,
  serializeFdt,
  stringListProp,
  stringProp,
  treeFromBlob,
  u32Prop,
  u64Prop,
  withChosen,
  type FdtNode,
} from '../../src/machine/fdt/writer.ts';
import { compileDts, fdtget, haveDtc, haveFdtget } from './dtc.ts';

function must<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const sample = (): FdtNode =>
  node(
    '',
    [u32Prop('#address-cells', 2), u32Prop('#size-cells', 2), stringListProp('compatible', ['acme,board', 'acme,soc'])],
    [
      node('chosen', [stringProp('bootargs', 'console=hvc0 root=/dev/vda')]),
      node('memory@40000000', [stringProp('device_type', 'memory'), u64Prop('reg', 0x4000_0000n, 0x1_2000_0000n)]),
      node('intc@1000', [emptyProp('interrupt-controller'), u32Prop('phandle', 7), u32Prop('linux,phandle', 7)]),
      node('blob', [bytesProp('odd', new Uint8Array([1, 2, 3]))], [node('deeper', [u32Prop('x', 0xffffffff)])]),
    ],
  );

function runDtc(dtb: Uint8Array): { status: number | null; out: string; err: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fdt-writer-'));
  try {
    const f = join(dir, 'x.dtb');
    writeFileSync(f, dtb);
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', f], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout, err: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('serializeFdt', () => {
  it('round-trips through the parser: nodes, properties and values', () => {
    const fdt: Fdt = must(parseFdt(serializeFdt(sample())));
    expect(fdt.root.children.map((c) => c.fullName)).toEqual(['chosen', 'memory@40000000', 'intc@1000', 'blob']);
    expect(must(getString(findByPath(fdt, '/chosen')!, 'bootargs'))).toBe('console=hvc0 root=/dev/vda');
    expect(must(getStringList(fdt.root, 'compatible'))).toEqual(['acme,board', 'acme,soc']);
    expect(must(getU32Array(findByPath(fdt, '/memory')!, 'reg'))).toEqual([0, 0x4000_0000, 1, 0x2000_0000]);
    expect(findByPath(fdt, '/intc@1000')!.props.get('interrupt-controller')).toEqual(new Uint8Array(0));
    expect(fdt.phandles.get(7)?.fullName).toBe('intc@1000');
    expect(findByPath(fdt, '/blob')!.props.get('odd')).toEqual(new Uint8Array([1, 2, 3]));
    expect(must(getU32(findByPath(fdt, '/blob/deeper')!, 'x'))).toBe(0xffffffff);
  });

  it('writes a version 17 header laid out as libfdt sequential write', () => {
    const b = serializeFdt(sample(), { reservations: [{ address: 0x4800_0000n, size: 0x1000n }], bootCpuidPhys: 3 });
    const fdt = must(parseFdt(b));
    expect(fdt.header).toMatchObject({
      totalsize: b.length,
      offMemRsvmap: 48,
      offDtStruct: 48 + 2 * 16,
      version: 17,
      lastCompVersion: 16,
      bootCpuidPhys: 3,
    });
    expect(fdt.header.offDtStrings).toBe(fdt.header.offDtStruct + fdt.header.sizeDtStruct);
    expect(fdt.header.offDtStrings + fdt.header.sizeDtStrings).toBe(b.length);
    expect(fdt.reservations).toEqual([{ address: 0x4800_0000n, size: 0x1000n }]);
  });

  it('lists property names newest first and reuses a name found inside an earlier one', () => {
    const b = serializeFdt(node('', [u32Prop('linux,phandle', 1), u32Prop('phandle', 1), u32Prop('reg', 0)]));
    const fdt = must(parseFdt(b));
    const strings = Buffer.from(b.subarray(fdt.header.offDtStrings)).toString('latin1');
    expect(strings).toBe('reg\0linux,phandle\0');
    expect(must(getU32(fdt.root, 'phandle'))).toBe(1);
  });

  it('reproduces the real Xen blobs byte for byte after a parse', () => {
    for (const c of DTB_CASES) {
      const blob = blobFromTranscript(readFileSync(dtbGoldenFile(c), 'utf8').split('\n'));
      const t = treeFromBlob(blob);
      if (!t.ok) throw new Error(t.error);
      expect(Buffer.from(serializeFdt(t.tree.root, t.tree)).equals(Buffer.from(blob)), c.name).toBe(true);
    }
  });

  it('writes a very deep tree without recursion', () => {
    let leaf = node('n');
    for (let i = 0; i < 20_000; i++) leaf = node('n', [], [leaf]);
    const fdt = must(parseFdt(serializeFdt(node('', [], [leaf]))));
    expect(fdt.root.children[0].fullName).toBe('n');
  });

  it.skipIf(!haveDtc)('is accepted by dtc -I dtb -O dts', () => {
    const r = runDtc(serializeFdt(sample()));
    expect(r.err).not.toMatch(/ERROR/i);
    expect(r.status).toBe(0);
    expect(r.out).toContain('bootargs = "console=hvc0 root=/dev/vda";');
    expect(r.out).toContain('reg = <0x00 0x40000000 0x01 0x20000000>;');
    expect(r.out).toContain('compatible = "acme,board\\0acme,soc";');
  });

  it.skipIf(!haveDtc)('round-trips a dtc-compiled tree (same nodes and values)', () => {
    const dtb = compileDts(
      '/dts-v1/;\n/memreserve/ 0x48000000 0x1000;\n/ { #address-cells = <1>; a { b = "x"; c; d = <1 2>; e { f = [01 02]; }; }; };\n',
    );
    const t = treeFromBlob(dtb);
    if (!t.ok) throw new Error(t.error);
    const again = treeFromBlob(serializeFdt(t.tree.root, t.tree));
    if (!again.ok) throw new Error(again.error);
    expect(again.tree).toEqual(t.tree);
    expect(runDtc(serializeFdt(t.tree.root, t.tree)).out).toBe(runDtc(dtb).out);
  });
});

describe('withChosen', () => {
  it.skipIf(!haveFdtget)('adds /chosen (first child) with bootargs and two-cell initrd values', () => {
    const dtb = serializeFdt(node('', [u32Prop('#address-cells', 1)], [node('memory@40000000')]));
    const r = withChosen(dtb, { bootargs: 'console=ttyAMA0', initrd: { start: 0x43e0_0000n, end: 0x43e0_1388n } });
    if (!r.ok) throw new Error(r.error);
    expect(fdtget(r.dtb, ['/chosen', 'bootargs'])).toBe('console=ttyAMA0');
    expect(fdtget(r.dtb, ['-t', 'x', '/chosen', 'linux,initrd-start'])).toBe('0 43e00000');
    expect(fdtget(r.dtb, ['-t', 'x', '/chosen', 'linux,initrd-end'])).toBe('0 43e01388');
    expect(must(parseFdt(r.dtb)).root.children.map((c) => c.fullName)).toEqual(['chosen', 'memory@40000000']);
  });

  it('replaces existing values in place and keeps the rest of /chosen', () => {
    const dtb = serializeFdt(
      node('', [], [node('chosen', [stringProp('bootargs', 'old'), stringProp('stdout-path', 'serial0'), u32Prop('linux,initrd-start', 1)])]),
    );
    const r = withChosen(dtb, { bootargs: 'new', initrd: { start: 0x1_0000_0000n, end: 0x1_0000_1000n } });
    if (!r.ok) throw new Error(r.error);
    const chosen = findByPath(must(parseFdt(r.dtb)), '/chosen')!;
    expect([...chosen.props.keys()]).toEqual(['bootargs', 'stdout-path', 'linux,initrd-start', 'linux,initrd-end']);
    expect(must(getString(chosen, 'bootargs'))).toBe('new');
    expect(must(getU32Array(chosen, 'linux,initrd-start'))).toEqual([1, 0]);
  });

  it('leaves what it is not asked to set', () => {
    const dtb = serializeFdt(node('', [], [node('chosen', [stringProp('bootargs', 'keep')])]));
    const r = withChosen(dtb, {});
    if (!r.ok) throw new Error(r.error);
    expect(Buffer.from(r.dtb).equals(Buffer.from(dtb))).toBe(true);
  });

  it('refuses a broken blob or a backwards initrd range', () => {
    const bad = withChosen(new Uint8Array([1, 2, 3, 4]), { bootargs: 'x' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/fdt:/);
    const dtb = serializeFdt(node(''));
    expect(withChosen(dtb, { initrd: { start: 2n, end: 1n } }).ok).toBe(false);
  });
});
