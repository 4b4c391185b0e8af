/**
 * Guest stage-1 translation for the EL1&0 regime (Arm ARM DDI0487, chapter D8 "The AArch64
 * Virtual Memory System Architecture"), walked in software over guest physical memory.
 *
 * The CPU model is the oracle's Cortex-A57 (ARMv8.0): no hardware Access-flag or dirty-state
 * update (TCR.HA/HD are ignored), no FEAT_LPA/LPA2 (48-bit descriptors), no FEAT_PAN unless the
 * caller asks for it, PARange 44 bits unless `paBits` says otherwise. The A57 implements the 4K
 * and 64K granules only (ID_AA64MMFR0_EL1.TGran16 = 0); 16K is walked anyway, as a later core
 * would. Choices where DDI0487 leaves one: TxSZ outside 16..39 is clamped (Constraint_FORCE);
 * reserved TGn encodings walk as 4K.
 *
 * Fault priority implemented, highest first: the order in which DDI0487's ARMv8.0 pseudocode
 * checks them (AArch64.TranslateAddressS1Off, AArch64.TranslationTableWalk, then
 * AArch64.CheckPermission from AArch64.FirstStageTranslate):
 *  1. MMU off: an address above the PA size is an Address size fault, level 0.
 *  2. The VA selects no table (upper bits neither all 0 nor all 1 for the range), or the range
 *     is disabled by TCR.EPDn: Translation fault, level 0.
 *  3. TTBRn's base address above the output size: Address size fault, level 0.
 *  4. Walk, per level from the start level: a descriptor not in RAM ('walk-not-ram', the stage-2
 *     abort Xen would see, see below); an invalid descriptor, a reserved one (0b01 at level 3)
 *     or a block where the granule allows none: Translation fault at that level; a next-table
 *     address above the output size: Address size fault at that level.
 *  5. Output address above the output size: Address size fault at the final level.
 *  6. AF = 0: Access flag fault at the final level (software-managed AF only).
 *  7. Permissions (AP, APTable, UXN/PXN, UXNTable/PXNTable, WXN, PAN): Permission fault at the
 *     final level.
 *
 * A descriptor read that misses RAM is, under Xen, a stage-2 fault on the stage-1 walk: it traps
 * to Xen, which injects an abort whose ISS is 0 (see `abortSyndrome`). We report it as its own
 * kind so callers can tell it apart from the faults the guest's MMU raises itself.
 */
import { EC, esr } from './arm64.ts';

/** Reads a 64-bit little-endian descriptor at a guest physical address; undefined = not RAM. */
export type ReadPhys64 = (pa: bigint) => bigint | undefined;

/** The translation registers as the guest wrote them (SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1). */
export interface Stage1Regs {
  sctlr: bigint;
  tcr: bigint;
  ttbr0: bigint;
  ttbr1: bigint;
}

export type AccessKind = 'read' | 'write' | 'fetch';

export interface Stage1Access {
  va: bigint;
  kind: AccessKind;
  /** The EL whose permissions apply. LDTR/STTR at EL1 check EL0 permissions: pass 0. */
  el: 0 | 1;
  /** PSTATE.PAN for an EL1 data access (ARMv8.1 FEAT_PAN; the A57 has none). Default false. */
  pan?: boolean;
}

export interface MmuOptions {
  /** Implemented PA size in bits (ID_AA64MMFR0_EL1.PARange). Cortex-A57: 44. */
  paBits?: number;
}

export type Stage1FaultKind = 'translation' | 'access-flag' | 'permission' | 'address-size' | 'walk-not-ram';

export interface Stage1Fault {
  kind: Stage1FaultKind;
  /** The level at which the walk stopped, 0..3 (what the FSC encodes). */
  level: number;
}

/** Access permissions of a translation, for each EL, before PAN (a caller with PAN applies it). */
export interface Stage1Perms {
  el0: { r: boolean; w: boolean; x: boolean };
  el1: { r: boolean; w: boolean; x: boolean };
}

export interface Stage1Ok {
  ok: true;
  pa: bigint;
  /** The MMU was off: PA = VA, no attributes. */
  mmuOff: boolean;
  /** Level of the final descriptor (block or page); 0 when the MMU is off. */
  level: number;
  /** Bytes mapped by the final descriptor (page or block size); 4096 when the MMU is off. */
  mappingSize: bigint;
  /** Lower attributes of the final descriptor: AttrIndx[2:0] (MAIR index), SH[1:0], nG. */
  attrIndx: number;
  sh: number;
  nG: boolean;
  perms: Stage1Perms;
}

