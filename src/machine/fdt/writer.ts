/**
 * Flattened devicetree (DTB) writer: a small typed node tree in, a version 17 blob out.
 *
 * Format: Devicetree Specification v0.4 chapter 5. The blob is laid out the way libfdt's
 * sequential-write functions lay it out, because that is what Xen uses to build a domU's
 * devicetree (fdt_create .. fdt_finish) and we want our blobs to be byte-comparable with
 * the real ones:
 *   - a 40-byte header, then the memory reservation block at offset 48 (the header size
 *     rounded up to the 16-byte size of one reservation entry),
 *   - the structure block right after the reservation block's terminating zero entry,
 *   - the strings block right after the structure block, totalsize = its end;
 *   - the strings block lists property names newest first (sequential write prepends each
 *     new name), and a name that already occurs in the table, also as the tail of a longer
 *     name ("phandle" inside "linux,phandle"), reuses that occurrence;
 *   - version 17, last_comp_version 16.
 *
 * Also here: turning a parsed blob (fdt.ts) back into this tree, and withChosen(), which sets
 * /chosen's bootargs and initrd range on a user-provided blob.
 */
import { type Fdt, type FdtNode as ParsedNode, parseFdt, FDT_MAGIC, FdtToken } from './fdt.ts';

export interface FdtProp {
  name: string;
  value: Uint8Array;
}

/** A node to write. `name` includes the unit address ("memory@40000000"); the root is "". */
export interface FdtNode {
  name: string;
  props: FdtProp[];
  children: FdtNode[];
}

export interface FdtReservation {
  address: bigint;
  size: bigint;
}

export interface FdtWriteOptions {
  reservations?: FdtReservation[];
  bootCpuidPhys?: number;
}

const HEADER_SIZE = 40;
/** Header size rounded up to one reservation entry (address u64 + size u64). */
const RSVMAP_OFFSET = 48;
const VERSION = 17;
const LAST_COMP_VERSION = 16;

// ---- property value helpers (DT spec v0.4 §2.2.4: big-endian cells, NUL-terminated strings)

export function node(name: string, props: FdtProp[] = [], children: FdtNode[] = []): FdtNode {
  return { name, props, children };
}

/** One or more 32-bit cells. */
export function u32Prop(name: string, ...cells: number[]): FdtProp {
  const value = new Uint8Array(cells.length * 4);
  const dv = new DataView(value.buffer);
  cells.forEach((c, i) => dv.setUint32(i * 4, c >>> 0));
  return { name, value };
}

/** One or more 64-bit values, each as two cells (high word first). */
export function u64Prop(name: string, ...values: bigint[]): FdtProp {
  const value = new Uint8Array(values.length * 8);
  const dv = new DataView(value.buffer);
  values.forEach((v, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, v)));
  return { name, value };
}

/** A NUL-terminated string. */
export function stringProp(name: string, s: string): FdtProp {
  return { name, value: encodeStrings([s]) };
}

/** A string list: each string NUL-terminated, back to back ("compatible"). */
export function stringListProp(name: string, list: string[]): FdtProp {
  return { name, value: encodeStrings(list) };
}

/** A property with no value (a flag such as "interrupt-controller"). */
export function emptyProp(name: string): FdtProp {
  return { name, value: new Uint8Array(0) };
}

export function bytesProp(name: string, value: Uint8Array): FdtProp {
  return { name, value: value.slice() };
}

function encodeStrings(list: string[]): Uint8Array {
  const parts = list.map((s) => new TextEncoder().encode(s));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length + 1;
  }
  return out;
}

// ---- serialisation

/** Grows a byte buffer; big-endian u32 writes. */
class ByteSink {
  private buf = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buf[this.length++] = (v >>> 24) & 0xff;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Zero bytes up to a multiple of 4 (structure block tokens are 4-byte aligned). */
  align4(): void {
    while (this.length % 4 !== 0) this.bytes(new Uint8Array(1));
  }

  patchU32(at: number, v: number): void {
    new DataView(this.buf.buffer).setUint32(at, v >>> 0);
  }

