/**
 * SMCCC calls a guest makes through `HVC #0` or `SMC #0` (Arm DEN0028 "SMC Calling Convention",
 * DEN0022 "PSCI"), answered as Xen 4.17 answers a domU. Every answer here was read back from the
 * real Xen 4.17 on QEMU's Cortex-A57 by `firmware/apps/smccc-probe` (test/golden/smccc-probe.*).
 *
 * - Function ids are the low 32 bits of x0 (DEN0028: SMC32 and SMC64 ids are 32-bit; the upper
 *   half of x0 is ignored). So are 32-bit arguments (PSCI_FEATURES, AFFINITY_INFO's level).
 * - SMCCC 1.1. ARCH_FEATURES: ARCH_WORKAROUND_1 and _2 are SUCCESS (Xen mitigates Spectre v2 on
 *   this CPU and lets the guest switch SSBD at run time), ARCH_WORKAROUND_3 and everything else
 *   NOT_SUPPORTED. The workaround calls themselves clear x0/x1 (Xen answers them on its entry
 *   fast path); ARCH_WORKAROUND_2 clears x0..x3.
 * - PSCI 1.1 for a domain whose vCPU n has Xen's virtual affinity (Aff0 = n % 16, Aff1 = n / 16):
 *   CPU_ON names its target by affinity, decoded as Xen's vaffinity_to_vcpuid does (Aff0 | Aff1 << 4,
 *   Aff2 and Aff3 ignored); an absent vCPU is INVALID_PARAMETERS, then a Thumb entry
 *   INVALID_ADDRESS, then a vCPU that is not down ALREADY_ON; otherwise the vCPU starts at the
 *   entry with x0 = the context id (a 'cpu-on' result the machine carries out);
 *   AFFINITY_INFO is ON/OFF per level, INVALID_PARAMETERS above level 3; MIGRATE_INFO_TYPE 2
 *   (no Trusted OS to migrate); CPU_SUSPEND waits for an interrupt and returns SUCCESS;
 *   SYSTEM_OFF/SYSTEM_RESET shut the domain down (poweroff / reboot); CPU_OFF takes the vCPU down.
 *   The PSCI 0.1 ids CPU_OFF (1) and CPU_ON (2) in the legacy range are kept too.
 * - The standard service (owner 4) and Xen's hypervisor service (owner 5) answer Call Count,
 *   Call UID and Revision. Everything else is NOT_SUPPORTED (-1) and Xen logs it as
 *   "Unhandled SMC/HVC: 0x<id>" (`unhandled` in the result): Linux 6.1 makes two such calls at
 *   boot, the vendor hypervisor UID query 0x8600ff01 and TRNG_VERSION 0x84000050.
 */

export const PSCI = {
  VERSION: 0x84000000,
  CPU_SUSPEND: 0x84000001,
  CPU_SUSPEND64: 0xc4000001,
  CPU_OFF: 0x84000002,
  CPU_ON: 0x84000003,
  CPU_ON64: 0xc4000003,
  AFFINITY_INFO: 0x84000004,
  AFFINITY_INFO64: 0xc4000004,
  MIGRATE_INFO_TYPE: 0x84000006,
  SYSTEM_OFF: 0x84000008,
  SYSTEM_RESET: 0x84000009,
  FEATURES: 0x8400000a,
} as const;

/** Pre-SMCCC PSCI 0.1 ids Xen accepts (they sit in SMCCC's legacy range 0x0..0x0100ffff). */
const PSCI_0_1 = { CPU_OFF: 1, CPU_ON: 2 } as const;

export const SMCCC = {
  VERSION: 0x80000000,
  ARCH_FEATURES: 0x80000001,
  ARCH_WORKAROUND_1: 0x80008000,
  ARCH_WORKAROUND_2: 0x80007fff,
  ARCH_WORKAROUND_3: 0x80003fff,
} as const;

/** PSCI return codes (DEN0022 §5.2.2); SMCCC's NOT_SUPPORTED is the same -1. */
export const PSCI_RET = {
  SUCCESS: 0,
  NOT_SUPPORTED: -1,
  INVALID_PARAMETERS: -2,
  ALREADY_ON: -4,
  INTERNAL_FAILURE: -6,
  INVALID_ADDRESS: -9,
} as const;
export const SMCCC_NOT_SUPPORTED = -1;

/** SMCCC 1.1 ((major << 16) | minor), what Xen 4.17 reports. */
export const SMCCC_VERSION_1_1 = 0x10001;
/** PSCI 1.1. */
export const PSCI_VERSION_1_1 = 0x10001;
/** PSCI_FEATURES / SMCCC_ARCH_FEATURES answer for a supported function. */
const SUPPORTED = 0;

/** UIDs as the four 32-bit words a Call UID query returns in x0..x3 (read from the real Xen). */
const STANDARD_SERVICE_UID = [0x6f3863f8, 0xbd4c394b, 0x16ce2092, 0x6f9fe541] as const;
const XEN_HYPERVISOR_UID = [0xdc1218a7, 0x694398c6, 0xd179cf9a, 0x67e6de8d] as const;
/** Call Count of the standard service (PSCI's functions plus its three queries) and of Xen's. */
const STANDARD_SERVICE_CALL_COUNT = 15;
const XEN_HYPERVISOR_CALL_COUNT = 3;

