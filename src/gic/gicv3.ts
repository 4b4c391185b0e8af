/**
 * GICv3 front-end: distributor, one redistributor (RD + SGI frames) per vCPU and the ICC_*_EL1
 * system-register CPU interface of IHI0069, mapped onto the shared GicCore.
 *
 * The guest's view follows what Xen 4.17 presents to a domU:
 *  - one Security state seen from Non-secure: GICD_CTLR.ARE_NS reads 1 and is fixed, only
 *    EnableGrp1A (bit 1) is writable; GICD_IGROUPR / GICR_IGROUPR0 are RAZ/WI, yet every interrupt
 *    is delivered as Group 1 (Xen puts vIRQs in Group 1 list registers), so the guest uses
 *    ICC_IAR1/EOIR1/IGRPEN1 and the Group 0 registers always see nothing;
 *  - with ARE set, the GICD words for INTIDs 0..31 are RAZ/WI: SGIs/PPIs live in the GICR SGI frame;
 *  - vCPU n has affinity Aff1 = n / 16, Aff0 = n % 16 (Xen's vcpuid_to_vaffinity for GICv3); the
 *    machine should give MPIDR_EL1 the same affinity (see vcpuAffinity()).
 * Read back from the real Xen 4.17 by firmware/apps/gic-probe (test/golden/gic-probe.gicv3.txt):
 *  - GICD_IIDR and GICR_IIDR 0x34c, PIDR2 0x30; GICD_TYPER2 and the other reserved words RAZ;
 *  - GICR_WAKER is RAZ/WI (Linux's wake-up handshake completes at once); GICR_SYNCR reads 1;
 *  - GICR_ICFGR0 (SGIs) reads 0; GICR_ICFGR1 (PPIs) is writable;
 *  - writes to GICD_ICACTIVERn / GICR_ICACTIVER0 are ignored and logged (Linux writes them);
 *  - the pending and active banks (GICD and GICR) read as zero, and ICPENDR cannot take back a
 *    pending interrupt (logged "trying to clear pending interrupt N.");
 *  - GICD_IROUTER names a vCPU and reads back that vCPU's affinity: IRM=1 routes to vCPU 0, an
 *    affinity no vCPU has leaves the route as it was;
 *  - ICC_CTLR_EL1: A3V, 24-bit INTIDs (IDbits 1), 5 priority bits.
 */
import { GicFrontEnd } from './front-end.ts';
import { type GicCore, NR_BANKED, SPURIOUS_INTID } from './core.ts';
import {
  checkAccess, fail, firstOf, hex, ok, okW, readEnableBits, readConfig, readPriority, writeBits, writeConfig, writePriority, xenRegister,
} from './dist-common.ts';
import * as Regs from './regs-v3.ts';
import type { AccessSize, GicAccess, GicWrite, SysReg, SysregAccess, VirtualGic } from './types.ts';

/** A plain-object copy of the register constants: property loads on it are cheap, whereas a
 *  module namespace may be a set of getters once transpiled (measured ~25 ns per load under tsx). */
const R = { ...Regs };

const TWO32 = 0x1_0000_0000;

/** A successful 64-bit system-register read. */
function v(n: number): SysregAccess {
  return { ok: true, value: BigInt(n >>> 0) };
}

/** One word of an SPI enable bank; the word for INTIDs 0..31 is RAZ with ARE set. */
function spiEnableWord(c: GicCore, first: number): GicAccess {
  return ok(first === 0 ? 0 : readEnableBits(c, 0, first));
}

function field(x: bigint, shift: bigint, mask: bigint): number {
  return Number((x >> shift) & mask);
}

/** Affinity of vCPU n as Aff3.Aff2.Aff1.Aff0 packed in 32 bits (GICR_TYPER[63:32] layout). */
export function vcpuAffinity(vcpu: number): number {
  return (((vcpu >>> 4) & 0xff) << 8) | (vcpu & 0xf);
}

export interface GicV3Config {
  nrVcpus: number;
  nrIrqs: number;
  priorityBits: number;
  distBase: number;
  redistBase: number;
}