  take(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * The strings block as sequential write builds it: each new name goes in front, so a name's
 * final offset is only known at the end; we remember its distance from the end of the table.
 */
class StringTable {
  private table = new Uint8Array(0);

  /** Distance of the name's first byte from the end of the table. */
  add(name: string): number {
    const s = new TextEncoder().encode(name + '\0');
    const at = indexOf(this.table, s);
    if (at >= 0) return this.table.length - at;
    const next = new Uint8Array(s.length + this.table.length);
    next.set(s, 0);
    next.set(this.table, s.length);
    this.table = next;
    return this.table.length;
  }

  get bytes(): Uint8Array {
    return this.table;
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Serialises `root` as a version 17 DTB (layout: see the file comment). */
export function serializeFdt(root: FdtNode, opts: FdtWriteOptions = {}): Uint8Array {
  const reservations = opts.reservations ?? [];
  const strings = new StringTable();
  const st = new ByteSink();
  /** Where each FDT_PROP's nameoff goes, with its name's distance from the table end. */
  const nameFixups: [at: number, fromEnd: number][] = [];

  // Depth first without recursion: a stack of (node, next child index).
  const stack: [FdtNode, number][] = [];
  const begin = (n: FdtNode): void => {
    st.u32(FdtToken.BEGIN_NODE);
    st.bytes(new TextEncoder().encode(n.name + '\0'));
    st.align4();
    for (const p of n.props) {
      st.u32(FdtToken.PROP);
      st.u32(p.value.length);
      nameFixups.push([st.length, strings.add(p.name)]);
      st.u32(0);
      st.bytes(p.value);
      st.align4();
    }
    stack.push([n, 0]);
  };
  begin(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [n, i] = top;
    if (i < n.children.length) {
      top[1] = i + 1;
      begin(n.children[i]);
    } else {
      st.u32(FdtToken.END_NODE);
      stack.pop();
    }
  }
  st.u32(FdtToken.END);

  const tableLen = strings.bytes.length;
  for (const [at, fromEnd] of nameFixups) st.patchU32(at, tableLen - fromEnd);
  const struct = st.take();

  const offStruct = RSVMAP_OFFSET + (reservations.length + 1) * 16;
  const offStrings = offStruct + struct.length;
  const total = offStrings + tableLen;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const header = [
    FDT_MAGIC,
    total,
    offStruct,
    offStrings,
    RSVMAP_OFFSET,
    VERSION,
    LAST_COMP_VERSION,
    opts.bootCpuidPhys ?? 0,
    tableLen,
    struct.length,
  ];
  header.forEach((v, i) => dv.setUint32(i * 4, v >>> 0));
  reservations.forEach((r, i) => {
    dv.setBigUint64(RSVMAP_OFFSET + i * 16, r.address);
    dv.setBigUint64(RSVMAP_OFFSET + i * 16 + 8, r.size);
  });
  out.set(struct, offStruct);
  out.set(strings.bytes, offStrings);
  return out;
}

// ---- from a parsed blob

/** The writer's tree for a node of a parsed blob (properties in blob order). */
export function treeFromParsed(n: ParsedNode): FdtNode {
  const convert = (p: ParsedNode): FdtNode => ({
    name: p.fullName,
    props: [...p.props].map(([name, value]) => ({ name, value: value.slice() })),
    children: [],
  });
  const root = convert(n);
  // Without recursion, as the parser does: deep user trees must not exhaust the stack.
  const work: [ParsedNode, FdtNode][] = [[n, root]];
  while (work.length > 0) {
    const [src, dst] = work.pop()!;
    for (const c of src.children) {
      const d = convert(c);
      dst.children.push(d);
      work.push([c, d]);
    }
  }
  return root;
}

export interface ParsedTree {
  root: FdtNode;
  reservations: FdtReservation[];
  bootCpuidPhys: number;
}

export function treeFromBlob(dtb: Uint8Array): { ok: true; tree: ParsedTree } | { ok: false; error: string } {
  const r = parseFdt(dtb);
  if (!r.ok) return r;
  const fdt: Fdt = r.value;
  return {
    ok: true,
    tree: { root: treeFromParsed(fdt.root), reservations: fdt.reservations, bootCpuidPhys: fdt.header.bootCpuidPhys },
  };
}

// ---- /chosen on a user-provided blob

export interface ChosenSettings {
  bootargs?: string;
  /** Guest physical [start, end) of the initrd, as Linux reads linux,initrd-start/-end. */
  initrd?: { start: bigint; end: bigint };
}

/** Replaces the property in place (keeps its position) or appends it. */
export function setProp(n: FdtNode, p: FdtProp): void {
  const i = n.props.findIndex((q) => q.name === p.name);
  if (i >= 0) n.props[i] = p;
  else n.props.push(p);
}

/**
 * Sets /chosen's `bootargs` and `linux,initrd-start`/`linux,initrd-end` on `dtb` and returns
 * the re-serialised blob. The initrd values are 64-bit (two cells), as Xen 4.17 writes them
 * for a domU (it stores a u64 for each, whatever the root's #address-cells); Linux reads
 * either width. A missing /chosen is created as the root's first child, where Xen puts it.
 * Settings left undefined leave the blob's own values alone.
 */
export function withChosen(
  dtb: Uint8Array,
  chosen: ChosenSettings,
): { ok: true; dtb: Uint8Array } | { ok: false; error: string } {
  const t = treeFromBlob(dtb);
  if (!t.ok) return t;
  if (chosen.initrd && chosen.initrd.end < chosen.initrd.start) {
    return { ok: false, error: `initrd end 0x${chosen.initrd.end.toString(16)} is below its start 0x${chosen.initrd.start.toString(16)}` };
  }
  const { root } = t.tree;
  let c = root.children.find((n) => n.name === 'chosen');
  if (!c) {
    c = node('chosen');
    root.children.unshift(c);
  }
  if (chosen.bootargs !== undefined) setProp(c, stringProp('bootargs', chosen.bootargs));
  if (chosen.initrd) {
    setProp(c, u64Prop('linux,initrd-start', chosen.initrd.start));
    setProp(c, u64Prop('linux,initrd-end', chosen.initrd.end));
  }
  return { ok: true, dtb: serializeFdt(root, { reservations: t.tree.reservations, bootCpuidPhys: t.tree.bootCpuidPhys }) };
}
