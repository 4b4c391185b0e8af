/**
 * A tiny guest-side GIC driver for the tests: everything goes through the register interface
 * (MMIO offsets and ICC system registers), the way firmware would program the GIC. One shape for
 * both versions so behavioural tests run against GICv2 and GICv3 alike.
 */
import { createGic, type AccessSize, type VirtualGic } from '../../src/gic/index.ts';
import * as V2 from '../../src/gic/regs-v2.ts';
import * as V3 from '../../src/gic/regs-v3.ts';
import type { SysReg } from '../../src/gic/types.ts';

export const DIST = 0x0300_1000;
export const CPU = 0x0300_2000;
export const RDIST = 0x0302_0000;

export interface LineEvent { vcpu: number; asserted: boolean }

export interface Driver {
  readonly version: 2 | 3;
  readonly gic: VirtualGic;
  /** Every onLineChange call, in order. */
  readonly lineEvents: LineEvent[];
  /** Enable distributor + this vCPU's CPU interface, PMR = 0xff (reads back 0xf8). */
  init(vcpu: number): void;
  enable(vcpu: number, intid: number): void;
  disable(vcpu: number, intid: number): void;
  setPriority(vcpu: number, intid: number, prio: number): void;
  setEdge(vcpu: number, intid: number, edge: boolean): void;
  setPmr(vcpu: number, v: number): void;
  pmr(vcpu: number): number;
  /** Binary point of the group the guest's interrupts are in (GICC_BPR / ICC_BPR1_EL1). */
  setBpr(vcpu: number, v: number): void;
  setEoiMode(vcpu: number, on: boolean): void;
  /** Raw acknowledge value (GICC_IAR / ICC_IAR1_EL1). */
  iar(vcpu: number): number;
  eoi(vcpu: number, value: number): void;
  dir(vcpu: number, value: number): void;
  rpr(vcpu: number): number;
  hppir(vcpu: number): number;
  setPendingReg(vcpu: number, intid: number): void;
  clearPendingReg(vcpu: number, intid: number): void;
  pending(vcpu: number, intid: number): boolean;
  active(vcpu: number, intid: number): boolean;
  /** Route an SPI to one vCPU (ITARGETSR byte / IROUTER affinity). */
  route(intid: number, vcpu: number): void;
  /** Send SGI `sgi` from `from` to the listed vCPUs. */
  sgi(from: number, to: number[], sgi: number): void;
  disableCpu(vcpu: number): void;
  disableDist(): void;
}

export function expectOk<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`GIC access failed: ${(r as unknown as { reason: string }).reason}`);
  return r as Extract<T, { ok: true }>;
}

function base(version: 2 | 3, nrVcpus: number) {
  const lineEvents: LineEvent[] = [];
  const gic = createGic({ version, nrVcpus, onLineChange: (vcpu, asserted) => lineEvents.push({ vcpu, asserted }) });
  const rd = (vcpu: number, addr: number, size: AccessSize = 4) => expectOk(gic.mmioRead(vcpu, addr, size)).value;
  const wr = (vcpu: number, addr: number, value: number, size: AccessSize = 4) => {
    expectOk(gic.mmioWrite(vcpu, addr, size, value));
  };
  return { gic, lineEvents, rd, wr };
}