export class GicV3 extends GicFrontEnd implements VirtualGic {
  readonly version = 3 as const;
  private readonly distBase: number;
  private readonly redistBase: number;
  /** The vCPU each SPI is routed to (GICD_IROUTER<n>), indexed by intid-32. */
  private readonly routeVcpu: Uint8Array;
  /** ICFGR words as written (read back raw, as Xen stores them): GICD words by first INTID,
   *  GICR_ICFGR1 of redistributor n at key -1-n. */
  private readonly icfgr = new Map<number, number>();

  constructor(cfg: GicV3Config) {
    super(cfg);
    this.distBase = cfg.distBase;
    this.redistBase = cfg.redistBase;
    for (let v = 0; v < cfg.nrVcpus; v++) for (let i = 0; i < NR_BANKED; i++) this.core.setGroup(v, i, 1);
    for (let i = NR_BANKED; i < cfg.nrIrqs; i++) if (this.core.validIntid(i)) this.core.setGroup(0, i, 1);
    this.routeVcpu = new Uint8Array(cfg.nrIrqs - NR_BANKED);
  }

  private inDist(addr: number): boolean {
    return addr >= this.distBase && addr < this.distBase + R.GICD_SIZE;
  }

  private inRedist(addr: number): boolean {
    return addr >= this.redistBase && addr < this.redistBase + this.nrVcpus * R.GICR_STRIDE;
  }

  claims(addr: number): boolean {
    return this.inDist(addr) || this.inRedist(addr);
  }

  mmioRead(vcpu: number, addr: number, size: AccessSize): GicAccess {
    if (!this.core.validVcpu(vcpu)) return fail(`no vCPU ${vcpu}`);
    if (this.inDist(addr)) return this.distRead(addr - this.distBase, size);
    if (this.inRedist(addr)) {
      const off = addr - this.redistBase;
      const rd = Math.floor(off / R.GICR_STRIDE);
      const inner = off % R.GICR_STRIDE;
      return inner < R.GICR_SGI_BASE ? this.rdRead(rd, inner, size) : this.sgiRead(rd, inner - R.GICR_SGI_BASE, size);
    }
    return fail(`address ${hex(addr)} is not a GICv3 frame`);
  }

  mmioWrite(vcpu: number, addr: number, size: AccessSize, value: number): GicWrite {
    if (!this.core.validVcpu(vcpu)) return fail(`no vCPU ${vcpu}`);
    let r: GicWrite;
    if (this.inDist(addr)) r = this.distWrite(addr - this.distBase, size, value);
    else if (this.inRedist(addr)) {
      const off = addr - this.redistBase;
      const rd = Math.floor(off / R.GICR_STRIDE);
      const inner = off % R.GICR_STRIDE;
      r = inner < R.GICR_SGI_BASE ? this.rdWrite(rd, inner, size, value) : this.sgiWrite(rd, inner - R.GICR_SGI_BASE, size, value);
    } else return fail(`address ${hex(addr)} is not a GICv3 frame`);
    this.core.update();
    return r;
  }

  // ---- distributor ---------------------------------------------------------------------------

