import { describe, expect, it } from 'vitest';
import { parseFdt, type Fdt } from '../../src/machine/fdt/fdt.ts';
import {
  findByPath,
  findCompatible,
  getString,
  getStringList,
  getU32,
  getU32Array,
  interruptParentOf,
  interruptsOf,
  nodePath,
  regOf,
  regOfNumbers,
  resolvePhandle,
} from '../../src/machine/fdt/props.ts';
import { compileDts, fdtget, haveDtc, haveFdtget } from './dtc.ts';
import { cellsOf, str, writeFdt } from './fdt-writer.ts';

function must<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const SAMPLE_DTS = `/dts-v1/;
/memreserve/ 0x48000000 0x100000;
/ {
  #address-cells = <2>;
  #size-cells = <1>;
  interrupt-parent = <&gic>;
  model = "test board";
  aliases { serial0 = "/soc/uart@9000000"; };
  soc {
    #address-cells = <1>;
    #size-cells = <1>;
    gic: interrupt-controller@8000000 {
      compatible = "arm,gic-400", "arm,cortex-a15-gic";
      interrupt-controller;
      #interrupt-cells = <3>;
      reg = <0x8000000 0x10000>, <0x8010000 0x10000>;
    };
    uart@9000000 {
      compatible = "arm,pl011", "arm,primecell";
      reg = <0x9000000 0x1000>;
      interrupts = <0 1 4>;
      status = "okay";
    };
    other: sub-intc {
      interrupt-controller;
      #interrupt-cells = <1>;
      interrupt-parent = <&gic>;
    };
    dev@1 {
      reg = <0x1 0x2>;
      interrupts-extended = <&gic 1 14 0xf08>, <&other 7>;
      empty;
      list = "a", "bc", "";
    };
  };
  memory@40000000 {
    device_type = "memory";
    reg = <0x0 0x40000000 0x4000000>;
  };
  wide {
    #address-cells = <2>;
    #size-cells = <2>;
    big@100000000 { reg = <0x1 0x0 0x0 0x20000000>; };
  };
  noparent { reg = <0x1 0x2 0x3>; };
};
`;

