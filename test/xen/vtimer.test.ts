// The guest generic timers (src/xen/vtimer.ts) without a CPU: register semantics on virtual
// time, and the two ways Xen 4.17 delivers them (test/golden/vtimer.* shows the real Xen).
import { describe, expect, it } from 'vitest';
import { CNTFRQ_HZ, CTL_ENABLE, CTL_IMASK, CTL_ISTATUS, GuestTimers, NS_PER_TICK, type TimerAccess } from '../../src/xen/vtimer.ts';

const VIRT = 3;
const PHYS = 2;
const TVAL = 0;
const CTL = 1;
const CVAL = 2;

function timers() {
  const raised: number[] = [];
  const t = new GuestTimers({ virtIntid: 27, physIntid: 30, raise: (i) => raised.push(i) });
  let now = 0;
  const acc = (a: TimerAccess) => {
    const r = t.access(a, now);
    if (!r.ok) throw new Error('declined');
    return r.value;
  };
  const api = {
    raised,
    t,
    /** Virtual ns. */
    at(ns: number) {
      now = ns;
      t.update(now);
    },
    read: (crm: number, op2: number) => acc({ read: true, crm, op2 })!,
    write: (crm: number, op2: number, value: bigint) => void acc({ read: false, crm, op2, value }),
    ctl: (crm: number) => Number(api.read(crm, CTL)),
  };
  return api;
}

const ticks = (n: number) => n * NS_PER_TICK;

describe('counter', () => {
  it('CNTFRQ_EL0 is 62.5 MHz and both counters read virtual ns / 16', () => {
    const x = timers();
    expect(x.read(0, 0)).toBe(BigInt(CNTFRQ_HZ));
    x.at(1600);
    expect(x.read(0, 1)).toBe(100n); // CNTPCT_EL0
    expect(x.read(0, 2)).toBe(100n); // CNTVCT_EL0
    x.at(1615);
    expect(x.read(0, 2)).toBe(100n);
  });

  it('declines what it does not model (CNTFRQ writes, unknown registers)', () => {
    const { t } = timers();
    expect(t.access({ read: false, crm: 0, op2: 0, value: 1n }, 0).ok).toBe(false);
    expect(t.access({ read: true, crm: 0, op2: 6 }, 0).ok).toBe(false);
    expect(t.access({ read: true, crm: 1, op2: 0 }, 0).ok).toBe(false);
  });
});

describe('TVAL', () => {
  for (const [name, crm] of [['virt', VIRT], ['phys', PHYS]] as const) {
    it(`${name}: a write sets CVAL = count + sign-extended TVAL; a read is CVAL - count in 32 bits`, () => {
      const x = timers();
      x.at(ticks(1000));
      x.write(crm, TVAL, 500n);
      expect(x.read(crm, CVAL)).toBe(1500n);
      x.write(crm, TVAL, 0xffff_fff6n); // -10
      expect(x.read(crm, CVAL)).toBe(990n);
      expect(BigInt.asIntN(32, x.read(crm, TVAL))).toBe(-10n);
      expect(x.raised).toEqual([]); // never enabled
    });
  }
});

describe('virtual timer (hardware timer; Xen masks it when it fires)', () => {
  it('fires once at CVAL, sets IMASK, and ISTATUS follows the counter', () => {
    const x = timers();
    x.write(VIRT, CVAL, 100n);
    x.write(VIRT, CTL, BigInt(CTL_ENABLE));
    expect(x.t.nextDeadline()).toBe(ticks(100));
    x.at(ticks(100) - 1);
    expect(x.raised).toEqual([]);
    expect(x.ctl(VIRT)).toBe(CTL_ENABLE);
    x.at(ticks(100));
    expect(x.raised).toEqual([27]);
    expect(x.ctl(VIRT)).toBe(CTL_ENABLE | CTL_IMASK | CTL_ISTATUS);
    x.at(ticks(500));
    expect(x.raised).toEqual([27]);
    expect(x.t.nextDeadline()).toBeUndefined();
    // A future deadline: ISTATUS is live, IMASK stays.
    x.write(VIRT, CVAL, 10_000n);
    expect(x.ctl(VIRT)).toBe(CTL_ENABLE | CTL_IMASK);
  });

  it('masked or disabled: ISTATUS only with ENABLE, never an interrupt', () => {
    const x = timers();
    x.at(ticks(50));
    x.write(VIRT, CVAL, 10n);
    x.write(VIRT, CTL, BigInt(CTL_ENABLE | CTL_IMASK));
    expect(x.ctl(VIRT)).toBe(CTL_ENABLE | CTL_IMASK | CTL_ISTATUS);
    x.write(VIRT, CTL, 0n);
    expect(x.ctl(VIRT)).toBe(0);
    expect(x.raised).toEqual([]);
  });

  it('enabling with a deadline already past fires at once; so does clearing IMASK again', () => {
    const x = timers();
    x.at(ticks(50));
    x.write(VIRT, CVAL, 10n);
    x.write(VIRT, CTL, BigInt(CTL_ENABLE));
    expect(x.raised).toEqual([27]);
    x.write(VIRT, CTL, BigInt(CTL_ENABLE));
    expect(x.raised).toEqual([27, 27]);
  });
});