  private distRead(off: number, size: AccessSize): GicAccess {
    const c = this.core;
    if (off >= R.GICD_IPRIORITYR && off < R.GICD_IPRIORITYR + 0x3fc) {
      const e = checkAccess(off, size, [1, 4]);
      if (e) return fail(`GICD_IPRIORITYR: ${e}`);
      const first = off - R.GICD_IPRIORITYR;
      return ok(first < NR_BANKED ? 0 : readPriority(c, 0, first, size));
    }
    if (off >= R.GICD_IROUTER + 8 * NR_BANKED && off < R.GICD_IROUTER + 8 * 1020) {
      const e = checkAccess(off, size, [4, 8]);
      if (e) return fail(`GICD_IROUTER: ${e}`);
      const id = (off - R.GICD_IROUTER) >> 3;
      if (!c.validIntid(id)) return ok(0);
      // Xen keeps the target vCPU and answers its affinity (Aff3 is 0 for every vCPU).
      const lo = vcpuAffinity(this.routeVcpu[id - NR_BANKED]);
      if (size === 8) return { ok: true, value: lo };
      return ok(off % 8 === 0 ? lo : 0);
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICD: ${e}`);
    if (off === R.GICD_CTLR) return ok(R.GICD_CTLR_ARE_NS | (c.distGroupEnable & 2 ? R.GICD_CTLR_ENABLE_G1A : 0));
    if (off === R.GICD_TYPER) {
      return ok((9 << R.GICD_TYPER_IDBITS_SHIFT) | ((Math.min(this.nrVcpus, 8) - 1) << 5) | (this.nrIrqs / 32 - 1));
    }
    if (off === R.GICD_IIDR) return ok(R.GICD_IIDR_VALUE);
    if (off === R.GICD_STATUSR) return ok(0);
    if (off < R.GICD_IGROUPR) return ok(0); // TYPER2, SETSPI/CLRSPI and reserved words: RAZ
    if (off >= R.GICD_IGROUPR && off < R.GICD_ISENABLER) return ok(0);
    // With ARE=1 the first word of each bank (INTIDs 0..31) is RAZ/WI: see spiEnableWord().
    if (off >= R.GICD_ISENABLER && off < R.GICD_ICENABLER) return spiEnableWord(c, firstOf(off, R.GICD_ISENABLER));
    if (off >= R.GICD_ICENABLER && off < R.GICD_ISPENDR) return spiEnableWord(c, firstOf(off, R.GICD_ICENABLER));
    // Xen does not show pending or active state: the four banks read as zero.
    if (off >= R.GICD_ISPENDR && off < R.GICD_IPRIORITYR) return ok(0);
    if (off >= R.GICD_ICFGR && off < R.GICD_ICFGR + 0x100) {
      const f = ((off - R.GICD_ICFGR) >> 2) * 16;
      return ok(f < NR_BANKED ? 0 : (this.icfgr.get(f) ?? readConfig(c, 0, f)));
    }
    if (off >= R.GICD_IGRPMODR && off < R.GICD_IGRPMODR + 0x80) return ok(0);
    if (off >= R.GICD_NSACR && off < R.GICD_NSACR + 0x100) return ok(0);
    if (off >= 0xf00 && off < 0xf30) return ok(0); // GICD_SGIR, C/SPENDSGIR: replaced by ICC_SGI1R_EL1 / GICR
    if (off === R.GICD_PIDR2) return ok(R.PIDR2_VALUE);
    if (off >= 0xffd0 && off < 0x10000) return ok(0);
    return fail(`GICD: unhandled read at offset ${hex(off)}`);
  }

  private distWrite(off: number, size: AccessSize, value: number): GicWrite {
    const c = this.core;
    if (off >= R.GICD_IPRIORITYR && off < R.GICD_IPRIORITYR + 0x3fc) {
      const e = checkAccess(off, size, [1, 4]);
      if (e) return fail(`GICD_IPRIORITYR: ${e}`);
      const first = off - R.GICD_IPRIORITYR;
      if (first >= NR_BANKED) writePriority(c, 0, first, size, value);
      return okW;
    }
    if (off >= R.GICD_IROUTER + 8 * NR_BANKED && off < R.GICD_IROUTER + 8 * 1020) {
      const e = checkAccess(off, size, [4, 8]);
      if (e) return fail(`GICD_IROUTER: ${e}`);
      const id = (off - R.GICD_IROUTER) >> 3;
      if (!c.validIntid(id)) return okW;
      const k = id - NR_BANKED;
      // A 32-bit write changes one half of the 64-bit value the route is decoded from.
      const cur = vcpuAffinity(this.routeVcpu[k]);
      const lo = size === 8 ? value % TWO32 : off % 8 === 0 ? value : cur;
      const hi = size === 8 ? Math.floor(value / TWO32) & 0xff : off % 8 === 0 ? 0 : value & 0xff;
      const v = this.routeTarget(lo >>> 0, hi);
      if (v >= 0) {
        this.routeVcpu[k] = v;
        c.setTargets(id, (1 << v) >>> 0);
      }
      return okW;
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICD: ${e}`);
    const first = ((off - (off & ~0x7f)) >> 2) * 32; // word index within a 0x80-byte bank
    if (off === R.GICD_CTLR) c.distGroupEnable = value & R.GICD_CTLR_ENABLE_G1A ? 2 : 0;
    else if (off === R.GICD_TYPER || off === R.GICD_IIDR || off === R.GICD_STATUSR) { /* read-only */ }
    else if (off >= R.GICD_IGROUPR && off < R.GICD_ISENABLER) { /* RAZ/WI */ }
    else if (off >= R.GICD_ICACTIVER && off < R.GICD_IPRIORITYR) {
      // Xen names the register by its byte offset from GICD_ICACTIVER.
      this.log?.(0, `vGICD: unhandled word write ${xenRegister(value >>> 0)} to ICACTIVER${off - R.GICD_ICACTIVER}`);
    } else if (off >= R.GICD_ICPENDR && off < R.GICD_ISACTIVER) {
      if (first !== 0) this.clearPendingAsXen(0, first, value, false);
    } else if (off >= R.GICD_ISENABLER && off < R.GICD_IPRIORITYR) {
      if (first !== 0) {
        const bank = off & ~0x7f;
        // ICPENDR and ICACTIVER are handled above: what is left is IS/ICENABLER, ISPENDR, ISACTIVER.
        const kind = bank === R.GICD_ISENABLER || bank === R.GICD_ICENABLER ? 'enable' : bank === R.GICD_ISPENDR ? 'pending' : 'active';
        const set = bank !== R.GICD_ICENABLER;
        writeBits(c, 0, kind, first, value, set);
      }
    } else if (off >= R.GICD_ICFGR && off < R.GICD_ICFGR + 0x100) {
      const f = ((off - R.GICD_ICFGR) >> 2) * 16;
      if (f >= NR_BANKED) {
        writeConfig(c, 0, f, value);
        this.icfgr.set(f, value >>> 0);
      }
    } else if (off >= R.GICD_IGRPMODR && off < R.GICD_IGRPMODR + 0x80) { /* RAZ/WI */ }
    else if (off >= R.GICD_NSACR && off < R.GICD_NSACR + 0x100) { /* RAZ/WI */ }
    else if (off >= 0xf00 && off < 0xf30) { /* ignored with ARE */ }
    else if (off >= 0xffd0 && off < 0x10000) { /* identification: read-only */ }
    else if (off < R.GICD_IGROUPR) { /* reserved words: WI */ }
    else return fail(`GICD: unhandled write at offset ${hex(off)}`);
    return okW;
  }

