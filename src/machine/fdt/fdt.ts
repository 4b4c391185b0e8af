/**
 * Flattened devicetree (DTB) reader.
 *
 * Layout facts from the Devicetree Specification v0.4, chapter 5 ("Flattened Devicetree
 * (DTB) Format"): a big-endian header of ten u32 fields, a memory reservation block of
 * (u64 address, u64 size) pairs ended by a zero pair, a structure block of 4-byte aligned
 * tokens, and a strings block holding property names.
 *
 * The blob comes from the user, so it is untrusted: every read is bounds-checked against
 * its block, the token walk always moves forward (so it ends), the tree is built without
 * recursion (so deep nesting cannot exhaust the stack), and every failure is a value that
 * says where (byte offset) and what was expected.
 */
import { type Result, ok, err, hex } from '../result.ts';

export const FDT_MAGIC = 0xd00dfeed;

/** Structure block tokens (DT spec v0.4 §5.4.1). */
export const FdtToken = {
  BEGIN_NODE: 0x1,
  END_NODE: 0x2,
  PROP: 0x3,
  NOP: 0x4,
  END: 0x9,
} as const;

/** The header is 40 bytes from version 17 on (size_dt_struct was added in 17). */
const HEADER_SIZE_V17 = 40;
const HEADER_SIZE_V16 = 36;

/** The newest layout this reader understands; a blob may claim a newer version as long
 * as it says it is still readable as this one (last_comp_version). */
const SUPPORTED_VERSION = 17;

export interface FdtHeader {
  magic: number;
  totalsize: number;
  offDtStruct: number;
  offDtStrings: number;
  offMemRsvmap: number;
  version: number;
  lastCompVersion: number;
  bootCpuidPhys: number;
  sizeDtStrings: number;
  sizeDtStruct: number;
}

export interface FdtNode {
  /** Node name without the unit address: "uart" for "uart@9000000"; "" for the root. */
  name: string;
  /** The part after '@', if any: "9000000". */
  unitAddress?: string;
  /** Name as written in the blob, with the unit address. */
  fullName: string;
  props: Map<string, Uint8Array>;
  children: FdtNode[];
  parent: FdtNode | undefined;
}

export interface FdtReservation {
  address: bigint;
  size: bigint;
}

export interface Fdt {
  header: FdtHeader;
  root: FdtNode;
  reservations: FdtReservation[];
  /** phandle -> node, from `phandle` (or the older `linux,phandle`) properties. */
  phandles: Map<number, FdtNode>;
}

export function parseFdt(blob: Uint8Array): Result<Fdt> {
  const h = parseHeader(blob);
  if (!h.ok) return h;
  const header = h.value;

  const rsv = parseReservations(blob, header);
  if (!rsv.ok) return rsv;

  const tree = parseStructure(blob, header);
  if (!tree.ok) return tree;

  return ok({ header, root: tree.value.root, reservations: rsv.value, phandles: tree.value.phandles });
}

function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

function u64(b: Uint8Array, off: number): bigint {
  return (BigInt(u32(b, off)) << 32n) | BigInt(u32(b, off + 4));
}

