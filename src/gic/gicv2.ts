/**
 * GICv2 front-end: the distributor and CPU-interface register files of IHI0048B mapped onto the
 * shared GicCore. The guest's view follows what Xen 4.17 presents to a domU:
 *  - no Security Extensions; GICD_IGROUPR is RAZ/WI, so every interrupt is Group 0 and is
 *    signalled as IRQ (GICC_CTLR.FIQEn has no effect here);
 *  - GICD_CTLR keeps only bit 0 (Enable);
 *  - a SPI targets exactly one vCPU: a write to GICD_ITARGETSR keeps the lowest set CPU bit and
 *    a write of zero is ignored, so the register reads back one bit (Xen's vgic-v2 routing).
 * Read back from the real Xen 4.17 by firmware/apps/gic-probe (test/golden/gic-probe.gicv2.txt):
 *  - GICD_ICFGR0 (SGIs) and GICD_ICFGR1 (PPIs) read as 0 and ignore writes; SPIs' are writable;
 *  - writes to GICD_ICACTIVERn are ignored and logged (Linux writes them at boot);
 *  - GICD_IS/ICPENDR and GICD_IS/ICACTIVER read as zero (Xen shows no pending or active state),
 *    and ICPENDR cannot take back a pending interrupt (logged "trying to clear pending ...");
 *  - GICD_SGIR reads 0xdeadbeef; GICD_PIDR2 is refused (Xen injects a data abort), the other
 *    identification registers read as zero;
 *  - the CPU interface is QEMU's GICv2 virtual interface: GICC_IIDR 0x0002043b, 5 priority bits,
 *    GICC_ABPR reads 3 at reset and never below 1, GICC_AIAR reads 0.
 */
import { GicFrontEnd } from './front-end.ts';
import { NR_BANKED, NR_SGIS, SPURIOUS_INTID } from './core.ts';
import {
  checkAccess, fail, firstOf, hex, ok, okW, readEnableBits, readConfig, readPriority, writeBits, writeConfig, writePriority, xenRegister,
} from './dist-common.ts';
import * as Regs from './regs-v2.ts';
import type { AccessSize, GicAccess, GicWrite, SysReg, SysregAccess, VirtualGic } from './types.ts';

/** A plain-object copy of the register constants: property loads on it are cheap, whereas a
 *  module namespace may be a set of getters once transpiled (measured ~25 ns per load under tsx). */
const R = { ...Regs };

export interface GicV2Config {
  nrVcpus: number;
  nrIrqs: number;
  priorityBits: number;
  distBase: number;
  cpuBase: number;
}

export class GicV2 extends GicFrontEnd implements VirtualGic {
  readonly version = 2 as const;
  private readonly distBase: number;
  private readonly cpuBase: number;
  private readonly cpuCtlr: Uint16Array;
  /** GICC_ABPR as the guest reads it back (it only affects Group 1, which nothing is in). */
  private readonly abpr: Uint8Array;
  /** GICD_ICFGR words as written, by first INTID (read back raw, as Xen stores them). */
  private readonly icfgr = new Map<number, number>();

  constructor(cfg: GicV2Config) {
    super(cfg);
    this.distBase = cfg.distBase;
    this.cpuBase = cfg.cpuBase;
    this.cpuCtlr = new Uint16Array(cfg.nrVcpus);
    this.abpr = new Uint8Array(cfg.nrVcpus).fill(R.GICC_ABPR_RESET);
  }

  claims(addr: number): boolean {
    return (addr >= this.distBase && addr < this.distBase + R.GICD_SIZE) ||
      (addr >= this.cpuBase && addr < this.cpuBase + R.GICC_SIZE);
  }

  mmioRead(vcpu: number, addr: number, size: AccessSize): GicAccess {
    if (!this.core.validVcpu(vcpu)) return fail(`no vCPU ${vcpu}`);
    let r: GicAccess;
    if (addr >= this.distBase && addr < this.distBase + R.GICD_SIZE) r = this.distRead(vcpu, addr - this.distBase, size);
    else if (addr >= this.cpuBase && addr < this.cpuBase + R.GICC_SIZE) r = this.cpuRead(vcpu, addr - this.cpuBase, size);
    else return fail(`address ${hex(addr)} is not a GICv2 frame`);
    this.core.update(); // IAR has side effects
    return r;
  }