describe.skipIf(!haveDtc)('FDT reader on dtc output', () => {
  const dtb = haveDtc ? compileDts(SAMPLE_DTS) : new Uint8Array();
  const fdt: Fdt = haveDtc ? must(parseFdt(dtb)) : (undefined as never);

  it('reads the header and the memory reservation block', () => {
    expect(fdt.header.version).toBe(17);
    expect(fdt.header.totalsize).toBe(dtb.length);
    expect(fdt.reservations).toEqual([{ address: 0x48000000n, size: 0x100000n }]);
  });

  it('builds the tree with names, unit addresses and parents', () => {
    expect(fdt.root.name).toBe('');
    expect(fdt.root.children.map((c) => c.fullName)).toEqual(['aliases', 'soc', 'memory@40000000', 'wide', 'noparent']);
    const uart = findByPath(fdt, '/soc/uart@9000000')!;
    expect(uart.name).toBe('uart');
    expect(uart.unitAddress).toBe('9000000');
    expect(nodePath(uart)).toBe('/soc/uart@9000000');
    expect(uart.parent?.fullName).toBe('soc');
    expect(must(getString(fdt.root, 'model'))).toBe('test board');
  });

  it('finds nodes by path without unit address, and by alias', () => {
    expect(nodePath(findByPath(fdt, '/memory')!)).toBe('/memory@40000000');
    expect(nodePath(findByPath(fdt, 'serial0')!)).toBe('/soc/uart@9000000');
    expect(findByPath(fdt, '/soc/nothere')).toBeUndefined();
    expect(findByPath(fdt, '/memory@50000000')).toBeUndefined();
    expect(findByPath(fdt, 'nosuchalias')).toBeUndefined();
    expect(findByPath(fdt, '/')).toBe(fdt.root);
  });

  it('finds nodes by compatible (any entry of the list)', () => {
    expect(findCompatible(fdt, 'arm,cortex-a15-gic').map(nodePath)).toEqual(['/soc/interrupt-controller@8000000']);
    expect(findCompatible(fdt, 'arm,primecell').map(nodePath)).toEqual(['/soc/uart@9000000']);
    expect(findCompatible(fdt, 'arm,gic-v3')).toEqual([]);
  });

  it('decodes typed property values and reports bad ones precisely', () => {
    const dev = findByPath(fdt, '/soc/dev@1')!;
    expect(must(getStringList(dev, 'list'))).toEqual(['a', 'bc', '']);
    expect(must(getU32Array(dev, 'reg'))).toEqual([1, 2]);
    expect(dev.props.get('empty')?.length).toBe(0);
    expect(getU32(dev, 'reg')).toEqual({ ok: false, error: `/soc/dev@1: property 'reg' is 8 bytes, expected one u32 cell (4 bytes)` });
    expect(getU32(dev, 'nope')).toEqual({ ok: false, error: `/soc/dev@1: property 'nope' is missing` });
    expect(getString(dev, 'reg')).toEqual({ ok: false, error: `/soc/dev@1: property 'reg' is not a NUL-terminated string` });
  });

  it('decodes reg with the parent bus cell counts', () => {
    expect(must(regOf(findByPath(fdt, '/soc/interrupt-controller@8000000')!))).toEqual([
      { address: 0x8000000n, size: 0x10000n },
      { address: 0x8010000n, size: 0x10000n },
    ]);
    expect(must(regOfNumbers(findByPath(fdt, '/memory')!))).toEqual([{ address: 0x40000000, size: 0x4000000 }]);
    expect(must(regOf(findByPath(fdt, '/wide/big')!))).toEqual([{ address: 0x100000000n, size: 0x20000000n }]);
    // Root has #address-cells 2 + #size-cells 1: three cells per entry.
    expect(must(regOf(findByPath(fdt, '/noparent')!))).toEqual([{ address: 0x100000002n, size: 3n }]);
    expect(regOf(findByPath(fdt, '/soc/dev@1/')!)).toEqual({ ok: true, value: [{ address: 1n, size: 2n }] });
  });

  it('resolves interrupt parents through inheritance, phandles and interrupts-extended', () => {
    const gic = findByPath(fdt, '/soc/interrupt-controller@8000000')!;
    const uart = findByPath(fdt, 'serial0')!;
    expect(must(interruptParentOf(fdt, uart))).toBe(gic);
    expect(must(interruptsOf(fdt, uart))).toEqual([{ controller: gic, cells: [0, 1, 4] }]);
    const ph = must(getU32(gic, 'phandle'));
    expect(resolvePhandle(fdt, ph)).toBe(gic);
    const other = findByPath(fdt, '/soc/sub-intc')!;
    expect(must(interruptsOf(fdt, findByPath(fdt, '/soc/dev@1')!))).toEqual([
      { controller: gic, cells: [1, 14, 0xf08] },
      { controller: other, cells: [7] },
    ]);
    expect(must(interruptsOf(fdt, findByPath(fdt, '/memory')!))).toEqual([]);
  });

  it.skipIf(!haveFdtget)('agrees with fdtget on values', () => {
    expect(fdtget(dtb, ['-t', 'x', '/soc/uart@9000000', 'reg'])).toBe(
      must(getU32Array(findByPath(fdt, '/soc/uart@9000000')!, 'reg')).map((x) => x.toString(16)).join(' '),
    );
    expect(fdtget(dtb, ['/soc/uart@9000000', 'compatible'])).toBe(
      must(getStringList(findByPath(fdt, '/soc/uart@9000000')!, 'compatible')).join(' '),
    );
    expect(fdtget(dtb, ['-l', '/soc']).split('\n')).toEqual(findByPath(fdt, '/soc')!.children.map((c) => c.fullName));
  });
});