function parseHeader(b: Uint8Array): Result<FdtHeader> {
  if (b.length < 8) {
    return err(`fdt: blob is ${b.length} bytes, too short for a header (need at least ${HEADER_SIZE_V16})`);
  }
  const magic = u32(b, 0);
  if (magic !== FDT_MAGIC) {
    return err(`fdt: bad magic ${hex(magic)} at offset 0x0 (expected ${hex(FDT_MAGIC)})`);
  }
  if (b.length < HEADER_SIZE_V16) {
    return err(`fdt: blob is ${b.length} bytes, too short for a header (need at least ${HEADER_SIZE_V16})`);
  }
  const version = u32(b, 20);
  const lastCompVersion = u32(b, 24);
  if (version < 16) {
    return err(`fdt: version ${version} at offset 0x14 is too old (this reader needs 16 or 17)`);
  }
  if (lastCompVersion > SUPPORTED_VERSION) {
    return err(
      `fdt: last_comp_version ${lastCompVersion} at offset 0x18 is newer than the supported version ${SUPPORTED_VERSION}`,
    );
  }
  const headerSize = version >= 17 ? HEADER_SIZE_V17 : HEADER_SIZE_V16;
  if (b.length < headerSize) {
    return err(`fdt: blob is ${b.length} bytes, too short for a version ${version} header (${headerSize} bytes)`);
  }
  const header: FdtHeader = {
    magic,
    totalsize: u32(b, 4),
    offDtStruct: u32(b, 8),
    offDtStrings: u32(b, 12),
    offMemRsvmap: u32(b, 16),
    version,
    lastCompVersion,
    bootCpuidPhys: u32(b, 28),
    sizeDtStrings: u32(b, 32),
    // Version 16 has no size_dt_struct: the structure block may run to the end of the blob.
    sizeDtStruct: version >= 17 ? u32(b, 36) : 0,
  };
  if (header.totalsize > b.length) {
    return err(`fdt: totalsize ${hex(header.totalsize)} at offset 0x4 exceeds the blob length ${hex(b.length)}`);
  }
  if (header.totalsize < headerSize) {
    return err(`fdt: totalsize ${hex(header.totalsize)} is smaller than the header (${headerSize} bytes)`);
  }
  if (version < 17) header.sizeDtStruct = Math.max(0, header.totalsize - header.offDtStruct);

  const blocks: [string, number, number][] = [
    ['structure block', header.offDtStruct, header.sizeDtStruct],
    ['strings block', header.offDtStrings, header.sizeDtStrings],
  ];
  for (const [what, off, size] of blocks) {
    if (off < headerSize || off + size > header.totalsize) {
      return err(
        `fdt: ${what} [${hex(off)},${hex(off + size)}) is outside the blob [${hex(headerSize)},${hex(header.totalsize)})`,
      );
    }
  }
  if (header.offDtStruct % 4 !== 0) {
    return err(`fdt: structure block offset ${hex(header.offDtStruct)} is not 4-byte aligned`);
  }
  if (header.offMemRsvmap < headerSize || header.offMemRsvmap >= header.totalsize || header.offMemRsvmap % 8 !== 0) {
    return err(
      `fdt: memory reservation block offset ${hex(header.offMemRsvmap)} is not an 8-byte aligned offset inside the blob`,
    );
  }
  return ok(header);
}

function parseReservations(b: Uint8Array, h: FdtHeader): Result<FdtReservation[]> {
  const out: FdtReservation[] = [];
  for (let off = h.offMemRsvmap; ; off += 16) {
    if (off + 16 > h.totalsize) {
      return err(`fdt: memory reservation block runs past the end of the blob at offset ${hex(off)} (no terminating zero entry)`);
    }
    const address = u64(b, off);
    const size = u64(b, off + 8);
    if (address === 0n && size === 0n) return ok(out);
    out.push({ address, size });
  }
}

/** Splits "uart@9000000" into name and unit address. */
function splitName(full: string): { name: string; unitAddress?: string } {
  const at = full.indexOf('@');
  return at < 0 ? { name: full } : { name: full.slice(0, at), unitAddress: full.slice(at + 1) };
}