export function makeV2(nrVcpus = 2): Driver {
  const { gic, lineEvents, rd, wr } = base(2, nrVcpus);
  const bit = (reg: number, intid: number) => [DIST + reg + 4 * (intid >> 5), 1 << (intid & 31)] as const;
  return {
    version: 2, gic, lineEvents,
    init(vcpu) {
      wr(vcpu, DIST + V2.GICD_CTLR, 1);
      wr(vcpu, CPU + V2.GICC_CTLR, V2.GICC_CTLR_ENABLE_GRP0);
      wr(vcpu, CPU + V2.GICC_PMR, 0xff);
    },
    enable(vcpu, intid) { const [a, b] = bit(V2.GICD_ISENABLER, intid); wr(vcpu, a, b); },
    disable(vcpu, intid) { const [a, b] = bit(V2.GICD_ICENABLER, intid); wr(vcpu, a, b); },
    setPriority(vcpu, intid, prio) { wr(vcpu, DIST + V2.GICD_IPRIORITYR + intid, prio, 1); },
    setEdge(vcpu, intid, edge) {
      const a = DIST + V2.GICD_ICFGR + 4 * (intid >> 4);
      const sh = 2 * (intid & 15) + 1;
      wr(vcpu, a, (rd(vcpu, a) & ~(1 << sh)) | ((edge ? 1 : 0) << sh));
    },
    setPmr(vcpu, v) { wr(vcpu, CPU + V2.GICC_PMR, v); },
    pmr(vcpu) { return rd(vcpu, CPU + V2.GICC_PMR); },
    setBpr(vcpu, v) { wr(vcpu, CPU + V2.GICC_BPR, v); },
    setEoiMode(vcpu, on) {
      const c = rd(vcpu, CPU + V2.GICC_CTLR);
      wr(vcpu, CPU + V2.GICC_CTLR, on ? c | V2.GICC_CTLR_EOIMODE : c & ~V2.GICC_CTLR_EOIMODE);
    },
    iar(vcpu) { return rd(vcpu, CPU + V2.GICC_IAR); },
    eoi(vcpu, v) { wr(vcpu, CPU + V2.GICC_EOIR, v); },
    dir(vcpu, v) { wr(vcpu, CPU + V2.GICC_DIR, v); },
    rpr(vcpu) { return rd(vcpu, CPU + V2.GICC_RPR); },
    hppir(vcpu) { return rd(vcpu, CPU + V2.GICC_HPPIR); },
    setPendingReg(vcpu, intid) { const [a, b] = bit(V2.GICD_ISPENDR, intid); wr(vcpu, a, b); },
    clearPendingReg(vcpu, intid) { const [a, b] = bit(V2.GICD_ICPENDR, intid); wr(vcpu, a, b); },
    pending(vcpu, intid) { return gic.inspect(vcpu, intid).pending; },
    active(vcpu, intid) { return gic.inspect(vcpu, intid).active; },
    route(intid, vcpu) { wr(0, DIST + V2.GICD_ITARGETSR + intid, 1 << vcpu, 1); },
    sgi(from, to, sgi) {
      const list = to.reduce((m, t) => m | (1 << t), 0);
      wr(from, DIST + V2.GICD_SGIR, (list << V2.SGIR_TARGET_LIST_SHIFT) | sgi);
    },
    disableCpu(vcpu) { wr(vcpu, CPU + V2.GICC_CTLR, 0); },
    disableDist() { wr(0, DIST + V2.GICD_CTLR, 0); },
  };
}