  /** The vCPU an IROUTER value names, as Xen decodes it: IRM=1 = vCPU 0, else the vCPU with
   *  that affinity; -1 when none has it (Xen then keeps the previous route). */
  private routeTarget(lo: number, hi: number): number {
    if (lo & R.GICD_IROUTER_IRM) return 0;
    if (hi !== 0 || (lo & 0x00ff_0000) !== 0) return -1; // Aff3/Aff2 are 0 for every vCPU
    return this.vcpuOf((lo >>> 8) & 0xff, lo & 0xff);
  }

  private vcpuOf(aff1: number, aff0: number): number {
    if (aff0 > 15) return -1;
    const v = aff1 * 16 + aff0;
    return v < this.nrVcpus ? v : -1;
  }

  // ---- redistributor -------------------------------------------------------------------------

  private rdRead(rd: number, off: number, size: AccessSize): GicAccess {
    if (off === R.GICR_TYPER || off === R.GICR_TYPER + 4) {
      const e = checkAccess(off, size, off === R.GICR_TYPER ? [4, 8] : [4]);
      if (e) return fail(`GICR_TYPER: ${e}`);
      const lo = (rd << R.GICR_TYPER_PROCNUM_SHIFT) | (rd === this.nrVcpus - 1 ? R.GICR_TYPER_LAST : 0);
      const hi = vcpuAffinity(rd);
      if (size === 8) return { ok: true, value: hi * TWO32 + lo };
      return ok(off === R.GICR_TYPER ? lo : hi);
    }
    if (off >= R.GICR_PROPBASER && off < R.GICR_PENDBASER + 8) {
      const e = checkAccess(off, size, [4, 8]);
      return e ? fail(`GICR_PROP/PENDBASER: ${e}`) : { ok: true, value: 0 };
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICR: ${e}`);
    switch (off) {
      case R.GICR_CTLR: return ok(0);
      case R.GICR_IIDR: return ok(R.GICR_IIDR_VALUE);
      case R.GICR_STATUSR: return ok(0);
      case R.GICR_WAKER: return ok(0); // RAZ/WI under Xen
      case R.GICR_SYNCR: return ok(R.GICR_SYNCR_NOT_BUSY);
      case R.GICR_PIDR2: return ok(R.PIDR2_VALUE);
    }
    if (off >= 0xffd0 && off < 0x10000) return ok(0);
    return fail(`GICR: unhandled read at RD_base offset ${hex(off)}`);
  }

  private rdWrite(rd: number, off: number, size: AccessSize, value: number): GicWrite {
    if (off === R.GICR_TYPER || off === R.GICR_TYPER + 4 || (off >= R.GICR_PROPBASER && off < R.GICR_PENDBASER + 8)) {
      const e = checkAccess(off, size, [4, 8]);
      return e ? fail(`GICR: ${e}`) : okW; // read-only / no LPIs
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICR: ${e}`);
    switch (off) {
      case R.GICR_CTLR: case R.GICR_IIDR: case R.GICR_STATUSR: case R.GICR_PIDR2: return okW;
      case R.GICR_WAKER: case R.GICR_SYNCR:
        return okW;
    }
    if (off >= 0xffd0 && off < 0x10000) return okW;
    return fail(`GICR: unhandled write at RD_base offset ${hex(off)}`);
  }

