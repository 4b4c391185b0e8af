/**
 * Public types of the virtual GIC. The GIC sees only guest-physical addresses, register values and
 * vCPU indices: it knows nothing of Xen, of the CPU engine or of domains (DESIGN.md §2).
 */

/** Width in bytes of one guest MMIO access (the data-abort syndrome's SAS field, decoded). */
export type AccessSize = 1 | 2 | 4 | 8;

/** Result of a register read. `ok: false` means "this access faults" (the machine decides how:
 *  Xen injects a data abort for unhandled vGIC registers and crashes the domain on a bad width). */
export type GicAccess = { ok: true; value: number } | { ok: false; reason: string };

/** Result of a system-register read (ICC_*_EL1 are 64-bit). */
export type SysregAccess = { ok: true; value: bigint } | { ok: false; reason: string };

/** Result of a register write. */
export type GicWrite = { ok: true } | { ok: false; reason: string };

/** What happened to one interrupt, for the trace. `raise`/`lower`: it became pending / stopped
 *  being pending because of a device or a pending-register write; `ack`: IAR returned it;
 *  `eoi`: priority drop; `deactivate`: active state cleared; `spurious`: IAR returned 1023. */
export type GicEventKind = 'raise' | 'lower' | 'ack' | 'eoi' | 'deactivate' | 'spurious';

export interface GicEvent {
  vcpu: number;
  intid: number;
  change: GicEventKind;
}

export interface GicEvents {
  (e: GicEvent): void;
}

/** A system register operand of MRS/MSR: op0, op1, CRn, CRm, op2 (Arm ARM C5.3). */
export interface SysReg {
  op0: number;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
}

export interface GicConfig {
  version: 2 | 3;
  /** vCPUs served: 1..8 for GICv2 (the CPU target list is 8 bits), 1..32 for GICv3. */
  nrVcpus: number;
  /** Distributor base; default 0x03001000 (Xen's guest layout, GUEST_GICD_BASE / GUEST_GICV3_GICD_BASE). */
  distBase?: number;
  /** GICv2 CPU interface base; default 0x03002000 (Xen's GUEST_GICC_BASE). */
  cpuBase?: number;
  /** GICv3 first redistributor; default 0x03020000 (Xen's GUEST_GICV3_RDIST_BASE). */
  redistBase?: number;
  /** Number of SPIs, rounded up to a multiple of 32; default 64, at most 988 (INTIDs 32..1019). */
  nrSpis?: number;
  /** Implemented priority bits, 4..8; default 5 (32 levels, as on GIC-400 and QEMU's virtual
   *  CPU interface). Unimplemented low bits of PMR read as zero; IPRIORITYR keeps all 8 bits as
   *  written (Xen stores the byte) but only the implemented bits take part in comparisons. */
  priorityBits?: number;
  onLineChange?: (vcpu: number, asserted: boolean) => void;
  observer?: GicEvents;
}

export interface VirtualGic {
  readonly version: 2 | 3;
  readonly nrVcpus: number;
  /** Total interrupt lines including SGIs and PPIs (32 + SPIs). */
  readonly nrIrqs: number;
  /** True when `addr` lies in one of this GIC's MMIO frames. */
  claims(addr: number): boolean;
  /** MMIO read by vCPU `vcpu` (the accessor matters for banked registers). */
  mmioRead(vcpu: number, addr: number, size: AccessSize): GicAccess;
  mmioWrite(vcpu: number, addr: number, size: AccessSize, value: number): GicWrite;
  /** GICv3 ICC_*_EL1 registers; GICv2 always answers ok:false. */
  sysregRead(vcpu: number, reg: SysReg): SysregAccess;
  sysregWrite(vcpu: number, reg: SysReg, value: bigint): GicWrite;
  /** Device side: drive the input line of a PPI (banked: `vcpu` selects the bank) or an SPI
   *  (`vcpu` ignored). On an edge-configured interrupt a rising level latches pending; on a
   *  level-configured one pending follows the line. */
  setLevel(vcpu: number, intid: number, level: boolean): void;
  /** Device side: one edge. Latches pending whatever the configuration (as a write to
   *  ISPENDR would), so a level-configured PPI pulsed by a device is taken once per pulse. */
  pulse(vcpu: number, intid: number): void;
  /** Drops the pending state of everything queued for `vcpu` (its SGIs/PPIs, SPIs that target
   *  it), as Xen does when PSCI CPU_ON starts the vCPU. */
  clearPendingOf(vcpu: number): void;
  /** The vCPU's IRQ output: some pending, enabled, group-enabled, not-active interrupt targets it,
   *  its priority is below PMR and its group priority beats the running priority. */
  irqLine(vcpu: number): boolean;
  /** WFI wake-up. Arm ARM: WFI ends on an IRQ even when PSTATE.I masks it, but only on an IRQ the
   *  GIC actually signals, i.e. one that passed the CPU interface's enable, PMR and running-priority
   *  checks. So this is the same condition as irqLine(). */
  wakeup(vcpu: number): boolean;
  /** Called once per change (edge) of a vCPU's IRQ output, right after the state change. */
  onLineChange: (vcpu: number, asserted: boolean) => void;
  observer?: GicEvents;
  /** The state of one interrupt, for tests and debugging: under Xen the guest cannot read it
   *  (GICD_ISPENDR/ISACTIVER read as zero). */
  inspect(vcpu: number, intid: number): { pending: boolean; active: boolean; enabled: boolean };
  /** A line Xen's vGIC would log for an access it ignores (e.g. writes to GICD_ICACTIVERn). */
  log?: (vcpu: number, text: string) => void;
}
