/**
 * The boot loader's part of a guest devicetree: /chosen's `bootargs` (the kernel command line)
 * and `linux,initrd-start` / `linux,initrd-end` (where the ramdisk is). Xen 4.17 writes these
 * for a domain it builds (xen/arch/arm/domain_build.c, the /chosen node): bootargs only when
 * the command line is not empty, the initrd pair only when there is an initrd, each as a u64
 * (8 bytes, big-endian), and initrd-end = start + the ramdisk's exact size. Linux reads them
 * as Documentation/devicetree/bindings/chosen.txt describes.
 *
 * `applyChosen` edits a compiled blob (DT spec v0.4 ch. 5) rather than a tree: an existing
 * property of the same name in /chosen becomes FDT_NOP tokens, the new properties go at the
 * end of /chosen (which is created under the root if the blob has none), names are appended
 * to the strings block, and the header is rewritten. It is small on purpose: once a devicetree
 * writer for the whole domU tree exists (src/machine/fdt), this one call moves there.
 */
import { FdtToken, parseFdt } from '../fdt/fdt.ts';
import { type Result, ok, err } from '../result.ts';

export interface ChosenValues {
  /** Kernel command line; empty or absent = no bootargs property (as Xen does). */
  bootargs?: string;
  /** [start, end) of the initrd in guest-physical memory. */
  initrd?: { start: bigint; end: bigint };
}

const HEADER_SIZE = 40; // version 17
const RSV_ENTRY = 16;

const u64be = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v));
  return b;
};

/** The properties `v` asks for, in Xen's order. */
export function chosenProperties(v: ChosenValues): [string, Uint8Array][] {
  const props: [string, Uint8Array][] = [];
  if (v.bootargs) props.push(['bootargs', new TextEncoder().encode(v.bootargs + '\0')]);
  if (v.initrd) props.push(['linux,initrd-start', u64be(v.initrd.start)], ['linux,initrd-end', u64be(v.initrd.end)]);
  return props;
}

/** A copy of `dtb` whose /chosen holds `v`'s properties; `dtb` itself is not changed. */
export function applyChosen(dtb: Uint8Array, v: ChosenValues): Result<Uint8Array> {
  const parsed = parseFdt(dtb);
  if (!parsed.ok) return err(`devicetree: ${parsed.error}`);
  const props = chosenProperties(v);
  if (props.length === 0) return ok(dtb);
  const h = parsed.value.header;
  const dv = new DataView(dtb.buffer, dtb.byteOffset, dtb.byteLength);
  const at = (o: number) => dv.getUint32(o);
  const cstr = (o: number) => {
    let e = o;
    while (dtb[e] !== 0) e++;
    return { text: new TextDecoder('latin1').decode(dtb.subarray(o, e)), next: e + 1 };
  };
  const align4 = (n: number) => (n + 3) & ~3;

  // One walk over the structure block (parseFdt has checked it is well formed).
  const struct = dtb.slice(h.offDtStruct, h.offDtStruct + h.sizeDtStruct);
  const sdv = new DataView(struct.buffer);
  const names = new Set(props.map(([n]) => n));
  let depth = 0;
  let chosenDepth = -1;
  let insertAt = -1;
  let createChosen = false;
  for (let o = 0; o < struct.length; ) {
    const tok = at(h.offDtStruct + o);
    if (tok === FdtToken.BEGIN_NODE) {
      const name = cstr(h.offDtStruct + o + 4);
      depth++;
      if (depth === 2 && name.text === 'chosen' && chosenDepth < 0) chosenDepth = depth;
      o = align4(name.next - h.offDtStruct);
    } else if (tok === FdtToken.END_NODE) {
      if (depth === chosenDepth && insertAt < 0) insertAt = o;
      if (depth === 1 && insertAt < 0) {
        insertAt = o;
        createChosen = true;
      }
      depth--;
      o += 4;
    } else if (tok === FdtToken.PROP) {
      const len = at(h.offDtStruct + o + 4);
      const end = o + 12 + align4(len);
      if (depth === chosenDepth && insertAt < 0 && names.has(cstr(h.offDtStrings + at(h.offDtStruct + o + 8)).text)) {
        for (let n = o; n < end; n += 4) sdv.setUint32(n, FdtToken.NOP);
      }
      o = end;
    } else if (tok === FdtToken.END) break;
    else o += 4; // NOP
  }
  if (insertAt < 0) return err('devicetree: no root node to hold /chosen');

  // New strings and structure tokens.
  const oldStrings = dtb.subarray(h.offDtStrings, h.offDtStrings + h.sizeDtStrings);
  const extra: number[] = [];
  const nameOff = new Map<string, number>();
  for (const [n] of props) {
    nameOff.set(n, oldStrings.length + extra.length);
    for (const c of new TextEncoder().encode(n)) extra.push(c);
    extra.push(0);
  }
  const tokens: number[] = [];
  const word = (x: number) => tokens.push((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
  const bytes = (b: Uint8Array) => {
    tokens.push(...b);
    while (tokens.length % 4) tokens.push(0);
  };
  if (createChosen) {
    word(FdtToken.BEGIN_NODE);
    bytes(new TextEncoder().encode('chosen\0'));
  }
  for (const [n, value] of props) {
    word(FdtToken.PROP);
    word(value.length);
    word(nameOff.get(n)!);
    bytes(value);
  }
  if (createChosen) word(FdtToken.END_NODE);

  const rsvSize = (parsed.value.reservations.length + 1) * RSV_ENTRY;
  const structSize = struct.length + tokens.length;
  const stringsSize = oldStrings.length + extra.length;
  const offStruct = HEADER_SIZE + rsvSize;
  const offStrings = offStruct + structSize;
  const total = offStrings + stringsSize;
  const out = new Uint8Array(total);
  const odv = new DataView(out.buffer);
  [0xd00dfeed, total, offStruct, offStrings, HEADER_SIZE, 17, 16, h.bootCpuidPhys, stringsSize, structSize].forEach((x, i) => odv.setUint32(i * 4, x));
  out.set(dtb.subarray(h.offMemRsvmap, h.offMemRsvmap + rsvSize), HEADER_SIZE);
  out.set(struct.subarray(0, insertAt), offStruct);
  out.set(tokens, offStruct + insertAt);
  out.set(struct.subarray(insertAt), offStruct + insertAt + tokens.length);
  out.set(oldStrings, offStrings);
  out.set(extra, offStrings + oldStrings.length);
  return ok(out);
}