describe('FDT reader on hand-built blobs', () => {
  const good = () =>
    writeFdt({
      name: '',
      props: [['compatible', str('x,y')]],
      children: [{ name: 'a@1', props: [['v', cellsOf(7)]] }],
    });

  it('parses a blob from the test writer', () => {
    const fdt = must(parseFdt(good().blob));
    expect(fdt.root.children[0].fullName).toBe('a@1');
    expect(must(getU32(fdt.root.children[0], 'v'))).toBe(7);
  });

  it('skips FDT_NOP tokens', () => {
    const { blob, offDtStruct } = good();
    // Insert an FDT_NOP before the root node and fix up the header sizes/offsets.
    const b = new Uint8Array(blob.length + 4);
    b.set(blob.subarray(0, offDtStruct));
    b.set([0, 0, 0, 4], offDtStruct); // FDT_NOP first
    b.set(blob.subarray(offDtStruct), offDtStruct + 4);
    const dv = new DataView(b.buffer);
    dv.setUint32(4, b.length);
    dv.setUint32(12, dv.getUint32(12) + 4); // strings moved by 4
    dv.setUint32(36, dv.getUint32(36) + 4); // struct grew by 4
    expect(must(parseFdt(b)).root.children[0].fullName).toBe('a@1');
  });

  it('rejects a bad magic', () => {
    const { blob } = good();
    blob[0] = 0xde;
    expect(parseFdt(blob)).toEqual({ ok: false, error: 'fdt: bad magic 0xde0dfeed at offset 0x0 (expected 0xd00dfeed)' });
  });

  it('rejects a blob shorter than its totalsize', () => {
    const { blob } = good();
    expect(parseFdt(blob.subarray(0, blob.length - 1))).toEqual({
      ok: false,
      error: `fdt: totalsize 0x${blob.length.toString(16)} at offset 0x4 exceeds the blob length 0x${(blob.length - 1).toString(16)}`,
    });
  });

  it('rejects a truncated structure block', () => {
    const { blob, offDtStruct } = good();
    const dv = new DataView(blob.buffer);
    // Cut the struct block just after the root's BEGIN_NODE + name (8 bytes): the next
    // token (FDT_PROP) lies outside it.
    dv.setUint32(36, 8);
    expect(parseFdt(blob)).toEqual({
      ok: false,
      error: `fdt: structure block truncated at offset 0x${(offDtStruct + 8).toString(16)}: expected a token (4 bytes), block ends at 0x${(offDtStruct + 8).toString(16)}`,
    });
    // Cut inside a property header.
    dv.setUint32(36, 16);
    expect(parseFdt(blob)).toEqual({
      ok: false,
      error: `fdt: structure block truncated at offset 0x${(offDtStruct + 12).toString(16)}: expected FDT_PROP length and name offset (8 bytes), block ends at 0x${(offDtStruct + 16).toString(16)}`,
    });
  });

  it('rejects a property name offset outside the strings block', () => {
    const { blob, offDtStruct } = good();
    const dv = new DataView(blob.buffer);
    // Root: BEGIN_NODE(4) + "\0" padded (4), then FDT_PROP(4) len(4) nameoff(4).
    const nameoffAt = offDtStruct + 16;
    dv.setUint32(nameoffAt, 0x100);
    expect(parseFdt(blob)).toEqual({
      ok: false,
      error: `fdt: property name offset 0x100 at offset 0x${nameoffAt.toString(16)} is outside the strings block (size 0x${dv.getUint32(32).toString(16)})`,
    });
  });

  it('rejects an unknown token, an unbalanced END_NODE and an END with open nodes', () => {
    const { blob, offDtStruct } = good();
    const dv = new DataView(blob.buffer);
    const endAt = offDtStruct + dv.getUint32(36) - 4; // FDT_END
    const endNodeAt = endAt - 4; // root's FDT_END_NODE

    const unknown = blob.slice();
    new DataView(unknown.buffer).setUint32(endAt, 0x7);
    expect(parseFdt(unknown)).toEqual({
      ok: false,
      error: `fdt: unknown token 0x7 at offset 0x${endAt.toString(16)} (expected FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP or FDT_END)`,
    });

    const open = blob.slice();
    new DataView(open.buffer).setUint32(endNodeAt, 0x4); // END_NODE -> NOP: root stays open
    expect(parseFdt(open)).toEqual({ ok: false, error: `fdt: FDT_END at offset 0x${endAt.toString(16)} while node '' is still open` });

    const extra = blob.slice();
    new DataView(extra.buffer).setUint32(endAt, 0x2); // a second END_NODE
    expect(parseFdt(extra)).toEqual({
      ok: false,
      error: `fdt: FDT_END_NODE at offset 0x${endAt.toString(16)} without a matching FDT_BEGIN_NODE`,
    });
  });

  it('rejects too-short blobs and unsupported versions', () => {
    expect(parseFdt(new Uint8Array([0xd0, 0x0d]))).toEqual({
      ok: false,
      error: 'fdt: blob is 2 bytes, too short for a header (need at least 36)',
    });
    const { blob } = good();
    const dv = new DataView(blob.buffer);
    dv.setUint32(24, 18);
    expect(parseFdt(blob)).toEqual({
      ok: false,
      error: 'fdt: last_comp_version 18 at offset 0x18 is newer than the supported version 17',
    });
  });

  it('rejects a property that runs past the block and an interrupt-parent to nowhere', () => {
    const bad = writeFdt({
      name: '',
      children: [{ name: 'n', props: [['interrupt-parent', cellsOf(0x55)], ['interrupts', cellsOf(1)]] }],
    });
    const fdt = must(parseFdt(bad.blob));
    expect(interruptsOf(fdt, fdt.root.children[0])).toEqual({
      ok: false,
      error: '/n: interrupt-parent phandle 0x55 does not name any node',
    });

    const { blob, offDtStruct } = good();
    new DataView(blob.buffer).setUint32(offDtStruct + 12, 0x1000); // root's first prop length
    expect(parseFdt(blob)).toEqual({
      ok: false,
      error: `fdt: structure block truncated at offset 0x${(offDtStruct + 20).toString(16)}: property value of 4096 bytes runs past the block end 0x${(offDtStruct + new DataView(blob.buffer).getUint32(36)).toString(16)}`,
    });
  });

  it('detects an interrupt-parent loop instead of spinning', () => {
    const { blob } = writeFdt({
      name: '',
      children: [
        { name: 'a', props: [['phandle', cellsOf(1)], ['interrupt-parent', cellsOf(2)]] },
        { name: 'b', props: [['phandle', cellsOf(2)], ['interrupt-parent', cellsOf(1)]] },
        { name: 'c', props: [['interrupt-parent', cellsOf(1)], ['interrupts', cellsOf(0)]] },
      ],
    });
    const fdt = must(parseFdt(blob));
    expect(interruptsOf(fdt, fdt.root.children[2])).toEqual({ ok: false, error: '/c: interrupt-parent chain loops at /a' });
  });
});