export function makeV3(nrVcpus = 2): Driver {
  const { gic, lineEvents, rd, wr } = base(3, nrVcpus);
  const sysr = (vcpu: number, reg: SysReg) => Number(expectOk(gic.sysregRead(vcpu, reg)).value);
  const sysw = (vcpu: number, reg: SysReg, v: number | bigint) => { expectOk(gic.sysregWrite(vcpu, reg, BigInt(v))); };
  /** SGIs/PPIs in the vCPU's own redistributor SGI frame, SPIs in the distributor. */
  const bit = (vcpu: number, gicdReg: number, gicrReg: number, intid: number) =>
    intid < 32
      ? ([RDIST + vcpu * V3.GICR_STRIDE + V3.GICR_SGI_BASE + gicrReg, 1 << intid] as const)
      : ([DIST + gicdReg + 4 * (intid >> 5), 1 << (intid & 31)] as const);
  return {
    version: 3, gic, lineEvents,
    init(vcpu) {
      wr(vcpu, DIST + V3.GICD_CTLR, V3.GICD_CTLR_ARE_NS | V3.GICD_CTLR_ENABLE_G1A);
      sysw(vcpu, V3.ICC_SRE_EL1, 7);
      sysw(vcpu, V3.ICC_IGRPEN1_EL1, 1);
      sysw(vcpu, V3.ICC_PMR_EL1, 0xff);
    },
    enable(vcpu, intid) { const [a, b] = bit(vcpu, V3.GICD_ISENABLER, V3.GICR_ISENABLER0, intid); wr(vcpu, a, b); },
    disable(vcpu, intid) { const [a, b] = bit(vcpu, V3.GICD_ICENABLER, V3.GICR_ICENABLER0, intid); wr(vcpu, a, b); },
    setPriority(vcpu, intid, prio) {
      const a = intid < 32
        ? RDIST + vcpu * V3.GICR_STRIDE + V3.GICR_SGI_BASE + V3.GICR_IPRIORITYR0 + intid
        : DIST + V3.GICD_IPRIORITYR + intid;
      wr(vcpu, a, prio, 1);
    },
    setEdge(vcpu, intid, edge) {
      const a = intid < 32
        ? RDIST + vcpu * V3.GICR_STRIDE + V3.GICR_SGI_BASE + V3.GICR_ICFGR0 + 4 * (intid >> 4)
        : DIST + V3.GICD_ICFGR + 4 * (intid >> 4);
      const sh = 2 * (intid & 15) + 1;
      wr(vcpu, a, (rd(vcpu, a) & ~(1 << sh)) | ((edge ? 1 : 0) << sh));
    },
    setPmr(vcpu, v) { sysw(vcpu, V3.ICC_PMR_EL1, v); },
    pmr(vcpu) { return sysr(vcpu, V3.ICC_PMR_EL1); },
    setBpr(vcpu, v) { sysw(vcpu, V3.ICC_BPR1_EL1, v); },
    setEoiMode(vcpu, on) {
      const c = BigInt(sysr(vcpu, V3.ICC_CTLR_EL1));
      sysw(vcpu, V3.ICC_CTLR_EL1, on ? c | V3.ICC_CTLR_EOIMODE : c & ~V3.ICC_CTLR_EOIMODE);
    },
    iar(vcpu) { return sysr(vcpu, V3.ICC_IAR1_EL1); },
    eoi(vcpu, v) { sysw(vcpu, V3.ICC_EOIR1_EL1, v); },
    dir(vcpu, v) { sysw(vcpu, V3.ICC_DIR_EL1, v); },
    rpr(vcpu) { return sysr(vcpu, V3.ICC_RPR_EL1); },
    hppir(vcpu) { return sysr(vcpu, V3.ICC_HPPIR1_EL1); },
    setPendingReg(vcpu, intid) { const [a, b] = bit(vcpu, V3.GICD_ISPENDR, V3.GICR_ISPENDR0, intid); wr(vcpu, a, b); },
    clearPendingReg(vcpu, intid) { const [a, b] = bit(vcpu, V3.GICD_ICPENDR, V3.GICR_ICPENDR0, intid); wr(vcpu, a, b); },
    pending(vcpu, intid) { return gic.inspect(vcpu, intid).pending; },
    active(vcpu, intid) { return gic.inspect(vcpu, intid).active; },
    route(intid, vcpu) {
      // Affinity of vCPU n: Aff1 = n / 16, Aff0 = n % 16.
      wr(0, DIST + V3.GICD_IROUTER + 8 * intid, ((vcpu >> 4) << 8) | (vcpu & 15), 8);
    },
    sgi(from, to, sgi) {
      for (const t of to) {
        const v = (BigInt(t >> 4) << 16n) | (BigInt(sgi) << 24n) | (1n << BigInt(t & 15));
        sysw(from, V3.ICC_SGI1R_EL1, v);
      }
    },
    disableCpu(vcpu) { sysw(vcpu, V3.ICC_IGRPEN1_EL1, 0); },
    disableDist() { wr(0, DIST + V3.GICD_CTLR, 0); },
  };
}

export const makers = [
  ['GICv2', makeV2],
  ['GICv3', makeV3],
] as const;