/** Functions PSCI_FEATURES reports as implemented (Xen's list, in id order). */
const PSCI_FEATURES_SUPPORTED = new Set<number>([
  PSCI.VERSION, PSCI.CPU_SUSPEND, PSCI.CPU_OFF, PSCI.CPU_ON, PSCI.AFFINITY_INFO, PSCI.MIGRATE_INFO_TYPE,
  PSCI.SYSTEM_OFF, PSCI.SYSTEM_RESET, PSCI.FEATURES, PSCI.CPU_SUSPEND64, PSCI.CPU_ON64, PSCI.AFFINITY_INFO64,
  SMCCC.VERSION,
]);

/** MIGRATE_INFO_TYPE: 2 = no Trusted OS, or one that needs no migration. */
const TOS_NOT_PRESENT_MP = 2;
/** AFFINITY_INFO states. */
const AFFINITY_ON = 0;
const AFFINITY_OFF = 1;

/** x0..x3 at the call. */
export interface SmcccArgs {
  x: readonly [bigint, bigint, bigint, bigint];
}

/** The calling domain, as far as PSCI cares. */
export interface SmcccDomain {
  /** Number of vCPUs; vCPU n has MPIDR affinity n (Aff0 = n % 16, Aff1 = n / 16 for GICv3). */
  nrVcpus: number;
  /** Affinity value (MPIDR bits [39:32] and [23:0]) of vCPU n. */
  affinityOf(vcpu: number): bigint;
  /** Whether vCPU n is up. */
  online(vcpu: number): boolean;
}

export type SmcccResult =
  /** Registers to write back (x0 first; shorter arrays leave the others as they are). */
  | { kind: 'return'; regs: bigint[]; unhandled?: number }
  /** SYSTEM_OFF / SYSTEM_RESET: the domain shuts down with this reason. */
  | { kind: 'shutdown'; reason: 'poweroff' | 'reboot' }
  /** CPU_OFF: the calling vCPU goes down (x0 = SUCCESS, never seen by it). */
  | { kind: 'cpu-off' }
  /** CPU_ON accepted: vCPU `vcpu` starts at `entry` with x0 = `contextId`; the caller gets SUCCESS. */
  | { kind: 'cpu-on'; vcpu: number; entry: bigint; contextId: bigint }
  /** CPU_SUSPEND: x0 = SUCCESS, and the vCPU waits until an interrupt is pending. */
  | { kind: 'suspend' };

const u32 = (x: bigint): number => Number(x & 0xffff_ffffn);
const ret = (...values: number[]): SmcccResult => ({ kind: 'return', regs: values.map((v) => BigInt.asUintN(64, BigInt(v))) });
const notSupported = (fid: number): SmcccResult => ({ kind: 'return', regs: [BigInt.asUintN(64, -1n)], unhandled: fid });

/** The owner field of a function id (DEN0028 §2.5: bits [29:24]). */
function owner(fid: number): number {
  return (fid >>> 24) & 0x3f;
}

const OWNER_ARCH = 0;
const OWNER_STANDARD = 4;
const OWNER_HYPERVISOR = 5;
/** Service queries every owner may implement (DEN0028 §6). */
const CALL_COUNT = 0xff00;
const CALL_UID = 0xff01;
const REVISION = 0xff03;
/** The legacy range of ids that predate SMCCC (PSCI 0.1 and the like). */
const LEGACY_END = 0x0100ffff;

/** Answers one SMCCC call from vCPU `caller` of `dom`. */
export function smcccCall(args: SmcccArgs, dom: SmcccDomain, caller = 0): SmcccResult {
  const fid = u32(args.x[0]);
  if (fid <= LEGACY_END) return legacyCall(fid, args, dom, caller);
  switch (owner(fid)) {
    case OWNER_ARCH:
      return archCall(fid, args);
    case OWNER_STANDARD:
      return standardCall(fid, args, dom, caller);
    case OWNER_HYPERVISOR:
      return serviceQuery(fid, XEN_HYPERVISOR_CALL_COUNT, XEN_HYPERVISOR_UID) ?? notSupported(fid);
    default:
      return notSupported(fid);
  }
}

function archCall(fid: number, args: SmcccArgs): SmcccResult {
  switch (fid) {
    case SMCCC.VERSION:
      return ret(SMCCC_VERSION_1_1);
    case SMCCC.ARCH_FEATURES: {
      const which = u32(args.x[1]);
      return ret(which === SMCCC.ARCH_WORKAROUND_1 || which === SMCCC.ARCH_WORKAROUND_2 ? SUPPORTED : SMCCC_NOT_SUPPORTED);
    }
    // Xen's guest entry answers these itself, leaving zeroes where it did its work.
    case SMCCC.ARCH_WORKAROUND_1:
    case SMCCC.ARCH_WORKAROUND_3:
      return ret(0, 0);
    case SMCCC.ARCH_WORKAROUND_2:
      return ret(0, 0, 0, 0);
    default:
      return notSupported(fid);
  }
}