  mmioWrite(vcpu: number, addr: number, size: AccessSize, value: number): GicWrite {
    if (!this.core.validVcpu(vcpu)) return fail(`no vCPU ${vcpu}`);
    let r: GicWrite;
    if (addr >= this.distBase && addr < this.distBase + R.GICD_SIZE) r = this.distWrite(vcpu, addr - this.distBase, size, value);
    else if (addr >= this.cpuBase && addr < this.cpuBase + R.GICC_SIZE) r = this.cpuWrite(vcpu, addr - this.cpuBase, size, value);
    else return fail(`address ${hex(addr)} is not a GICv2 frame`);
    this.core.update();
    return r;
  }

  sysregRead(_vcpu: number, _reg: SysReg): SysregAccess {
    return fail('GICv2 has no system register interface');
  }

  sysregWrite(_vcpu: number, _reg: SysReg, _value: bigint): GicWrite {
    return fail('GICv2 has no system register interface');
  }

  // ---- distributor ---------------------------------------------------------------------------

  private distRead(vcpu: number, off: number, size: AccessSize): GicAccess {
    const c = this.core;
    if (off >= R.GICD_IPRIORITYR && off < R.GICD_IPRIORITYR + 0x3fc) {
      const e = checkAccess(off, size, [1, 4]);
      return e ? fail(`GICD_IPRIORITYR: ${e}`) : ok(readPriority(c, vcpu, off - R.GICD_IPRIORITYR, size));
    }
    if (off >= R.GICD_ITARGETSR && off < R.GICD_ITARGETSR + 0x3fc) {
      const e = checkAccess(off, size, [1, 4]);
      return e ? fail(`GICD_ITARGETSR: ${e}`) : ok(this.readTargets(vcpu, off - R.GICD_ITARGETSR, size));
    }
    if (off >= R.GICD_CPENDSGIR && off < R.GICD_SPENDSGIR + 0x10) {
      const e = checkAccess(off, size, [1, 4]);
      if (e) return fail(`GICD_C/SPENDSGIR: ${e}`);
      const first = (off - R.GICD_CPENDSGIR) & 0xf;
      let v = 0;
      for (let i = 0; i < size; i++) v |= c.sgiSources(vcpu, first + i) << (8 * i);
      return ok(v);
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICD: ${e}`);
    if (off === R.GICD_CTLR) return ok(c.distGroupEnable & 1);
    if (off === R.GICD_TYPER) return ok(((this.nrVcpus - 1) << 5) | (this.nrIrqs / 32 - 1));
    if (off === R.GICD_IIDR) return ok(R.GICD_IIDR_VALUE);
    if (off < R.GICD_IGROUPR) return ok(0); // reserved words: RAZ (Xen logs them)
    if (off >= R.GICD_IGROUPR && off < R.GICD_ISENABLER) return ok(0);
    if (off >= R.GICD_ISENABLER && off < R.GICD_ICENABLER) return ok(readEnableBits(c, vcpu, firstOf(off, R.GICD_ISENABLER)));
    if (off >= R.GICD_ICENABLER && off < R.GICD_ISPENDR) return ok(readEnableBits(c, vcpu, firstOf(off, R.GICD_ICENABLER)));
    // Xen does not show pending or active state: the four banks read as zero.
    if (off >= R.GICD_ISPENDR && off < R.GICD_IPRIORITYR) return ok(0);
    if (off >= R.GICD_ICFGR && off < R.GICD_ICFGR + 0x100) {
      const first = ((off - R.GICD_ICFGR) >> 2) * 16;
      // SGI/PPI words: RAZ under Xen. Xen keeps an SPI word as written (reserved bits too).
      return ok(first < NR_BANKED ? 0 : (this.icfgr.get(first) ?? readConfig(c, vcpu, first)));
    }
    if (off >= R.GICD_NSACR && off < R.GICD_NSACR + 0x100) return ok(0);
    if (off === R.GICD_SGIR) return ok(R.GICD_SGIR_READ_VALUE); // write-only: Xen answers this
    if (off === R.GICD_PIDR2) return fail('GICD: unhandled read from ICPIDR2');
    if (off >= 0xfd0 && off < 0x1000) return ok(0); // other identification registers
    return fail(`GICD: unhandled read at offset ${hex(off)}`);
  }

  private distWrite(vcpu: number, off: number, size: AccessSize, value: number): GicWrite {
    const c = this.core;
    if (off >= R.GICD_IPRIORITYR && off < R.GICD_IPRIORITYR + 0x3fc) {
      const e = checkAccess(off, size, [1, 4]);
      if (e) return fail(`GICD_IPRIORITYR: ${e}`);
      writePriority(c, vcpu, off - R.GICD_IPRIORITYR, size, value);
      return okW;
    }
    if (off >= R.GICD_ITARGETSR && off < R.GICD_ITARGETSR + 0x3fc) {
      const e = checkAccess(off, size, [1, 4]);
      if (e) return fail(`GICD_ITARGETSR: ${e}`);
      this.writeTargets(off - R.GICD_ITARGETSR, size, value);
      return okW;
    }
    if (off >= R.GICD_CPENDSGIR && off < R.GICD_SPENDSGIR + 0x10) {
      const e = checkAccess(off, size, [1, 4]);
      if (e) return fail(`GICD_C/SPENDSGIR: ${e}`);
      const set = off >= R.GICD_SPENDSGIR;
      const first = (off - R.GICD_CPENDSGIR) & 0xf;
      for (let i = 0; i < size; i++) {
        const srcs = (value >>> (8 * i)) & ((1 << this.nrVcpus) - 1);
        if (set) { for (let s = 0; s < 8; s++) if ((srcs >> s) & 1) c.setPending(vcpu, first + i, s); }
        else c.clearPending(vcpu, first + i, srcs);
      }
      return okW;
    }
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICD: ${e}`);
    if (off === R.GICD_CTLR) c.distGroupEnable = value & 1;
    else if (off === R.GICD_TYPER || off === R.GICD_IIDR) { /* read-only */ }
    else if (off < R.GICD_IGROUPR) { /* reserved words: WI */ }
    else if (off >= R.GICD_IGROUPR && off < R.GICD_ISENABLER) { /* RAZ/WI: everything is Group 0 */ }
    else if (off >= R.GICD_ISENABLER && off < R.GICD_ICENABLER) writeBits(c, vcpu, 'enable', firstOf(off, R.GICD_ISENABLER), value, true);
    else if (off >= R.GICD_ICENABLER && off < R.GICD_ISPENDR) writeBits(c, vcpu, 'enable', firstOf(off, R.GICD_ICENABLER), value, false);
    else if (off >= R.GICD_ISPENDR && off < R.GICD_ICPENDR) writeBits(c, vcpu, 'pending', firstOf(off, R.GICD_ISPENDR), value, true, true);
    else if (off >= R.GICD_ICPENDR && off < R.GICD_ISACTIVER) this.clearPendingAsXen(vcpu, firstOf(off, R.GICD_ICPENDR), value, true);
    else if (off >= R.GICD_ISACTIVER && off < R.GICD_ICACTIVER) writeBits(c, vcpu, 'active', firstOf(off, R.GICD_ISACTIVER), value, true);
    else if (off >= R.GICD_ICACTIVER && off < R.GICD_IPRIORITYR) {
      // Xen names the register by its byte offset from GICD_ICACTIVER.
      this.log?.(vcpu, `vGICD: unhandled word write ${xenRegister(value >>> 0)} to ICACTIVER${off - R.GICD_ICACTIVER}`);
    } else if (off >= R.GICD_ICFGR && off < R.GICD_ICFGR + 0x100) {
      const first = ((off - R.GICD_ICFGR) >> 2) * 16;
      if (first >= NR_BANKED) { // SGI/PPI words ignore writes under Xen
        writeConfig(c, vcpu, first, value);
        this.icfgr.set(first, value >>> 0);
      }
    }
    else if (off >= R.GICD_NSACR && off < R.GICD_NSACR + 0x100) { /* RAZ/WI */ }
    else if (off === R.GICD_SGIR) this.sendSgi(vcpu, value);
    else if (off >= 0xfd0 && off < 0x1000) { /* identification: read-only */ }
    else return fail(`GICD: unhandled write at offset ${hex(off)}`);
    return okW;
  }