  private sgiRead(rd: number, off: number, size: AccessSize): GicAccess {
    const c = this.core;
    if (off >= R.GICR_IPRIORITYR0 && off < R.GICR_IPRIORITYR0 + NR_BANKED) {
      const e = checkAccess(off, size, [1, 4]);
      return e ? fail(`GICR_IPRIORITYR: ${e}`) : ok(readPriority(c, rd, off - R.GICR_IPRIORITYR0, size));
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICR SGI frame: ${e}`);
    switch (off) {
      case R.GICR_IGROUPR0: return ok(0);
      case R.GICR_ISENABLER0: case R.GICR_ICENABLER0: return ok(readEnableBits(c, rd, 0));
      case R.GICR_ISPENDR0: case R.GICR_ICPENDR0: case R.GICR_ISACTIVER0: case R.GICR_ICACTIVER0:
        return ok(0); // Xen does not show pending or active state
      case R.GICR_ICFGR0: return ok(0); // SGIs are edge, but Xen reads the word as 0
      case R.GICR_ICFGR1: return ok(this.icfgr.get(-1 - rd) ?? readConfig(c, rd, 16));
      case R.GICR_IGRPMODR0: case R.GICR_NSACR: return ok(0);
    }
    return fail(`GICR: unhandled read at SGI_base offset ${hex(off)}`);
  }

  private sgiWrite(rd: number, off: number, size: AccessSize, value: number): GicWrite {
    const c = this.core;
    if (off >= R.GICR_IPRIORITYR0 && off < R.GICR_IPRIORITYR0 + NR_BANKED) {
      const e = checkAccess(off, size, [1, 4]);
      if (e) return fail(`GICR_IPRIORITYR: ${e}`);
      writePriority(c, rd, off - R.GICR_IPRIORITYR0, size, value);
      return okW;
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICR SGI frame: ${e}`);
    switch (off) {
      case R.GICR_IGROUPR0: return okW;
      case R.GICR_ISENABLER0: writeBits(c, rd, 'enable', 0, value, true); return okW;
      case R.GICR_ICENABLER0: writeBits(c, rd, 'enable', 0, value, false); return okW;
      case R.GICR_ISPENDR0: writeBits(c, rd, 'pending', 0, value, true); return okW;
      case R.GICR_ICPENDR0: this.clearPendingAsXen(rd, 0, value, false); return okW;
      case R.GICR_ISACTIVER0: writeBits(c, rd, 'active', 0, value, true); return okW;
      case R.GICR_ICACTIVER0:
        this.log?.(rd, `vGICR: SGI: unhandled word write ${xenRegister(value >>> 0)} to ICACTIVER0`);
        return okW;
      case R.GICR_ICFGR0: return okW; // SGIs: always edge
      case R.GICR_ICFGR1:
        writeConfig(c, rd, 16, value);
        this.icfgr.set(-1 - rd, value >>> 0);
        return okW;
      case R.GICR_IGRPMODR0: case R.GICR_NSACR: return okW;
    }
    return fail(`GICR: unhandled write at SGI_base offset ${hex(off)}`);
  }