describe('physical timer (emulated by Xen: a latched ISTATUS, one interrupt per arming)', () => {
  it('fires once; ISTATUS stays latched while enabled; IMASK is not touched', () => {
    const x = timers();
    x.write(PHYS, CVAL, 100n);
    x.write(PHYS, CTL, BigInt(CTL_ENABLE));
    x.at(ticks(100));
    expect(x.raised).toEqual([30]);
    expect(x.ctl(PHYS)).toBe(CTL_ENABLE | CTL_ISTATUS);
    x.at(ticks(1000));
    expect(x.raised).toEqual([30]);
  });

  it('a CVAL write clears the latch and re-arms; a past CVAL fires again', () => {
    const x = timers();
    x.write(PHYS, CVAL, 100n);
    x.write(PHYS, CTL, BigInt(CTL_ENABLE));
    x.at(ticks(200));
    x.write(PHYS, CVAL, 1000n);
    expect(x.ctl(PHYS)).toBe(CTL_ENABLE);
    x.write(PHYS, CVAL, 100n);
    expect(x.raised).toEqual([30, 30]);
    expect(x.ctl(PHYS)).toBe(CTL_ENABLE | CTL_ISTATUS);
  });

  it('masked: the latch is set when the deadline passes, without an interrupt; disabling clears it', () => {
    const x = timers();
    x.at(ticks(50));
    x.write(PHYS, CVAL, 10n);
    x.write(PHYS, CTL, BigInt(CTL_ENABLE | CTL_IMASK));
    expect(x.ctl(PHYS)).toBe(CTL_ENABLE | CTL_IMASK | CTL_ISTATUS);
    expect(x.raised).toEqual([]);
    expect(x.t.nextDeadline()).toBeUndefined();
    x.write(PHYS, CTL, 0n);
    expect(x.ctl(PHYS)).toBe(0);
  });
});

describe('nextDeadline', () => {
  it('is the earlier of the two timers that can still interrupt', () => {
    const x = timers();
    expect(x.t.nextDeadline()).toBeUndefined();
    x.write(VIRT, CVAL, 300n);
    x.write(VIRT, CTL, BigInt(CTL_ENABLE));
    x.write(PHYS, CVAL, 200n);
    x.write(PHYS, CTL, BigInt(CTL_ENABLE));
    expect(x.t.nextDeadline()).toBe(ticks(200));
    x.write(PHYS, CTL, 0n);
    expect(x.t.nextDeadline()).toBe(ticks(300));
    x.write(VIRT, CTL, BigInt(CTL_ENABLE | CTL_IMASK));
    expect(x.t.nextDeadline()).toBeUndefined();
  });

  it('a CVAL near 2^64 does not fire within the 2^53 ns virtual time can reach', () => {
    const x = timers();
    x.write(VIRT, CVAL, (1n << 64n) - 1n);
    x.write(VIRT, CTL, BigInt(CTL_ENABLE));
    x.at(Number.MAX_SAFE_INTEGER);
    expect(x.raised).toEqual([]);
  });
});

describe('describe (deadlock reports)', () => {
  it('lists only enabled timers, marking a masked one', () => {
    const x = timers();
    expect(x.t.describe()).toEqual([]);
    x.write(VIRT, CVAL, 500n);
    x.write(VIRT, CTL, BigInt(CTL_ENABLE | CTL_IMASK));
    expect(x.t.describe()).toEqual(['virt timer ctl=0x3 cval=500 (masked)']);
  });
});