export type Stage1Result = Stage1Ok | { ok: false; fault: Stage1Fault };

// SCTLR_EL1 (D17.2.118) and TCR_EL1 (D17.2.131) fields.
export const SCTLR_M = 1n << 0n;
export const SCTLR_WXN = 1n << 19n;
const TCR_EPD0 = 1n << 7n;
const TCR_EPD1 = 1n << 23n;
const TCR_TBI0 = 1n << 37n;
const TCR_TBI1 = 1n << 38n;

/** Granule sizes as log2 of bytes. */
type GrainShift = 12 | 14 | 16;

/** TCR.TG0: 00 4K, 01 64K, 10 16K; 11 is reserved and treated as 4K (IMPLEMENTATION DEFINED). */
function grainTG0(tg: number): GrainShift {
  return tg === 1 ? 16 : tg === 2 ? 14 : 12;
}
/** TCR.TG1 has its own encoding: 01 16K, 10 4K, 11 64K; 00 is reserved and treated as 4K. */
function grainTG1(tg: number): GrainShift {
  return tg === 1 ? 14 : tg === 3 ? 16 : 12;
}

/** Input size limits for ARMv8.0 (no FEAT_TTST, no FEAT_LVA): 25..48 bits, i.e. TxSZ 16..39. */
const MIN_INPUT = 25;
const MAX_INPUT = 48;

/** IPS / PARange encodings to bits (D17.2.131); 0b110 (52) is FEAT_LPA and capped like PARange. */
const PA_BITS = [32, 36, 40, 42, 44, 48, 52, 52];

const ALL_PERMS: Stage1Perms = Object.freeze({
  el0: Object.freeze({ r: true, w: true, x: true }),
  el1: Object.freeze({ r: true, w: true, x: true }),
});
const mask = (bits: number) => (1n << BigInt(bits)) - 1n;
const bitSet = (v: bigint, bit: number) => ((v >> BigInt(bit)) & 1n) === 1n;

/** Output address size in bits: TCR.IPS capped by the implemented PA size. */
export function outputBits(tcr: bigint, paBits = 44): number {
  const ips = PA_BITS[Number((tcr >> 32n) & 7n)];
  return Math.min(ips, paBits, 48);
}

/**
 * The top VA bit that takes part in translation: 55 when TCR.TBIn ignores the top byte (bit 55
 * picks TBI0 or TBI1), 63 otherwise. Instruction fetches never ignore it here: a branch already
 * strips the tag from the PC (BranchTo sign-extends bit 55 when TBI applies), so a fetch address
 * is canonical and checking all of it loses nothing (DDI0487, "Address tagging").
 */
function addrTop(va: bigint, tcr: bigint, fetch: boolean): number {
  if (fetch) return 63;
  const tbi = bitSet(va, 55) ? tcr & TCR_TBI1 : tcr & TCR_TBI0;
  return tbi ? 55 : 63;
}

const fault = (kind: Stage1FaultKind, level: number): Stage1Result => ({ ok: false, fault: { kind, level } });

/**
 * Translates one access through the guest's stage 1 (EL1&0 regime).
 *
 * `read` fetches descriptors from guest physical memory. The result's `pa` is the output of
 * stage 1 (an IPA under Xen); whether it is RAM is the caller's business.
 */
