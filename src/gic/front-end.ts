/**
 * What the GICv2 and GICv3 register front-ends share: the core they drive, the device-side
 * inputs (PPI/SPI lines and edges), the vCPU's output line, and the observer seams.
 */
import { GicCore, NR_BANKED, NR_SGIS } from './core.ts';
import type { GicEvents } from './types.ts';

export abstract class GicFrontEnd {
  readonly nrVcpus: number;
  readonly nrIrqs: number;
  protected readonly core: GicCore;

  protected constructor(cfg: { nrVcpus: number; nrIrqs: number; priorityBits: number }) {
    this.nrVcpus = cfg.nrVcpus;
    this.nrIrqs = cfg.nrIrqs;
    this.core = new GicCore({ nrVcpus: cfg.nrVcpus, nrIrqs: cfg.nrIrqs, priorityBits: cfg.priorityBits });
  }

  /** See VirtualGic.log. */
  log: ((vcpu: number, text: string) => void) | undefined;

  get onLineChange(): (vcpu: number, asserted: boolean) => void {
    return this.core.onLineChange;
  }
  set onLineChange(f: (vcpu: number, asserted: boolean) => void) {
    this.core.onLineChange = f;
  }
  get observer(): GicEvents | undefined {
    return this.core.observer;
  }
  set observer(o: GicEvents | undefined) {
    this.core.observer = o;
  }

  /** A device drives a PPI (banked: `vcpu`'s own) or an SPI line to `level`. */
  setLevel(vcpu: number, intid: number, level: boolean): void {
    if (!this.deviceTarget(vcpu, intid)) return;
    this.core.setLine(intid < NR_BANKED ? vcpu : 0, intid, level);
    this.core.update();
  }

  /** A device signals an edge on a PPI or SPI: the interrupt becomes pending. */
  pulse(vcpu: number, intid: number): void {
    if (!this.deviceTarget(vcpu, intid)) return;
    this.core.setPending(intid < NR_BANKED ? vcpu : 0, intid, 0);
    this.core.update();
  }

  /** See VirtualGic.clearPendingOf. */
  clearPendingOf(vcpu: number): void {
    if (!this.core.validVcpu(vcpu)) return;
    this.core.clearPendingOf(vcpu);
    this.core.update();
  }

  inspect(vcpu: number, intid: number): { pending: boolean; active: boolean; enabled: boolean } {
    if (!this.core.validVcpu(vcpu) || !this.core.validIntid(intid)) return { pending: false, active: false, enabled: false };
    const v = intid < NR_BANKED ? vcpu : 0;
    return { pending: this.core.isPending(v, intid), active: this.core.isActive(v, intid), enabled: this.core.isEnabled(v, intid) };
  }

  /**
   * A write to ICPENDR under Xen 4.17: an interrupt Xen has already queued for the vCPU stays
   * pending, and Xen logs "trying to clear pending interrupt N." (its vGIC cannot take it back).
   */
  protected clearPendingAsXen(vcpu: number, first: number, value: number, skipSgis: boolean): void {
    for (let i = 0; i < 32; i++) {
      if (((value >>> i) & 1) === 0) continue;
      const id = first + i;
      if (!this.core.validIntid(id) || (skipSgis && id < NR_SGIS)) continue;
      if (this.core.isPending(id < NR_BANKED ? vcpu : 0, id)) this.log?.(vcpu, `trying to clear pending interrupt ${id}.`);
    }
  }

  irqLine(vcpu: number): boolean {
    return this.core.validVcpu(vcpu) && this.core.irqLine(vcpu);
  }

  /** WFI ends on an interrupt the CPU interface signals, even with PSTATE.I set. */
  wakeup(vcpu: number): boolean {
    return this.irqLine(vcpu);
  }

  /** Devices drive PPIs and SPIs; SGIs come only from software (GICD_SGIR, ICC_SGI1R_EL1). */
  private deviceTarget(vcpu: number, intid: number): boolean {
    return this.core.validIntid(intid) && intid >= NR_SGIS && (intid >= NR_BANKED || this.core.validVcpu(vcpu));
  }
}