function parseStructure(b: Uint8Array, h: FdtHeader): Result<{ root: FdtNode; phandles: Map<number, FdtNode> }> {
  const start = h.offDtStruct;
  const end = h.offDtStruct + h.sizeDtStruct;
  const strStart = h.offDtStrings;
  const strEnd = h.offDtStrings + h.sizeDtStrings;
  const latin1 = new TextDecoder('latin1');

  let root: FdtNode | undefined;
  let cur: FdtNode | undefined;
  const phandles = new Map<number, FdtNode>();
  let off = start;

  const truncated = (what: string, need: number): Result<never> =>
    err(
      `fdt: structure block truncated at offset ${hex(off)}: expected ${what} (${need} bytes), block ends at ${hex(end)}`,
    );

  /** Reads a NUL-terminated string in [from, limit); returns its end (index of the NUL) or -1. */
  const findNul = (from: number, limit: number): number => {
    for (let i = from; i < limit; i++) if (b[i] === 0) return i;
    return -1;
  };

  // Each iteration consumes at least one 4-byte token, so the walk is bounded by the block size.
  for (;;) {
    if (off + 4 > end) return truncated('a token', 4);
    const tokenOff = off;
    const token = u32(b, off);
    off += 4;
    switch (token) {
      case FdtToken.BEGIN_NODE: {
        const nul = findNul(off, end);
        if (nul < 0) {
          return err(`fdt: structure block truncated at offset ${hex(off)}: node name has no terminating NUL before ${hex(end)}`);
        }
        const full = latin1.decode(b.subarray(off, nul));
        off = align4(nul + 1);
        if (off > end) return truncated('node name padding', off - (nul + 1));
        if (root !== undefined && cur === undefined) {
          return err(`fdt: second root node at offset ${hex(tokenOff)} (only one top-level node is allowed)`);
        }
        const node: FdtNode = { ...splitName(full), fullName: full, props: new Map(), children: [], parent: cur };
        if (cur) cur.children.push(node);
        else root = node;
        cur = node;
        break;
      }
      case FdtToken.END_NODE:
        if (cur === undefined) return err(`fdt: FDT_END_NODE at offset ${hex(tokenOff)} without a matching FDT_BEGIN_NODE`);
        cur = cur.parent;
        break;
      case FdtToken.PROP: {
        if (off + 8 > end) return truncated('FDT_PROP length and name offset', 8);
        const len = u32(b, off);
        const nameoff = u32(b, off + 4);
        off += 8;
        if (cur === undefined) return err(`fdt: FDT_PROP at offset ${hex(tokenOff)} outside any node`);
        if (len > end - off) {
          return err(
            `fdt: structure block truncated at offset ${hex(off)}: property value of ${len} bytes runs past the block end ${hex(end)}`,
          );
        }
        if (nameoff >= h.sizeDtStrings) {
          return err(
            `fdt: property name offset ${hex(nameoff)} at offset ${hex(tokenOff + 8)} is outside the strings block (size ${hex(h.sizeDtStrings)})`,
          );
        }
        const nameNul = findNul(strStart + nameoff, strEnd);
        if (nameNul < 0) {
          return err(`fdt: property name at strings offset ${hex(nameoff)} has no terminating NUL inside the strings block`);
        }
        const name = latin1.decode(b.subarray(strStart + nameoff, nameNul));
        const value = b.slice(off, off + len);
        off = align4(off + len);
        if (off > end) return truncated('property value padding', off - end);
        cur.props.set(name, value);
        if ((name === 'phandle' || name === 'linux,phandle') && len === 4) {
          const ph = u32(value, 0);
          // 0 and 0xffffffff are not valid phandles (DT spec v0.4 §2.3.3); the first node wins.
          if (ph !== 0 && ph !== 0xffffffff && !phandles.has(ph)) phandles.set(ph, cur);
        }
        break;
      }
      case FdtToken.NOP:
        break;
      case FdtToken.END:
        if (cur !== undefined) {
          return err(`fdt: FDT_END at offset ${hex(tokenOff)} while node '${cur.fullName}' is still open`);
        }
        if (root === undefined) return err(`fdt: structure block at ${hex(start)} has no root node`);
        return ok({ root, phandles });
      default:
        return err(
          `fdt: unknown token ${hex(token)} at offset ${hex(tokenOff)} (expected FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP or FDT_END)`,
        );
    }
  }
}

/** Rounds up to a multiple of 4 without 32-bit bitwise ops (offsets may exceed 2^31). */
function align4(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}
