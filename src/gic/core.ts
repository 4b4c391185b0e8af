/**
 * The interrupt state machine shared by the GICv2 and GICv3 front-ends: per-interrupt pending /
 * active / enable / priority / group / trigger state, and per-vCPU CPU-interface state (PMR,
 * binary points, EOI mode, active priorities). Front-ends translate registers to calls here.
 *
 * Interrupt life cycle (IHI0048B §3.2, IHI0069 §4.1): inactive -> pending -> (ack) active ->
 * (deactivate) inactive, with "active and pending" when a new edge arrives while active or a level
 * line is still high at acknowledge. An active interrupt is never signalled again until
 * deactivated, so an active+pending one is taken once more after EOI/DIR.
 *
 * The IRQ output of each vCPU is recomputed in one update() after every state change, and
 * onLineChange fires only when it flips (TinyEMU's rhythm, DESIGN.md §6).
 */
import type { GicEventKind, GicEvents } from './types.ts';

export const SPURIOUS_INTID = 1023;
/** INTIDs 0..15 are SGIs, 16..31 PPIs (both banked per vCPU), 32.. SPIs (IHI0048B §2.2.1). */
export const NR_SGIS = 16;
export const NR_BANKED = 32;

export type Group = 0 | 1;

export interface CoreConfig {
  nrVcpus: number;
  /** Multiple of 32, 32..1024 (capped at 1020 usable INTIDs). */
  nrIrqs: number;
  priorityBits: number;
}

/** One entry of the active-priority stack: the priority an ack raised the running priority to.
 *  intid is -1 when the entry was restored through an APR register write. */
interface ActivePriority {
  prio: number;
  intid: number;
}

/** The best interrupt a CPU interface could signal (see highestPending). */
export interface PendingCandidate {
  readonly intid: number;
  readonly prio: number;
  readonly group: Group;
  readonly source: number;
}

export interface Acked {
  intid: number;
  /** Requesting CPU of an SGI (GICv2 reports it in IAR[12:10]); 0 otherwise. */
  source: number;
}

export class GicCore {
  readonly nrVcpus: number;
  readonly nrIrqs: number;
  readonly priorityBits: number;
  /** Mask of implemented priority bits, e.g. 0xf8 for 5 bits. */
  readonly priMask: number;
  /** Smallest Group 0 binary point (IHI0048B §3.3.3: 7 - implemented bits); Group 1 is one more. */
  readonly minBpr0: number;

  // Per-slot interrupt state. Slot of (vcpu, intid): banked INTIDs at vcpu*32+intid, SPIs after
  // all banks at nrVcpus*32 + (intid-32).
  private readonly enabled: Uint8Array;
  /** How many SPIs are enabled: with none, the SPI half of the highest-pending scan is skipped
   *  (the event-channel path uses only PPIs; this scan was 10% of an interdomain ping-pong). */
  private spisEnabled = 0;
  /** Per vCPU, bit n set = banked INTID n enabled: the banked scan visits only those. */
  private readonly bankedEnabled: Int32Array;
  /** Software/edge pending latch. For SGIs, a bit mask of requesting CPUs (IHI0048B §4.3.15). */
  private readonly latch: Uint8Array;
  /** Input line level from the device side. */
  private readonly line: Uint8Array;
  private readonly active: Uint8Array;
  private readonly edge: Uint8Array;
  private readonly priority: Uint8Array;
  private readonly group: Uint8Array;
  /** Source CPU of the SGI currently active on the slot. */
  private readonly activeSource: Uint8Array;
  /** SPI target set as a vCPU bit mask (index intid-32). */
  private readonly targets: Uint32Array;

  /** Distributor group enables: bit0 Group 0, bit1 Group 1. */
  distGroupEnable = 0;
  // Per-vCPU CPU interface state.
  readonly cpuGroupEnable: Uint8Array;
  readonly pmr: Uint8Array;
  readonly bpr0: Uint8Array;
  readonly bpr1: Uint8Array;
  readonly eoiMode: Uint8Array;
  private readonly apStack: ActivePriority[][];
  private readonly lineOut: Uint8Array;
  /**
   * Bumped by every change to per-interrupt state (the arrays above). highestPending() runs on
   * every GIC access, every IRQ-line update and every scheduling decision, and the state changes
   * far less often, so its answer is kept per vCPU until this moves or the group enables (the
   * only other inputs, public fields the front-ends write) differ.
   */
  private changed = 0;
  private readonly hpAt: Float64Array;
  private readonly hpEn: Uint8Array;
  private readonly hp: (PendingCandidate | null)[];

