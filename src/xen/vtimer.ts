/**
 * The generic timers a Xen 4.17 guest on Arm sees (Arm ARM D11, "The Generic Timer in AArch64
 * state"), run on the machine's virtual time instead of the host clock.
 *
 * Time: the machine counts 1 ns per guest instruction; the counter runs at CNTFRQ_HZ = 62.5 MHz,
 * the frequency QEMU's virt board gives the real Xen (and Xen passes on to its guests), so one
 * tick is 16 ns. CNTVCT_EL0 and CNTPCT_EL0 both read virtual time (all domains start at 0, so
 * there is no virtual offset to apply).
 *
 * The two timers behave as the real Xen makes them behave, which is not quite the architecture
 * (test/golden/vtimer.* records what a guest observes under the real Xen 4.17):
 * - virtual timer (CNTV_*): the hardware timer while the vCPU runs. ISTATUS is live
 *   (ENABLE and CNTVCT >= CVAL). When it fires, Xen sets IMASK in the guest's CNTV_CTL and
 *   injects the PPI once; the guest must clear IMASK (write CTL) to get another interrupt.
 * - physical timer (CNTP_*): trapped and emulated by Xen. ISTATUS is a latch set when the
 *   deadline passes while enabled, kept by CTL writes that keep ENABLE, cleared by a CVAL/TVAL
 *   write or by disabling. The PPI is injected once per arming (a CTL write with ENABLE, or a
 *   CVAL/TVAL write while enabled), unless IMASK is set.
 */

import { vmin, vtime, type VTime } from '../machine/vtime.ts';

export const CNTFRQ_HZ = 62_500_000;
export const NS_PER_TICK = 1_000_000_000 / CNTFRQ_HZ;

/** CNTx_CTL_EL0 bits. */
export const CTL_ENABLE = 1;
export const CTL_IMASK = 2;
export const CTL_ISTATUS = 4;

export type TimerName = 'virt' | 'phys';

/** What the timers report, for the trace. */
export type TimerEvent =
  | { timer: TimerName; change: 'set'; ctl: number; cval: bigint }
  | { timer: TimerName; change: 'fire'; intid: number };

export interface GuestTimersConfig {
  virtIntid: number;
  physIntid: number;
  /** Injects a timer PPI (an edge: Xen marks it pending once). */
  raise(intid: number): void;
  onEvent?(e: TimerEvent): void;
}

/** An access to the timer block (op0 3, op1 3, CRn 14) as the vCPU trap reports it. */
export interface TimerAccess {
  read: boolean;
  crm: number;
  op2: number;
  value?: bigint;
}

const MASK64 = (1n << 64n) - 1n;
const NS_PER_TICK_BIG = BigInt(NS_PER_TICK);

/**
 * The counter at virtual time `nowNs`, exact (virtual time is a bigint past 2^53 ns, see
 * src/machine/vtime.ts). Not wrapped to 64 bits: comparisons with CVAL use the full value, and
 * only what the guest reads is the low 64 bits (the counter would wrap after 2^64 ticks).
 */
function ticksAt(nowNs: VTime): bigint {
  return typeof nowNs === 'number' ? BigInt(Math.floor(nowNs / NS_PER_TICK)) : nowNs / NS_PER_TICK_BIG;
}

/** The first virtual ns at which the counter reaches `cval`. */
function nsOf(cval: bigint): VTime {
  return vtime(cval * NS_PER_TICK_BIG);
}

class Timer {
  /** ENABLE and IMASK as the guest wrote them (virt), plus the ISTATUS latch (phys). */
  ctl = 0;
  cval = 0n;
  /** phys only: a deadline is pending (Xen's software timer is set). */
  armed = false;
  /** Virtual ns at which `update` has something to do; undefined when nothing. */
  due: VTime | undefined = undefined;

  constructor(
    readonly name: TimerName,
    readonly intid: number,
  ) {}
}

/** One vCPU's two timers. */
export class GuestTimers {
  private readonly virt: Timer;
  private readonly phys: Timer;
  private readonly cfg: GuestTimersConfig;

  constructor(cfg: GuestTimersConfig) {
    this.cfg = cfg;
    this.virt = new Timer('virt', cfg.virtIntid);
    this.phys = new Timer('phys', cfg.physIntid);
  }