function serviceQuery(fid: number, count: number, uid: readonly number[]): SmcccResult | undefined {
  if ((fid & 0xc000_0000) >>> 0 !== 0x8000_0000) return undefined; // fast SMC32 only
  switch (fid & 0xffff) {
    case CALL_COUNT:
      return ret(count);
    case CALL_UID:
      return ret(...uid);
    case REVISION:
      return ret(0, 1);
    default:
      return undefined;
  }
}

function legacyCall(fid: number, args: SmcccArgs, dom: SmcccDomain, caller: number): SmcccResult {
  if (fid === PSCI_0_1.CPU_OFF) return { kind: 'cpu-off' };
  if (fid === PSCI_0_1.CPU_ON) {
    // PSCI 0.1 has no context id (x0 starts 0) and knows no ALREADY_ON or INVALID_ADDRESS:
    // both become INVALID_PARAMETERS.
    const r = cpuOn(BigInt(u32(args.x[1])), args.x[2], 0n, dom, caller);
    if (typeof r !== 'number') return r;
    return ret(r === PSCI_RET.ALREADY_ON || r === PSCI_RET.INVALID_ADDRESS ? PSCI_RET.INVALID_PARAMETERS : r);
  }
  return notSupported(fid);
}

function standardCall(fid: number, args: SmcccArgs, dom: SmcccDomain, caller: number): SmcccResult {
  switch (fid) {
    case PSCI.VERSION:
      return ret(PSCI_VERSION_1_1);
    case PSCI.CPU_OFF:
      return { kind: 'cpu-off' };
    case PSCI.MIGRATE_INFO_TYPE:
      return ret(TOS_NOT_PRESENT_MP);
    case PSCI.SYSTEM_OFF:
      return { kind: 'shutdown', reason: 'poweroff' };
    case PSCI.SYSTEM_RESET:
      return { kind: 'shutdown', reason: 'reboot' };
    case PSCI.CPU_ON:
    case PSCI.CPU_ON64: {
      const r = cpuOn(args.x[1], args.x[2], args.x[3], dom, caller);
      return typeof r === 'number' ? ret(r) : r;
    }
    case PSCI.CPU_SUSPEND:
    case PSCI.CPU_SUSPEND64:
      // Xen treats every power state as standby: wait for an interrupt, then SUCCESS.
      return { kind: 'suspend' };
    case PSCI.AFFINITY_INFO:
    case PSCI.AFFINITY_INFO64:
      return ret(affinityInfo(args.x[1], u32(args.x[2]), dom));
    case PSCI.FEATURES:
      return ret(PSCI_FEATURES_SUPPORTED.has(u32(args.x[1])) ? SUPPORTED : PSCI_RET.NOT_SUPPORTED);
  }
  return serviceQuery(fid, STANDARD_SERVICE_CALL_COUNT, STANDARD_SERVICE_UID) ?? notSupported(fid);
}

/** MPIDR affinity fields: Aff3 [39:32], Aff2..Aff0 [23:0]. */
const MPIDR_HWID_MASK = 0xff_00ff_ffffn;

/**
 * The vCPU id a virtual affinity names, as Xen decodes it (vaffinity_to_vcpuid): Aff0 | Aff1 << 4.
 * Aff2 and Aff3 are ignored and Aff0 is not checked against 16, so e.g. 0x10000 names vCPU 0.
 */
export function vaffinityToVcpuid(target: bigint): number {
  const a = target & MPIDR_HWID_MASK;
  return Number(a & 0xffn) | (Number((a >> 8n) & 0xffn) << 4);
}

/** CPU_ON with Xen's checks in Xen's order (do_common_cpu_on): a PSCI code, or the start. */
function cpuOn(target: bigint, entry: bigint, contextId: bigint, dom: SmcccDomain, _caller: number): number | SmcccResult {
  const v = vaffinityToVcpuid(target);
  if (v >= dom.nrVcpus) return PSCI_RET.INVALID_PARAMETERS;
  if ((entry & 1n) !== 0n) return PSCI_RET.INVALID_ADDRESS; // no Thumb entry for a 64-bit domain
  if (dom.online(v)) return PSCI_RET.ALREADY_ON;
  return { kind: 'cpu-on', vcpu: v, entry, contextId };
}

function affinityInfo(target: bigint, level: number, dom: SmcccDomain): number {
  if (level > 3) return PSCI_RET.INVALID_PARAMETERS;
  // Level n ignores the affinity fields below it (Aff0 for level 1, ..., Aff2 for level 3).
  const ignore = [0n, 0xffn, 0xffffn, 0xff_ffffn][level];
  const mask = MPIDR_HWID_MASK & ~ignore;
  for (let v = 0; v < dom.nrVcpus; v++) {
    if ((dom.affinityOf(v) & mask) === (target & mask) && dom.online(v)) return AFFINITY_ON;
  }
  return AFFINITY_OFF;
}