  onLineChange: (vcpu: number, asserted: boolean) => void = () => {};
  observer: GicEvents | undefined;

  constructor(cfg: CoreConfig) {
    this.nrVcpus = cfg.nrVcpus;
    this.nrIrqs = cfg.nrIrqs;
    this.priorityBits = cfg.priorityBits;
    this.priMask = (0xff << (8 - cfg.priorityBits)) & 0xff;
    this.minBpr0 = 7 - cfg.priorityBits;
    const slots = cfg.nrVcpus * NR_BANKED + (cfg.nrIrqs - NR_BANKED);
    this.enabled = new Uint8Array(slots);
    this.latch = new Uint8Array(slots);
    this.line = new Uint8Array(slots);
    this.active = new Uint8Array(slots);
    this.edge = new Uint8Array(slots);
    this.priority = new Uint8Array(slots);
    this.group = new Uint8Array(slots);
    this.activeSource = new Uint8Array(slots);
    this.targets = new Uint32Array(cfg.nrIrqs - NR_BANKED).fill(1); // reset: vCPU 0
    // SGIs are always edge-triggered (IHI0048B §4.3.13: ICFGR0 is read-only 0b10 per SGI).
    for (let v = 0; v < cfg.nrVcpus; v++) for (let i = 0; i < NR_SGIS; i++) this.edge[v * NR_BANKED + i] = 1;
    this.cpuGroupEnable = new Uint8Array(cfg.nrVcpus);
    this.pmr = new Uint8Array(cfg.nrVcpus); // reset 0: everything masked (IHI0048B §4.4.2)
    this.bpr0 = new Uint8Array(cfg.nrVcpus).fill(this.minBpr0);
    this.bpr1 = new Uint8Array(cfg.nrVcpus).fill(this.minBpr0 + 1);
    this.eoiMode = new Uint8Array(cfg.nrVcpus);
    this.apStack = Array.from({ length: cfg.nrVcpus }, () => []);
    this.lineOut = new Uint8Array(cfg.nrVcpus);
    this.bankedEnabled = new Int32Array(cfg.nrVcpus);
    this.hpAt = new Float64Array(cfg.nrVcpus).fill(-1);
    this.hpEn = new Uint8Array(cfg.nrVcpus);
    this.hp = new Array<PendingCandidate | null>(cfg.nrVcpus).fill(null);
  }

  // ---- addressing -------------------------------------------------------------------------

  validVcpu(vcpu: number): boolean {
    return Number.isInteger(vcpu) && vcpu >= 0 && vcpu < this.nrVcpus;
  }

  validIntid(intid: number): boolean {
    return Number.isInteger(intid) && intid >= 0 && intid < this.nrIrqs && intid < 1020;
  }

  private slot(vcpu: number, intid: number): number {
    return intid < NR_BANKED ? vcpu * NR_BANKED + intid : this.nrVcpus * NR_BANKED + (intid - NR_BANKED);
  }

  private emit(vcpu: number, intid: number, change: GicEventKind): void {
    this.observer?.({ vcpu, intid, change });
  }

  // ---- per-interrupt state (distributor / redistributor view) ----------------------------

  isPending(vcpu: number, intid: number): boolean {
    const s = this.slot(vcpu, intid);
    return this.latch[s] !== 0 || (this.edge[s] === 0 && this.line[s] !== 0);
  }

  isActive(vcpu: number, intid: number): boolean {
    return this.active[this.slot(vcpu, intid)] !== 0;
  }

  isEnabled(vcpu: number, intid: number): boolean {
    return this.enabled[this.slot(vcpu, intid)] !== 0;
  }

  isEdge(vcpu: number, intid: number): boolean {
    return this.edge[this.slot(vcpu, intid)] !== 0;
  }

  getPriority(vcpu: number, intid: number): number {
    return this.priority[this.slot(vcpu, intid)];
  }