export function translateStage1(read: ReadPhys64, regs: Stage1Regs, access: Stage1Access, opts: MmuOptions = {}): Stage1Result {
  const paBits = opts.paBits ?? 44;
  const { va, kind } = access;
  const fetch = kind === 'fetch';
  const top = addrTop(va, regs.tcr, fetch);

  if ((regs.sctlr & SCTLR_M) === 0n) {
    // AArch64.TranslateAddressS1Off: VA bits [top:PAMax] must be zero, then PA = VA.
    const hi = (va & mask(top + 1)) >> BigInt(paBits);
    if (hi !== 0n) return fault('address-size', 0);
    return { ok: true, pa: va & mask(paBits), mmuOff: true, level: 0, mappingSize: 4096n, attrIndx: 0, sh: 0, nG: false, perms: ALL_PERMS };
  }

  const tcr = regs.tcr;
  const upper = bitSet(va, top);
  const txsz = Number(upper ? (tcr >> 16n) & 0x3fn : tcr & 0x3fn);
  const grain = upper ? grainTG1(Number((tcr >> 30n) & 3n)) : grainTG0(Number((tcr >> 14n) & 3n));
  // TxSZ out of range is CONSTRAINED UNPREDICTABLE; we take the "clamp" option (Constraint_FORCE).
  const inputSize = Math.min(MAX_INPUT, Math.max(MIN_INPUT, 64 - txsz));
  const disabled = upper ? (tcr & TCR_EPD1) !== 0n : (tcr & TCR_EPD0) !== 0n;

  // Bits [top:inputSize] must all equal the range-select bit (all 0: TTBR0, all 1: TTBR1).
  const rangeBits = (va >> BigInt(inputSize)) & mask(top + 1 - inputSize);
  const expected = upper ? mask(top + 1 - inputSize) : 0n;
  if (rangeBits !== expected || disabled) return fault('translation', 0);

  const outBits = outputBits(tcr, paBits);
  const stride = grain - 3;
  const startLevel = 4 - Math.ceil((inputSize - grain) / stride);
  // The first table is aligned to its own size (baselowerbound in the walk pseudocode).
  const baseLow = 3 + inputSize - ((3 - startLevel) * stride + grain);
  const ttbr = upper ? regs.ttbr1 : regs.ttbr0;
  const baddr = ttbr & mask(48) & ~mask(baseLow);
  if (baddr >> BigInt(outBits) !== 0n) return fault('address-size', 0);

  // Block descriptors: 4K at levels 1 and 2, 16K and 64K at level 2 only (no FEAT_LPA).
  const firstBlockLevel = grain === 12 ? 1 : 2;
  const addrMask = mask(48);

  let table = baddr;
  let level = startLevel;
  // Hierarchical attributes gathered from table descriptors (DDI0487, "Hierarchical control of
  // data access permissions" and "... of instruction fetching").
  let noEl0 = false; // APTable[0]
  let readOnly = false; // APTable[1]
  let uxnTable = false;
  let pxnTable = false;
  let desc: bigint;
  for (;;) {
    const lsb = grain + (3 - level) * stride;
    const width = Math.min(inputSize, lsb + stride) - lsb;
    const index = (va >> BigInt(lsb)) & mask(width);
    const d = read(table + index * 8n);
    if (d === undefined) return fault('walk-not-ram', level);
    if ((d & 1n) === 0n) return fault('translation', level);
    const isTableOrPage = (d & 2n) !== 0n;
    if (level === 3) {
      if (!isTableOrPage) return fault('translation', 3); // 0b01 is reserved at level 3
      desc = d;
      break;
    }
    if (!isTableOrPage) {
      if (level < firstBlockLevel) return fault('translation', level);
      desc = d;
      break;
    }
    const next = d & addrMask & ~mask(grain);
    if (next >> BigInt(outBits) !== 0n) return fault('address-size', level);
    pxnTable ||= bitSet(d, 59);
    uxnTable ||= bitSet(d, 60);
    noEl0 ||= bitSet(d, 61);
    readOnly ||= bitSet(d, 62);
    table = next;
    level++;
  }

  const lsb = grain + (3 - level) * stride;
  const oa = desc & addrMask & ~mask(lsb);
  if (oa >> BigInt(outBits) !== 0n) return fault('address-size', level);
  if (!bitSet(desc, 10)) return fault('access-flag', level);

  // AP[2:1] (DDI0487, "Data access permissions"), narrowed by APTable.
  const ap1 = bitSet(desc, 6) && !noEl0; // EL0 has access
  const ap2 = bitSet(desc, 7) || readOnly; // read-only at every EL
  const wxn = (regs.sctlr & SCTLR_WXN) !== 0n;
  const el0w = ap1 && !ap2;
  const el1w = !ap2;
  const perms: Stage1Perms = {
    el0: { r: ap1, w: el0w, x: !(bitSet(desc, 54) || uxnTable || (wxn && el0w)) },
    // EL1 never executes what EL0 can write (DDI0487, "Instruction access
    // permissions": PXN is implied when AP gives EL0 write access).
    el1: { r: true, w: el1w, x: !(bitSet(desc, 53) || pxnTable || (wxn && el1w) || el0w) },
  };
  if (!permits(perms, access)) return fault('permission', level);

  return {
    ok: true,
    pa: oa | (va & mask(lsb)),
    mmuOff: false,
    level,
    mappingSize: 1n << BigInt(lsb),
    attrIndx: Number((desc >> 2n) & 7n),
    sh: Number((desc >> 8n) & 3n),
    nG: bitSet(desc, 11),
    perms,
  };
}