  // ---- CPU interface: ICC_*_EL1 -------------------------------------------------------------

  sysregRead(vcpu: number, reg: SysReg): SysregAccess {
    if (!this.core.validVcpu(vcpu)) return fail(`no vCPU ${vcpu}`);
    const r = this.iccRead(vcpu, R.sysregKey(reg));
    this.core.update(); // IAR has side effects
    return r;
  }

  sysregWrite(vcpu: number, reg: SysReg, value: bigint): GicWrite {
    if (!this.core.validVcpu(vcpu)) return fail(`no vCPU ${vcpu}`);
    const r = this.iccWrite(vcpu, R.sysregKey(reg), BigInt.asUintN(64, value));
    this.core.update();
    return r;
  }

  private iccRead(vcpu: number, key: number): SysregAccess {
    const c = this.core;
    switch (key) {
      case K.PMR: return v(c.pmr[vcpu]);
      case K.IAR1: return v(c.acknowledge(vcpu, 1)?.intid ?? SPURIOUS_INTID);
      case K.IAR0: return v(c.acknowledge(vcpu, 0)?.intid ?? SPURIOUS_INTID);
      case K.HPPIR1: case K.HPPIR0: {
        const hp = c.highestPending(vcpu);
        return v(hp && hp.group === (key === K.HPPIR1 ? 1 : 0) ? hp.intid : SPURIOUS_INTID);
      }
      case K.RPR: return v(c.runningPriority(vcpu));
      case K.BPR0: return v(c.bpr0[vcpu]);
      case K.BPR1: return v(c.bpr1[vcpu]);
      case K.CTLR: return v((c.eoiMode[vcpu] << 1) | ((c.priorityBits - 1) << 8) | R.ICC_CTLR_IDBITS_24 | R.ICC_CTLR_A3V);
      case K.SRE: return v(0b111);
      case K.IGRPEN0: return v(c.cpuGroupEnable[vcpu] & 1);
      case K.IGRPEN1: return v((c.cpuGroupEnable[vcpu] >> 1) & 1);
      case K.AP1R0: return v(c.activePriorities(vcpu));
      case K.AP1R1: case K.AP1R2: case K.AP1R3: case K.AP0R0: return v(0);
      case K.EOIR0: case K.EOIR1: case K.DIR: case K.SGI1R: case K.SGI0R: case K.ASGI1R:
        return fail('write-only ICC register');
    }
    return fail(`unhandled ICC register key ${hex(key)}`);
  }

  private iccWrite(vcpu: number, key: number, value: bigint): GicWrite {
    const c = this.core;
    const lo = Number(value & 0xffff_ffffn);
    switch (key) {
      case K.PMR: c.setPmr(vcpu, lo & 0xff); return okW;
      case K.BPR0: c.setBpr0(vcpu, lo); return okW;
      case K.BPR1: c.setBpr1(vcpu, lo); return okW;
      case K.CTLR: c.eoiMode[vcpu] = value & R.ICC_CTLR_EOIMODE ? 1 : 0; return okW;
      case K.SRE: return okW; // SRE/DFB/DIB fixed at 1
      case K.IGRPEN0: c.cpuGroupEnable[vcpu] = (c.cpuGroupEnable[vcpu] & 2) | (lo & 1); return okW;
      case K.IGRPEN1: c.cpuGroupEnable[vcpu] = (c.cpuGroupEnable[vcpu] & 1) | ((lo & 1) << 1); return okW;
      case K.EOIR1: {
        const intid = lo & R.ICC_INTID_MASK;
        if (intid >= 1020) return okW;
        c.priorityDrop(vcpu, intid);
        if (!c.eoiMode[vcpu]) c.deactivate(vcpu, intid);
        return okW;
      }
      case K.EOIR0: return okW; // nothing is ever Group 0 here
      case K.DIR:
        // DIR with EOImode 0 is UNPREDICTABLE; we ignore it.
        if (c.eoiMode[vcpu]) c.deactivate(vcpu, lo & R.ICC_INTID_MASK);
        return okW;
      case K.SGI1R: this.sendSgi(vcpu, value); return okW;
      case K.AP1R0: c.setActivePriorities(vcpu, lo); return okW;
      case K.AP1R1: case K.AP1R2: case K.AP1R3: case K.AP0R0: return okW;
      case K.IAR0: case K.IAR1: case K.HPPIR0: case K.HPPIR1: case K.RPR:
        return fail('read-only ICC register');
      case K.SGI0R: case K.ASGI1R:
        return fail('Group 0 / Secure SGIs are not available to the guest');
    }
    return fail(`unhandled ICC register key ${hex(key)}`);
  }