  getGroup(vcpu: number, intid: number): Group {
    return this.group[this.slot(vcpu, intid)] as Group;
  }

  setEnabled(vcpu: number, intid: number, on: boolean): void {
    const s = this.slot(vcpu, intid);
    const v = on ? 1 : 0;
    if (intid >= NR_BANKED && this.enabled[s] !== v) this.spisEnabled += on ? 1 : -1;
    if (intid < NR_BANKED) this.bankedEnabled[vcpu] = on ? this.bankedEnabled[vcpu] | (1 << intid) : this.bankedEnabled[vcpu] & ~(1 << intid);
    this.enabled[s] = v;
    this.changed++;
  }

  setPriority(vcpu: number, intid: number, prio: number): void {
    this.priority[this.slot(vcpu, intid)] = prio & 0xff;
    this.changed++;
  }

  setGroup(vcpu: number, intid: number, g: Group): void {
    this.group[this.slot(vcpu, intid)] = g;
    this.changed++;
  }

  /** Trigger mode; SGIs stay edge whatever is asked. */
  setEdge(vcpu: number, intid: number, edge: boolean): void {
    if (intid < NR_SGIS) return;
    this.edge[this.slot(vcpu, intid)] = edge ? 1 : 0;
    this.changed++;
  }

  /** Latch pending, as ISPENDR or a device edge does. `source` is the requesting CPU of an SGI. */
  setPending(vcpu: number, intid: number, source = 0): void {
    const s = this.slot(vcpu, intid);
    const was = this.isPending(vcpu, intid);
    this.latch[s] = intid < NR_SGIS ? this.latch[s] | (1 << (source & 7)) : 1;
    this.changed++;
    if (!was) this.emit(vcpu, intid, 'raise');
  }

  /** Clear the pending latch (ICPENDR). A level interrupt whose line is high stays pending
   *  (IHI0048B §4.3.8). `sources` restricts the clear to some SGI requesters (CPENDSGIR). */
  clearPending(vcpu: number, intid: number, sources = 0xff): void {
    const s = this.slot(vcpu, intid);
    const was = this.isPending(vcpu, intid);
    this.latch[s] = intid < NR_SGIS ? this.latch[s] & ~sources : 0;
    this.changed++;
    if (was && !this.isPending(vcpu, intid)) this.emit(vcpu, intid, 'lower');
  }

  /** SGI pending bits per source CPU (GICD_SPENDSGIR byte). */
  sgiSources(vcpu: number, intid: number): number {
    return this.latch[this.slot(vcpu, intid)];
  }

  setActive(vcpu: number, intid: number, on: boolean): void {
    this.active[this.slot(vcpu, intid)] = on ? 1 : 0;
    this.changed++;
  }

  /** Device input line. A rising edge on an edge-configured interrupt latches pending. */
  setLine(vcpu: number, intid: number, level: boolean): void {
    const s = this.slot(vcpu, intid);
    const old = this.line[s] !== 0;
    if (old === level) return;
    const was = this.isPending(vcpu, intid);
    this.line[s] = level ? 1 : 0;
    if (level && this.edge[s]) this.latch[s] = 1;
    this.changed++;
    const now = this.isPending(vcpu, intid);
    if (!was && now) this.emit(vcpu, intid, 'raise');
    else if (was && !now) this.emit(vcpu, intid, 'lower');
  }

  /**
   * Drops every pending latch of one vCPU: its SGIs and PPIs and the SPIs that target it. Xen does
   * this when PSCI CPU_ON starts a vCPU (vgic_clear_pending_irqs empties its inflight list); a
   * level line still high keeps its interrupt pending.
   */
  clearPendingOf(vcpu: number): void {
    for (let i = 0; i < NR_BANKED; i++) if (this.latch[this.slot(vcpu, i)] !== 0) this.clearPending(vcpu, i);
    const bit = 1 << vcpu;
    for (let i = NR_BANKED; i < Math.min(this.nrIrqs, 1020); i++) {
      if ((this.targets[i - NR_BANKED] & bit) !== 0 && this.latch[this.slot(0, i)] !== 0) this.clearPending(0, i);
    }
  }