  /**
   * Emulates one access to the timer block; `{ ok: false }` for a register this model does not
   * own (the engine then performs it, e.g. CNTFRQ_EL0 writes, which are undefined at EL1).
   */
  access(a: TimerAccess, nowNs: VTime): { ok: true; value?: bigint } | { ok: false } {
    this.update(nowNs);
    const count = ticksAt(nowNs);
    if (a.crm === 0) {
      if (!a.read) return { ok: false };
      if (a.op2 === 0) return { ok: true, value: BigInt(CNTFRQ_HZ) }; // CNTFRQ_EL0
      if (a.op2 === 1 || a.op2 === 2) return { ok: true, value: count & MASK64 }; // CNTPCT_EL0, CNTVCT_EL0
      return { ok: false };
    }
    const t = a.crm === 3 ? this.virt : a.crm === 2 ? this.phys : undefined;
    if (!t || a.op2 > 2) return { ok: false };
    const v = a.value ?? 0n;
    switch (a.op2) {
      case 0: // CNTx_TVAL_EL0: the signed 32-bit distance to CVAL
        if (a.read) return { ok: true, value: BigInt.asUintN(32, t.cval - count) };
        this.setCval(t, (count + BigInt.asIntN(32, v)) & MASK64, nowNs);
        return { ok: true };
      case 1: // CNTx_CTL_EL0
        if (a.read) return { ok: true, value: BigInt(this.readCtl(t, count)) };
        this.setCtl(t, Number(v & 3n), nowNs);
        return { ok: true };
      default: // CNTx_CVAL_EL0
        if (a.read) return { ok: true, value: t.cval };
        this.setCval(t, v & MASK64, nowNs);
        return { ok: true };
    }
  }

  /** Fires what is due at `nowNs` (call before a vCPU runs and after virtual time moves). */
  update(nowNs: VTime): void {
    // A number compares exactly with a bigint: no conversion on this per-decision path.
    const v = this.virt.due;
    if (v !== undefined && nowNs >= v) this.fire(this.virt, nowNs);
    const p = this.phys.due;
    if (p !== undefined && nowNs >= p) this.fire(this.phys, nowNs);
  }

  /** The earliest virtual ns at which a timer interrupt is due (undefined: none). */
  nextDeadline(): VTime | undefined {
    return vmin(this.virt.due, this.phys.due);
  }

  /** "virt 0x1 cval=123" for each enabled timer: deadlock reports and debugging. */
  describe(): string[] {
    return [this.virt, this.phys]
      .filter((t) => t.ctl & CTL_ENABLE)
      .map((t) => `${t.name} timer ctl=0x${t.ctl.toString(16)} cval=${t.cval}${t.ctl & CTL_IMASK ? ' (masked)' : ''}`);
  }

  private readCtl(t: Timer, count: bigint): number {
    if (t.name === 'phys') return t.ctl;
    const met = (t.ctl & CTL_ENABLE) !== 0 && count >= t.cval;
    return t.ctl | (met ? CTL_ISTATUS : 0);
  }

  private setCtl(t: Timer, ctl: number, nowNs: VTime): void {
    if (t.name === 'phys') {
      // Xen keeps the latch while the timer stays enabled, and re-arms on every enabling write.
      t.ctl = ctl & CTL_ENABLE ? ctl | (t.ctl & CTL_ISTATUS) : ctl;
      t.armed = (ctl & CTL_ENABLE) !== 0;
    } else {
      t.ctl = ctl;
    }
    this.changed(t, nowNs);
  }

  private setCval(t: Timer, cval: bigint, nowNs: VTime): void {
    t.cval = cval;
    if (t.name === 'phys') {
      t.ctl &= ~CTL_ISTATUS;
      t.armed = (t.ctl & CTL_ENABLE) !== 0;
    }
    this.changed(t, nowNs);
  }

  private changed(t: Timer, nowNs: VTime): void {
    this.cfg.onEvent?.({ timer: t.name, change: 'set', ctl: t.ctl, cval: t.cval });
    this.schedule(t);
    if (t.due !== undefined && nowNs >= t.due) this.fire(t, nowNs);
  }

  /** When `t` next needs attention. */
  private schedule(t: Timer): void {
    const live = t.name === 'phys' ? t.armed : (t.ctl & (CTL_ENABLE | CTL_IMASK)) === CTL_ENABLE;
    t.due = live ? nsOf(t.cval) : undefined;
  }

  private fire(t: Timer, nowNs: VTime): void {
    if (ticksAt(nowNs) < t.cval) {
      // Not yet: `due` was rounded; look again later.
      this.schedule(t);
      return;
    }
    let raise: boolean;
    if (t.name === 'phys') {
      t.armed = false;
      t.ctl |= CTL_ISTATUS;
      raise = (t.ctl & CTL_IMASK) === 0;
    } else {
      // Xen masks the virtual timer when it takes the interrupt for the guest.
      t.ctl |= CTL_IMASK;
      raise = true;
    }
    this.schedule(t);
    if (raise) {
      this.cfg.onEvent?.({ timer: t.name, change: 'fire', intid: t.intid });
      this.cfg.raise(t.intid);
    }
  }
}