  /** ITARGETSR bytes: banked INTIDs read as the accessing CPU's bit (§4.3.12); SPIs read their
   *  single target vCPU's bit. */
  private readTargets(vcpu: number, first: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const id = first + i;
      if (!this.core.validIntid(id)) continue;
      const b = id < NR_BANKED ? 1 << vcpu : this.core.getTargets(id);
      v |= (b & 0xff) << (8 * i);
    }
    return v >>> 0;
  }

  private writeTargets(first: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const id = first + i;
      if (id < NR_BANKED || !this.core.validIntid(id)) continue; // SGI/PPI targets are read-only
      const mask = (value >>> (8 * i)) & ((1 << this.nrVcpus) - 1);
      if (mask === 0) continue;
      this.core.setTargets(id, mask & -mask);
    }
  }

  /** GICD_SGIR (§4.3.15): TargetListFilter 0 = the CPUTargetList, 1 = all but the requester,
   *  2 = the requester only, 3 = reserved (ignored). The requester is recorded as the source. */
  private sendSgi(vcpu: number, value: number): void {
    const filter = (value >>> R.SGIR_TARGET_FILTER_SHIFT) & 3;
    const list = (value >>> R.SGIR_TARGET_LIST_SHIFT) & 0xff;
    const sgi = value & R.SGIR_INTID_MASK;
    let targets: number;
    if (filter === 0) targets = list;
    else if (filter === 1) targets = ((1 << this.nrVcpus) - 1) & ~(1 << vcpu);
    else if (filter === 2) targets = 1 << vcpu;
    else return;
    for (let t = 0; t < this.nrVcpus; t++) if ((targets >> t) & 1) this.core.setPending(t, sgi, vcpu);
  }

  // ---- CPU interface ------------------------------------------------------------------------

  private iarValue(a: { intid: number; source: number } | null): number {
    if (a === null) return SPURIOUS_INTID;
    return a.intid < NR_SGIS ? a.intid | (a.source << R.IAR_CPUID_SHIFT) : a.intid;
  }

  private cpuRead(vcpu: number, off: number, size: AccessSize): GicAccess {
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICC: ${e}`);
    const c = this.core;
    switch (off) {
      case R.GICC_CTLR: return ok(this.cpuCtlr[vcpu]);
      case R.GICC_PMR: return ok(c.pmr[vcpu]);
      case R.GICC_BPR: return ok(c.bpr0[vcpu]);
      case R.GICC_ABPR: return ok(this.abpr[vcpu]);
      case R.GICC_IAR: return ok(this.iarValue(c.acknowledge(vcpu, 0)));
      case R.GICC_AIAR: return ok(0); // nothing is Group 1; the virtual interface answers 0
      case R.GICC_RPR: return ok(c.runningPriority(vcpu));
      case R.GICC_HPPIR:
      case R.GICC_AHPPIR: {
        const hp = c.highestPending(vcpu);
        const want = off === R.GICC_HPPIR ? 0 : 1;
        return ok(hp && hp.group === want ? this.iarValue(hp) : SPURIOUS_INTID);
      }
      case R.GICC_EOIR: case R.GICC_AEOIR: case R.GICC_DIR: return ok(0); // write-only
      case R.GICC_APR0: return ok(c.activePriorities(vcpu));
      case R.GICC_IIDR: return ok(R.GICC_IIDR_VALUE);
    }
    if (off > R.GICC_APR0 && off < R.GICC_NSAPR0 + 0x10) return ok(0);
    return fail(`GICC: unhandled read at offset ${hex(off)}`);
  }

  private cpuWrite(vcpu: number, off: number, size: AccessSize, value: number): GicWrite {
    const e = checkAccess(off, size, [4]);
    if (e) return fail(`GICC: ${e}`);
    const c = this.core;
    switch (off) {
      case R.GICC_CTLR: {
        const v = value & R.GICC_CTLR_RW_MASK;
        this.cpuCtlr[vcpu] = v;
        c.cpuGroupEnable[vcpu] = v & (R.GICC_CTLR_ENABLE_GRP0 | R.GICC_CTLR_ENABLE_GRP1);
        c.eoiMode[vcpu] = v & R.GICC_CTLR_EOIMODE ? 1 : 0;
        return okW;
      }
      case R.GICC_PMR: c.setPmr(vcpu, value); return okW;
      case R.GICC_BPR: c.setBpr0(vcpu, value); return okW;
      case R.GICC_ABPR:
        c.setBpr1(vcpu, value);
        this.abpr[vcpu] = Math.max(value & 7, R.GICC_ABPR_MIN);
        return okW;
      case R.GICC_EOIR:
      case R.GICC_AEOIR: {
        const intid = value & R.IAR_INTID_MASK;
        if (intid >= 1020) return okW; // EOI of a special INTID has no effect
        c.priorityDrop(vcpu, intid);
        if (!c.eoiMode[vcpu]) c.deactivate(vcpu, intid);
        return okW;
      }
      case R.GICC_DIR: {
        // DIR with EOImode 0 is UNPREDICTABLE (§4.4.15); we ignore it.
        if (c.eoiMode[vcpu]) c.deactivate(vcpu, value & R.IAR_INTID_MASK);
        return okW;
      }
      case R.GICC_APR0: c.setActivePriorities(vcpu, value); return okW;
      case R.GICC_IAR: case R.GICC_AIAR: case R.GICC_RPR: case R.GICC_HPPIR: case R.GICC_AHPPIR: case R.GICC_IIDR:
        return okW; // read-only
    }
    if (off > R.GICC_APR0 && off < R.GICC_NSAPR0 + 0x10) return okW;
    return fail(`GICC: unhandled write at offset ${hex(off)}`);
  }
}