  getTargets(spi: number): number {
    return this.targets[spi - NR_BANKED];
  }

  setTargets(spi: number, mask: number): void {
    this.targets[spi - NR_BANKED] = mask >>> 0;
    this.changed++;
  }

  // ---- CPU interface ------------------------------------------------------------------------

  effectivePriority(prio: number): number {
    return prio & this.priMask;
  }

  /** Group priority mask for preemption (IHI0048B §3.3.3 Table 3-2): Group 0 with binary point n
   *  compares bits [7:n+1]; Group 1 (ABPR / ICC_BPR1_EL1) compares bits [7:n]. */
  private groupMask(vcpu: number, g: Group): number {
    return g === 0 ? (0xff << (this.bpr0[vcpu] + 1)) & 0xff : (0xff << this.bpr1[vcpu]) & 0xff;
  }

  /** Running priority (GICC_RPR / ICC_RPR_EL1): the highest active priority, 0xff when idle. */
  runningPriority(vcpu: number): number {
    const st = this.apStack[vcpu];
    return st.length === 0 ? 0xff : st[st.length - 1].prio;
  }

  /** Highest-priority interrupt that could be signalled to `vcpu` ignoring PMR and the running
   *  priority: pending, not active, enabled, its group enabled in the distributor and in this CPU
   *  interface, and targeted at this vCPU. Ties go to the lowest INTID. The object is shared
   *  (cached until the state changes): read it, do not keep or modify it. */
  highestPending(vcpu: number): PendingCandidate | null {
    const cpuEn = this.cpuGroupEnable[vcpu] & this.distGroupEnable;
    if (cpuEn === 0) return null;
    if (this.hpAt[vcpu] === this.changed && this.hpEn[vcpu] === cpuEn) return this.hp[vcpu];
    const hp = this.scanHighestPending(vcpu, cpuEn);
    this.hpAt[vcpu] = this.changed;
    this.hpEn[vcpu] = cpuEn;
    this.hp[vcpu] = hp;
    return hp;
  }

  private scanHighestPending(vcpu: number, cpuEn: number): PendingCandidate | null {
    let best = -1;
    let bestPrio = 0x100;
    let bestSlot = -1;
    const base = vcpu * NR_BANKED;
    // Only the enabled SGIs/PPIs, lowest INTID first (so ties still go to the lowest).
    for (let m = this.bankedEnabled[vcpu]; m !== 0; m &= m - 1) {
      const i = 31 - Math.clz32(m & -m);
      const s = base + i;
      if (this.active[s]) continue;
      if (this.latch[s] === 0 && (this.edge[s] || !this.line[s])) continue;
      if (((cpuEn >> this.group[s]) & 1) === 0) continue;
      const p = this.priority[s] & this.priMask;
      if (p < bestPrio) { bestPrio = p; best = i; bestSlot = s; }
    }
    const spiBase = this.nrVcpus * NR_BANKED;
    const bit = 1 << vcpu;
    const limit = this.spisEnabled === 0 ? NR_BANKED : Math.min(this.nrIrqs, 1020);
    for (let i = NR_BANKED; i < limit; i++) {
      const s = spiBase + i - NR_BANKED;
      if (!this.enabled[s] || this.active[s]) continue;
      if (this.latch[s] === 0 && (this.edge[s] || !this.line[s])) continue;
      if ((this.targets[i - NR_BANKED] & bit) === 0) continue;
      if (((cpuEn >> this.group[s]) & 1) === 0) continue;
      const p = this.priority[s] & this.priMask;
      if (p < bestPrio) { bestPrio = p; best = i; bestSlot = s; }
    }
    if (best < 0) return null;
    const src = best < NR_SGIS ? lowestBit(this.latch[bestSlot]) : 0;
    return { intid: best, prio: bestPrio, group: this.group[bestSlot] as Group, source: src < 0 ? 0 : src };
  }

  /** Would this candidate be signalled: below PMR (IHI0048B §3.3.2) and, if something is active,
   *  of higher group priority than the running priority (preemption, §3.3.3). */
  private canSignal(vcpu: number, prio: number, g: Group): boolean {
    if (prio >= this.pmr[vcpu]) return false;
    const st = this.apStack[vcpu];
    if (st.length === 0) return true;
    const m = this.groupMask(vcpu, g);
    return (prio & m) < (st[st.length - 1].prio & m);
  }