/**
 * Whether `perms` allow the access. Fetches need execute permission only (an EL0 page with
 * AP[1]=0 and UXN=0 is execute-only in ARMv8.0). PAN removes EL1 data access to EL0-readable
 * pages.
 */
export function permits(perms: Stage1Perms, access: Pick<Stage1Access, 'kind' | 'el' | 'pan'>): boolean {
  const p = access.el === 0 ? perms.el0 : perms.el1;
  if (access.kind === 'fetch') return p.x;
  if (access.el === 1 && access.pan && perms.el0.r) return false;
  return access.kind === 'write' ? p.w : p.r;
}

/**
 * Translates a data access that may both read and write memory (atomics, CAS; see
 * decode-ls.ts) and says which direction a fault reports: DDI0487's ISS WnR for an atomic is 0
 * when a read of the location would have faulted, 1 otherwise. Plain loads and stores walk once.
 */
export function translateDataAccess(
  read: ReadPhys64,
  regs: Stage1Regs,
  a: { va: bigint; read: boolean; write: boolean; el: 0 | 1; pan?: boolean },
  opts: MmuOptions = {},
): { result: Stage1Result; kind: 'read' | 'write' } {
  if (a.read || !a.write) {
    const r = translateStage1(read, regs, { va: a.va, kind: 'read', el: a.el, pan: a.pan }, opts);
    if (!r.ok || !a.write) return { result: r, kind: 'read' };
  }
  return { result: translateStage1(read, regs, { va: a.va, kind: 'write', el: a.el, pan: a.pan }, opts), kind: 'write' };
}

/** Anything the guest sees as an abort: a stage-1 fault or an alignment fault. */
export type AbortCause = Stage1Fault | { kind: 'alignment' };

export interface AbortSyndromeArgs {
  fault: AbortCause;
  kind: AccessKind;
  /** EL the access was made from. */
  fromEl: 0 | 1;
  /** EL the exception is taken to (the guest kernel: 1). */
  currentEl: 0 | 1;
  /** A cache maintenance instruction faulted (ESR.CM = 1, WnR = 1). */
  cacheMaintenance?: boolean;
}

/** Data/Instruction Fault Status Codes (D17.2.37, ISS encoding for an abort). */
export const FSC = {
  ADDRESS_SIZE: 0b000000,
  TRANSLATION: 0b000100,
  ACCESS_FLAG: 0b001000,
  PERMISSION: 0b001100,
  ALIGNMENT: 0b100001,
} as const;

const ISS_WNR = 1 << 6;
const ISS_CM = 1 << 8;

/** EC of an instruction (`fetch`) or data abort, taken from a lower EL or the current one. */
export function abortEc(fetch: boolean, lower: boolean): number {
  return fetch ? (lower ? EC.IABT_LOW : EC.IABT_CUR) : lower ? EC.DABT_LOW : EC.DABT_CUR;
}

/**
 * ESR_EL1 for an abort the guest takes: EC 0x20/0x21 (instruction abort from a lower / the same
 * EL), 0x24/0x25 (data abort), IL=1, ISV=0, WnR for writes, FSC with the level in its low bits.
 * 'walk-not-ram' gives ISS 0: under Xen it is a stage-2 abort, and Xen injects those with an
 * empty ISS (inject_abt64_exception), whatever the access.
 */
export function abortSyndrome(a: AbortSyndromeArgs): number {
  const ec = abortEc(a.kind === 'fetch', a.fromEl < a.currentEl);
  const f = a.fault;
  if (f.kind === 'walk-not-ram') return esr(ec, 0);
  let fsc: number;
  switch (f.kind) {
    case 'alignment':
      fsc = FSC.ALIGNMENT;
      break;
    case 'address-size':
      fsc = FSC.ADDRESS_SIZE | f.level;
      break;
    case 'translation':
      fsc = FSC.TRANSLATION | f.level;
      break;
    case 'access-flag':
      fsc = FSC.ACCESS_FLAG | f.level;
      break;
    case 'permission':
      fsc = FSC.PERMISSION | f.level;
      break;
  }
  let iss = fsc;
  if (a.kind !== 'fetch') {
    if (a.kind === 'write' || a.cacheMaintenance) iss |= ISS_WNR;
    if (a.cacheMaintenance) iss |= ISS_CM;
  }
  return esr(ec, iss);
}