  /** ICC_SGI1R_EL1: IRM=1 targets every vCPU but the requester; otherwise each TargetList bit b
   *  names the vCPU with affinity Aff3.Aff2.Aff1.(RS*16 + b). */
  private sendSgi(vcpu: number, sgir: bigint): void {
    const sgi = field(sgir, 24n, 0xfn);
    if (field(sgir, 40n, 1n)) {
      for (let t = 0; t < this.nrVcpus; t++) if (t !== vcpu) this.core.setPending(t, sgi, 0);
      return;
    }
    if (field(sgir, 32n, 0xffn) !== 0 || field(sgir, 48n, 0xffn) !== 0) return; // no vCPU has Aff2/Aff3 != 0
    if (field(sgir, 44n, 0xfn) !== 0) return; // RS > 0 names Aff0 >= 16: no vCPU has one
    const list = field(sgir, 0n, 0xffffn);
    const aff1 = field(sgir, 16n, 0xffn);
    for (let b = 0; b < 16; b++) {
      if (((list >> b) & 1) === 0) continue;
      const t = this.vcpuOf(aff1, b);
      if (t >= 0) this.core.setPending(t, sgi, 0); // no source in GICv3: requests merge
    }
  }
}

/** ICC register keys, precomputed for the switch statements. */
const K = {
  PMR: R.sysregKey(R.ICC_PMR_EL1),
  IAR0: R.sysregKey(R.ICC_IAR0_EL1),
  EOIR0: R.sysregKey(R.ICC_EOIR0_EL1),
  HPPIR0: R.sysregKey(R.ICC_HPPIR0_EL1),
  BPR0: R.sysregKey(R.ICC_BPR0_EL1),
  AP0R0: R.sysregKey(R.ICC_AP0R0_EL1),
  AP1R0: R.sysregKey(R.ICC_AP1R0_EL1),
  AP1R1: R.sysregKey(R.ICC_AP1R0_EL1) + 1,
  AP1R2: R.sysregKey(R.ICC_AP1R0_EL1) + 2,
  AP1R3: R.sysregKey(R.ICC_AP1R0_EL1) + 3,
  DIR: R.sysregKey(R.ICC_DIR_EL1),
  RPR: R.sysregKey(R.ICC_RPR_EL1),
  SGI1R: R.sysregKey(R.ICC_SGI1R_EL1),
  ASGI1R: R.sysregKey(R.ICC_ASGI1R_EL1),
  SGI0R: R.sysregKey(R.ICC_SGI0R_EL1),
  IAR1: R.sysregKey(R.ICC_IAR1_EL1),
  EOIR1: R.sysregKey(R.ICC_EOIR1_EL1),
  HPPIR1: R.sysregKey(R.ICC_HPPIR1_EL1),
  BPR1: R.sysregKey(R.ICC_BPR1_EL1),
  CTLR: R.sysregKey(R.ICC_CTLR_EL1),
  SRE: R.sysregKey(R.ICC_SRE_EL1),
  IGRPEN0: R.sysregKey(R.ICC_IGRPEN0_EL1),
  IGRPEN1: R.sysregKey(R.ICC_IGRPEN1_EL1),
} as const;