  irqLine(vcpu: number): boolean {
    const hp = this.highestPending(vcpu);
    return hp !== null && this.canSignal(vcpu, hp.prio, hp.group);
  }

  /** Interrupt acknowledge (GICC_IAR / ICC_IAR<g>_EL1): take the highest-priority signalled
   *  interrupt of group `g`, make it active, clear its pending latch (a level line that is still
   *  high keeps it pending: active+pending) and raise the running priority. null = spurious. */
  acknowledge(vcpu: number, g: Group): Acked | null {
    const hp = this.highestPending(vcpu);
    if (hp === null || hp.group !== g || !this.canSignal(vcpu, hp.prio, hp.group)) {
      this.emit(vcpu, SPURIOUS_INTID, 'spurious');
      return null;
    }
    const s = this.slot(vcpu, hp.intid);
    if (hp.intid < NR_SGIS) {
      this.latch[s] &= ~(1 << hp.source);
      this.activeSource[s] = hp.source;
    } else {
      this.latch[s] = 0;
    }
    this.active[s] = 1;
    this.changed++;
    this.apStack[vcpu].push({ prio: hp.prio, intid: hp.intid });
    this.emit(vcpu, hp.intid, 'ack');
    return { intid: hp.intid, source: hp.source };
  }

  /** Priority drop (the first half of EOI, IHI0048B §3.2.5): removes the highest active priority,
   *  whatever INTID the guest wrote (an out-of-order EOI is UNPREDICTABLE in the spec; real
   *  implementations drop the highest priority too). */
  priorityDrop(vcpu: number, intid: number): void {
    const st = this.apStack[vcpu];
    if (st.length === 0) return;
    st.pop();
    this.emit(vcpu, intid, 'eoi');
  }

  /** Deactivation (EOI with EOImode 0, or DIR). */
  deactivate(vcpu: number, intid: number): void {
    if (!this.validIntid(intid)) return;
    const s = this.slot(vcpu, intid);
    if (!this.active[s]) return;
    this.active[s] = 0;
    this.changed++;
    this.emit(vcpu, intid, 'deactivate');
  }

  /** Source CPU recorded when an SGI was acknowledged. */
  activeSgiSource(vcpu: number, intid: number): number {
    return this.activeSource[this.slot(vcpu, intid)];
  }

  /** Active priorities as an APR0 bit mask: bit n set = priority group n*8 active (the 32 levels
   *  of 5-bit priority; with more bits implemented this view is coarser). */
  activePriorities(vcpu: number): number {
    let m = 0;
    for (const e of this.apStack[vcpu]) m |= 1 << (e.prio >> 3);
    return m >>> 0;
  }

  /** Restore the active priorities from an APR0 value (context switch or reset by the guest). */
  setActivePriorities(vcpu: number, mask: number): void {
    const st: ActivePriority[] = [];
    for (let n = 31; n >= 0; n--) if ((mask >>> n) & 1) st.push({ prio: n << 3, intid: -1 });
    this.apStack[vcpu] = st;
  }

  setPmr(vcpu: number, v: number): void {
    this.pmr[vcpu] = v & this.priMask;
  }

  setBpr0(vcpu: number, v: number): void {
    this.bpr0[vcpu] = Math.max(v & 7, this.minBpr0);
  }

  setBpr1(vcpu: number, v: number): void {
    this.bpr1[vcpu] = Math.max(v & 7, this.minBpr0 + 1);
  }

  /** Recompute every vCPU's IRQ output; call onLineChange on each edge. */
  update(): void {
    for (let v = 0; v < this.nrVcpus; v++) {
      const now = this.irqLine(v) ? 1 : 0;
      if (now !== this.lineOut[v]) {
        this.lineOut[v] = now;
        this.onLineChange(v, now === 1);
      }
    }
  }

  /** The last value reported through onLineChange. */
  reportedLine(vcpu: number): boolean {
    return this.lineOut[vcpu] === 1;
  }
}

function lowestBit(m: number): number {
  if (m === 0) return -1;
  return 31 - Math.clz32(m & -m);
}
