/**
 * What kind of store an A64 instruction is, for the protocol checker's "plain versus atomic"
 * rule: the 2-level bitmaps in shared_info are written by Xen at any moment (from another
 * physical CPU under a real Xen), so a guest may change them only with a single atomic
 * read-modify-write. Encodings: Arm ARM DDI0487, C4.1 "Loads and Stores":
 *
 * - `exclusive`: STXR/STLXR/STXP/STLXP (load/store exclusive group, o2 = 0, L = 0), the store
 *   half of an LDXR/STXR loop; it fails instead of overwriting a word Xen changed meanwhile.
 * - `atomic`: the Armv8.1 LSE atomic memory operations (LDADD, LDCLR, LDEOR, LDSET, LD[SU]MAX,
 *   LD[SU]MIN, SWP, and their ST* aliases) and CAS/CASP: one indivisible read-modify-write.
 * - `release`: STLR/STLLR/STLUR: single-copy atomic, ordered, but a plain overwrite of the
 *   whole location; as a read-modify-write of a bitmap word it races like any other store.
 * - `plain`: every other store (STR, STRB, STRH, STUR, STP, STNP, STTR, SIMD stores, DC ZVA).
 * - `none`: not a store.
 */
import { decodeMemAccess } from '../cpu/decode-ls.ts';

export type StoreClass = 'exclusive' | 'atomic' | 'release' | 'plain' | 'none';

/** Load/store exclusive and ordered group: bits [29:24] = 001000 (size in [31:30]). */
const isExclusiveGroup = (i: number) => (i & 0x3f000000) === 0x08000000;
/** LSE atomic memory operations: size 111 V=0 00 A R 1 Rs o3 opc 00 Rn Rt. */
const isLseAtomic = (i: number) => (i & 0x3f200c00) === 0x38200000;

export function classifyStore(insn: number): StoreClass {
  insn >>>= 0;
  if (isExclusiveGroup(insn)) {
    const o2 = (insn >>> 23) & 1;
    const l = (insn >>> 22) & 1;
    const o1 = (insn >>> 21) & 1;
    // CAS (o2 = 1, o1 = 1, any size) and CASP (size 0x, o2 = 0, o1 = 1, Rt2 = 11111).
    if (o2 === 1 && o1 === 1) return 'atomic';
    if (o2 === 0 && o1 === 1 && (insn >>> 31) === 0 && ((insn >>> 10) & 0x1f) === 0x1f) return 'atomic';
    if (l === 1) return 'none';
    // o2 = 0: STXR/STLXR (o1 = 0) and STXP/STLXP (o1 = 1). o2 = 1, o1 = 0: STLLR/STLR.
    return o2 === 0 ? 'exclusive' : 'release';
  }
  if (isLseAtomic(insn)) {
    const o3 = (insn >>> 15) & 1;
    const opc = (insn >>> 12) & 7;
    // o3 = 1, opc = 100 is LDAPR, a load; the rest (opc 0xx with o3 = 0, SWP with o3 = 1, opc 000) write.
    if (o3 === 1 && opc === 0b100) return 'none';
    return 'atomic';
  }
  // STLUR (RCpc unscaled, v8.4): size 011001 opc(00) 0 imm9 00 Rn Rt.
  if ((insn & 0x3fe00c00) === 0x19000000) return 'release';
  const a = decodeMemAccess(insn, () => 0n, 0n);
  return a?.write ? 'plain' : 'none';
}

/** Whether a store of this class may update a word that the hypervisor updates concurrently. */
export function isAtomicUpdate(c: StoreClass): boolean {
  return c === 'exclusive' || c === 'atomic';
}
