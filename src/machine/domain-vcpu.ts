/**
 * One vCPU of a domain as the machine schedules it: its engine (src/cpu/vcpu.ts), its generic
 * timers, why it is not running, and what its last trap asked of the scheduler. A domain has
 * one of these per vCPU (`--domain dN,cpus=N`); every engine maps the same host buffer as the
 * domain's RAM, so the vCPUs share memory as the cores of one machine do.
 *
 * vCPU 0 starts at the kernel's entry; the others start down (Xen's _VPF_down: dom0less creates
 * them and leaves them down) until the guest starts them with PSCI CPU_ON.
 */
import type { Vcpu } from '../cpu/vcpu.ts';
import { PSTATE_DAIF, PSTATE_EL1H, SysReg } from '../cpu/arm64.ts';
import type { GuestTimers } from '../xen/vtimer.ts';
import type { HypercallOutcome } from '../xen/hypercall.ts';
import type { XenVcpu } from '../xen/domain.ts';
import type { MachineDomain, RunState } from './domain.ts';

export class DomainVcpu {
  /** The scheduler's state of this vCPU ('down' until CPU_ON for vCPUs other than 0). */
  state: RunState;
  /** What the last hypercall asked of the scheduler (block, yield, poll, shutdown). */
  outcome: HypercallOutcome | undefined;
  /** A PSCI call that stopped this vCPU, carried out once it has stopped. */
  psciStop: 'cpu-off' | 'suspend' | undefined;
  /** "d1v0": how Xen names a vCPU in its logs (%pv), and the trace too. */
  readonly label: string;
  /** The other vCPUs' TLBI / IC counts this vCPU's engine has caught up with. */
  private peerTlbi = 0;
  private peerIc = 0;

  constructor(
    readonly domain: MachineDomain,
    /** vCPU id within the domain (Xen's vcpu_id). */
    readonly index: number,
    readonly cpu: Vcpu,
    readonly timers: GuestTimers,
    readonly xen: XenVcpu,
    /** SCTLR_EL1 as the engine starts (the MMU off), restored by CPU_ON. */
    private readonly sctlrAtReset: bigint,
  ) {
    this.state = index === 0 ? { kind: 'runnable' } : { kind: 'down' };
    this.label = `d${domain.domid}v${index}`;
  }

  get up(): boolean {
    return this.xen.online !== false;
  }

  /**
   * The state PSCI CPU_ON gives a vCPU (Xen's do_common_cpu_on, DEN0022 §5.6): PC = entry,
   * x0 = context id and every other register 0, EL1h with DAIF masked, SCTLR_EL1 as at reset
   * (MMU and caches off), TTBR0/TTBR1/TCR 0. The other system registers keep what they held.
   */
  powerOn(entry: bigint, contextId: bigint): void {
    const v = this.cpu;
    for (let i = 0; i < 31; i++) v.setX(i, 0);
    v.setX(0, contextId);
    v.pstate = PSTATE_EL1H | PSTATE_DAIF;
    v.writeSys(SysReg.SCTLR_EL1, this.sctlrAtReset);
    v.writeSys(SysReg.TTBR0_EL1, 0n);
    v.writeSys(SysReg.TTBR1_EL1, 0n);
    v.writeSys(SysReg.TCR_EL1, 0n);
    v.pc = entry;
    this.xen.online = true;
    this.state = { kind: 'runnable' };
  }

  /**
   * Before this vCPU runs: carry out the TLB and instruction-cache maintenance its sibling vCPUs
   * did since it last ran. On hardware a TLBI ...IS or an IC to the point of unification reaches
   * every CPU; here each vCPU is an engine with its own TLB and translated code, so a sibling's
   * TLBI flushes this engine's TLB and its IC drops this engine's translations. Only domains
   * with several vCPUs watch maintenance at all.
   */
  catchUp(): void {
    let tlbi = 0;
    let ic = 0;
    for (const s of this.domain.vcpus) {
      if (s === this) continue;
      const m = s.cpu.maintenance;
      tlbi += m.tlbi;
      ic += m.ic;
    }
    if (tlbi === this.peerTlbi && ic === this.peerIc) return;
    this.cpu.invalidate(tlbi !== this.peerTlbi, ic !== this.peerIc);
    this.peerTlbi = tlbi;
    this.peerIc = ic;
  }

  /** PSCI CPU_OFF: the vCPU goes down (Xen sets _VPF_down and puts it to sleep). */
  powerOff(): void {
    this.xen.online = false;
    this.state = { kind: 'down' };
  }
}
