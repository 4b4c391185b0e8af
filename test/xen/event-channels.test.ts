import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/xen/abi.ts';
import { EVTCHNSTAT, VIRQ } from '../../src/xen/evtchn/channel.ts';
import { EVTCHNS_PER_BUCKET } from '../../src/xen/evtchn/port-table.ts';
import { makeDomain, rig } from './helpers.ts';

const fail = (error: string) => ({ ok: false, error });
const ok = <T>(value: T) => ({ ok: true, value });

describe('event channels: allocation and validity', () => {
  it('port 0 is reserved and reports closed; the first free port is 1', () => {
    const { xen, doms } = rig();
    const [a] = doms;
    expect(xen.evtchn.channel(a.domid, 0)?.binding.state).toBe('reserved');
    expect(xen.evtchn.status(a, DOMID_SELF, 0)).toEqual(ok({ status: EVTCHNSTAT.closed, vcpu: 0 }));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, DOMID_SELF)).toEqual(ok(1));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 2)).toEqual(ok(2));
  });

  it('unused ports inside the first bucket are "closed"; beyond it they are -EINVAL', () => {
    const { xen, doms } = rig();
    const [a] = doms;
    expect(xen.evtchn.validCount(a.domid)).toBe(EVTCHNS_PER_BUCKET);
    expect(xen.evtchn.status(a, DOMID_SELF, EVTCHNS_PER_BUCKET - 1)).toEqual(ok({ status: EVTCHNSTAT.closed, vcpu: 0 }));
    expect(xen.evtchn.status(a, DOMID_SELF, EVTCHNS_PER_BUCKET)).toEqual(fail('EINVAL'));
    // close, send and bind_vcpu treat a free valid port as invalid; unmask accepts it (a no-op).
    expect(xen.evtchn.close(a, 5)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.send(a, 5)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.unmask(a, 5)).toEqual(ok(undefined));
    expect(xen.evtchn.unmask(a, EVTCHNS_PER_BUCKET)).toEqual(fail('EINVAL'));
  });

  it('allocating past a bucket adds the next one, and lowest-free reuses closed ports', () => {
    const { xen, doms } = rig();
    const [a] = doms;
    for (let p = 1; p < EVTCHNS_PER_BUCKET; p++) expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 0)).toEqual(ok(p));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 0)).toEqual(ok(EVTCHNS_PER_BUCKET));
    expect(xen.evtchn.validCount(a.domid)).toBe(2 * EVTCHNS_PER_BUCKET);
    expect(xen.evtchn.status(a, DOMID_SELF, 2 * EVTCHNS_PER_BUCKET - 1)).toEqual(ok({ status: EVTCHNSTAT.closed, vcpu: 0 }));
    expect(xen.evtchn.close(a, 7)).toEqual(ok(undefined));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 0)).toEqual(ok(7));
  });

  it('a dom0less domU runs out at port 1023 (-ENOSPC), and reset frees everything', () => {
    const { xen, doms } = rig();
    const [a] = doms;
    expect(xen.evtchn.maxEvtchnPort(a.domid)).toBe(1023);
    for (let p = 1; p <= 1023; p++) expect(xen.evtchn.bindIpi(a, 0)).toEqual(ok(p));
    expect(xen.evtchn.bindIpi(a, 0)).toEqual(fail('ENOSPC'));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 0)).toEqual(fail('ENOSPC'));
    expect(xen.evtchn.reset(a, DOMID_SELF, false)).toEqual(ok(undefined));
    expect(xen.evtchn.channels(a.domid).map((c) => c.port)).toEqual([0]);
    expect(xen.evtchn.bindIpi(a, 0)).toEqual(ok(1));
  });

  it('a custom limit is honoured exactly', () => {
    const r = rig({ domains: 0 });
    const d = makeDomain(9);
    r.hv.addDomain(d);
    r.xen.createDomainState(d, { maxEvtchnPort: 3 });
    expect(r.xen.evtchn.bindIpi(d, 0)).toEqual(ok(1));
    expect(r.xen.evtchn.bindIpi(d, 0)).toEqual(ok(2));
    expect(r.xen.evtchn.bindIpi(d, 0)).toEqual(ok(3));
    expect(r.xen.evtchn.bindIpi(d, 0)).toEqual(fail('ENOSPC'));
  });

  it('a dying domain cannot allocate (-EINVAL)', () => {
    const { xen, doms } = rig();
    doms[0].dying = true;
    expect(xen.evtchn.bindIpi(doms[0], 0)).toEqual(fail('EINVAL'));
  });
});

describe('event channels: interdomain', () => {
  it('alloc_unbound + bind_interdomain connects both ends and raises the binder', () => {
    const { xen, doms } = rig();
    const [a, b] = doms;
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid)).toEqual(ok(1));
    expect(xen.evtchn.status(a, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.unbound, vcpu: 0, dom: b.domid }));
    expect(xen.evtchn.bindInterdomain(b, a.domid, 1)).toEqual(ok(1));
    expect(xen.evtchn.status(a, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.interdomain, vcpu: 0, dom: b.domid, port: 1 }));
    expect(xen.evtchn.status(b, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.interdomain, vcpu: 0, dom: a.domid, port: 1 }));
    expect(xen.evtchn.isPending(b.domid, 1)).toBe(true);
    expect(xen.evtchn.isPending(a.domid, 1)).toBe(false);
  });

  it('bind_interdomain checks domain, then local space, then the remote port', () => {
    const { xen, doms } = rig();
    const [a, b] = doms;
    expect(xen.evtchn.bindInterdomain(b, 77, 1)).toEqual(fail('ESRCH'));
    expect(xen.evtchn.bindInterdomain(b, a.domid, 1)).toEqual(fail('EINVAL')); // free port
    expect(xen.evtchn.bindInterdomain(b, a.domid, 999)).toEqual(fail('EINVAL')); // invalid port
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 3)).toEqual(ok(1)); // for someone else
    expect(xen.evtchn.bindInterdomain(b, a.domid, 1)).toEqual(fail('EINVAL'));
    // A failed bind leaves no trace in the binder.
    expect(xen.evtchn.channels(b.domid).map((c) => c.port)).toEqual([0]);
  });

  it('loopback: a domain binds to its own unbound port with DOMID_SELF', () => {
    const { xen, doms } = rig();
    const [a] = doms;
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, DOMID_SELF)).toEqual(ok(1));
    expect(xen.evtchn.bindInterdomain(a, DOMID_SELF, 1)).toEqual(ok(2));
    expect(xen.evtchn.send(a, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.isPending(a.domid, 2)).toBe(true);
  });

  it('close sends the peer back to unbound, naming the closer as its remote', () => {
    const { xen, doms } = rig();
    const [a, b] = doms;
    xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid);
    xen.evtchn.bindInterdomain(b, a.domid, 1);
    expect(xen.evtchn.isPending(b.domid, 1)).toBe(true);
    expect(xen.evtchn.close(b, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.status(a, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.unbound, vcpu: 0, dom: b.domid }));
    expect(xen.evtchn.status(b, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.closed, vcpu: 0 }));
    // Freed ports lose their pending bit.
    expect(xen.evtchn.isPending(b.domid, 1)).toBe(false);
    // The now-unbound end may be bound again by the same peer.
    expect(xen.evtchn.bindInterdomain(b, a.domid, 1)).toEqual(ok(1));
    expect(xen.evtchn.close(b, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.close(b, 1)).toEqual(fail('EINVAL'));
  });

  it('send: interdomain marks the peer, ipi the bound vCPU, unbound drops silently, virq/free fail', () => {
    const { xen, doms } = rig({ vcpus: 2 });
    const [a, b] = doms;
    xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid); // a:1 unbound
    expect(xen.evtchn.send(a, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.isPending(a.domid, 1)).toBe(false);
    xen.evtchn.bindInterdomain(b, a.domid, 1); // b:1
    xen.evtchn.close(b, 1);
    xen.evtchn.bindInterdomain(b, a.domid, 1); // again, and clear b's self-raise below
    const ipi = xen.evtchn.bindIpi(a, 1);
    expect(ipi).toEqual(ok(2));
    expect(xen.evtchn.send(a, 2)).toEqual(ok(undefined));
    expect(xen.evtchn.isPending(a.domid, 2)).toBe(true);
    expect(xen.evtchn.send(a, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.isPending(b.domid, 1)).toBe(true);
    const v = xen.evtchn.bindVirq(a, VIRQ.DEBUG, 0);
    expect(v).toEqual(ok(3));
    expect(xen.evtchn.send(a, 3)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.send(a, 0)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.send(a, 10)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.send(a, 100000)).toEqual(fail('EINVAL'));
  });
});

describe('event channels: virq, ipi, bind_vcpu, pirq', () => {
  it('bind_virq: range, global-on-vcpu0, vcpu existence, then -EEXIST', () => {
    const { xen, doms } = rig({ vcpus: 2 });
    const [a] = doms;
    expect(xen.evtchn.bindVirq(a, 24, 0)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.bindVirq(a, 0xffffffff, 0)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.bindVirq(a, VIRQ.CONSOLE, 1)).toEqual(fail('EINVAL')); // global, not vCPU 0
    expect(xen.evtchn.bindVirq(a, VIRQ.CONSOLE, 5)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.bindVirq(a, VIRQ.TIMER, 5)).toEqual(fail('ENOENT')); // per-vCPU, no such vCPU
    expect(xen.evtchn.bindVirq(a, VIRQ.TIMER, 1)).toEqual(ok(1));
    expect(xen.evtchn.bindVirq(a, VIRQ.TIMER, 0)).toEqual(ok(2));
    expect(xen.evtchn.bindVirq(a, VIRQ.TIMER, 1)).toEqual(fail('EEXIST'));
    expect(xen.evtchn.bindVirq(a, VIRQ.ARCH_0, 0)).toEqual(ok(3));
    expect(xen.evtchn.status(a, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.virq, vcpu: 1, virq: VIRQ.TIMER }));
    // Closing frees the VIRQ for binding again.
    expect(xen.evtchn.close(a, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.bindVirq(a, VIRQ.TIMER, 1)).toEqual(ok(1));
  });

  it('sendVirq delivers to the bound port, per-vCPU or global', () => {
    const { xen, doms } = rig({ vcpus: 2 });
    const [a] = doms;
    expect(xen.evtchn.sendVirq(a, 1, VIRQ.TIMER)).toBe(false);
    xen.evtchn.bindVirq(a, VIRQ.TIMER, 1);
    xen.evtchn.bindVirq(a, VIRQ.CONSOLE, 0);
    expect(xen.evtchn.sendVirq(a, 1, VIRQ.TIMER)).toBe(true);
    expect(xen.evtchn.isPending(a.domid, 1)).toBe(true);
    expect(xen.evtchn.sendVirq(a, 0, VIRQ.CONSOLE)).toBe(true);
    expect(xen.evtchn.isPending(a.domid, 2)).toBe(true);
  });

  it('bind_ipi checks the vCPU; bind_vcpu moves only unbound, interdomain and global VIRQs', () => {
    const { xen, doms } = rig({ vcpus: 2 });
    const [a] = doms;
    expect(xen.evtchn.bindIpi(a, 2)).toEqual(fail('ENOENT'));
    expect(xen.evtchn.bindIpi(a, 1)).toEqual(ok(1));
    expect(xen.evtchn.bindVcpu(a, 1, 0)).toEqual(fail('EINVAL')); // ipi
    expect(xen.evtchn.bindVcpu(a, 1, 9)).toEqual(fail('ENOENT')); // vCPU checked first
    xen.evtchn.allocUnbound(a, DOMID_SELF, 2);
    expect(xen.evtchn.bindVcpu(a, 2, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.status(a, DOMID_SELF, 2)).toEqual(ok({ status: EVTCHNSTAT.unbound, vcpu: 1, dom: 2 }));
    xen.evtchn.bindVirq(a, VIRQ.TIMER, 0);
    expect(xen.evtchn.bindVcpu(a, 3, 1)).toEqual(fail('EINVAL')); // per-vCPU VIRQ
    xen.evtchn.bindVirq(a, VIRQ.CONSOLE, 0);
    expect(xen.evtchn.bindVcpu(a, 4, 1)).toEqual(ok(undefined));
    expect(xen.evtchn.bindVcpu(a, 60, 1)).toEqual(fail('EINVAL')); // free
    expect(xen.evtchn.bindVcpu(a, 64, 1)).toEqual(fail('EINVAL')); // invalid
    // A freed channel returns to vCPU 0.
    xen.evtchn.close(a, 2);
    expect(xen.evtchn.status(a, DOMID_SELF, 2)).toEqual(ok({ status: EVTCHNSTAT.closed, vcpu: 0 }));
  });

  it('bind_pirq: out of range -EINVAL, in range -ENOMEM (Arm has no pirqs)', () => {
    const { xen, doms } = rig();
    // nr_pirqs of a dom0less domU is 1024 under the real Xen 4.17 (binary search in the golden).
    expect(xen.evtchn.bindPirq(doms[0], 1024)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.bindPirq(doms[0], 1023)).toEqual(fail('ENOMEM'));
    expect(xen.evtchn.bindPirq(doms[0], 1056)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.bindPirq(doms[0], 0x80000000)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.bindPirq(doms[0], 0)).toEqual(fail('ENOMEM'));
    expect(xen.evtchn.channels(doms[0].domid).length).toBe(1);
  });

  it('set_priority: -EINVAL on an invalid port, -ENOSYS otherwise (2-level)', () => {
    const { xen, doms } = rig();
    expect(xen.evtchn.setPriority(doms[0], 64, 1)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.setPriority(doms[0], 1, 1)).toEqual(fail('ENOSYS'));
  });
});

describe('event channels: privilege and XSM', () => {
  it('dummy: a domU may not allocate in, ask about, or reset another domain', () => {
    const { xen, doms } = rig();
    const [a, b] = doms;
    expect(xen.evtchn.allocUnbound(a, 99, DOMID_SELF)).toEqual(fail('ESRCH'));
    expect(xen.evtchn.allocUnbound(a, b.domid, DOMID_SELF)).toEqual(fail('EPERM'));
    xen.evtchn.allocUnbound(b, DOMID_SELF, a.domid);
    expect(xen.evtchn.status(a, b.domid, 1)).toEqual(fail('EPERM'));
    // Port validity is checked before XSM.
    expect(xen.evtchn.status(a, b.domid, 5000)).toEqual(fail('EINVAL'));
    expect(xen.evtchn.reset(a, b.domid, false)).toEqual(fail('EPERM'));
    expect(xen.evtchn.reset(a, 99, false)).toEqual(fail('ESRCH'));
  });

  it('dummy: alloc_unbound for a remote domain that does not exist is allowed', () => {
    const { xen, doms } = rig();
    expect(xen.evtchn.allocUnbound(doms[0], DOMID_SELF, 1234)).toEqual(ok(1));
  });

  it('silo: domU<->domU is -EPERM at alloc_unbound; a missing remote is -ESRCH; self is fine', () => {
    const { xen, doms } = rig({ xsm: 'silo' });
    const [a, b] = doms;
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid)).toEqual(fail('EPERM'));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, 1234)).toEqual(fail('ESRCH'));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, DOMID_SELF)).toEqual(ok(1));
    expect(xen.evtchn.allocUnbound(a, DOMID_SELF, a.domid)).toEqual(ok(2));
    expect(xen.evtchn.bindInterdomain(a, DOMID_SELF, 1)).toEqual(ok(3));
    // Nothing in b can be unbound for a, so the port check fails before XSM.
    expect(xen.evtchn.bindInterdomain(a, b.domid, 1)).toEqual(fail('EINVAL'));
  });

  it('silo: bind_interdomain to another domU is -EPERM when the remote port is open for us', () => {
    const s = rig({ xsm: 'silo' });
    const [sa, sb] = s.doms;
    // Only a privileged domain can open sa's port for sb under SILO.
    const d0 = makeDomain(0, { privileged: true });
    s.hv.addDomain(d0);
    expect(s.xen.evtchn.allocUnbound(d0, sa.domid, sb.domid)).toEqual(ok(1));
    expect(s.xen.evtchn.bindInterdomain(sb, sa.domid, 1)).toEqual(fail('EPERM'));
    // The denied bind took nothing in sb.
    expect(s.xen.evtchn.channels(sb.domid).map((c) => c.port)).toEqual([0]);
  });

  it('reset of another domain by a privileged caller needs it paused (-EINVAL here)', () => {
    const { xen, doms, hv } = rig();
    const d0 = makeDomain(0, { privileged: true });
    hv.addDomain(d0);
    expect(xen.evtchn.reset(d0, doms[0].domid, false)).toEqual(fail('EINVAL'));
  });

  it('reset_cont with no reset in progress is -EBUSY', () => {
    const { xen, doms } = rig();
    expect(xen.evtchn.reset(doms[0], DOMID_SELF, true)).toEqual(fail('EBUSY'));
  });

  it('reset closes interdomain channels properly on both sides', () => {
    const { xen, doms } = rig();
    const [a, b] = doms;
    xen.evtchn.allocUnbound(a, DOMID_SELF, b.domid);
    xen.evtchn.bindInterdomain(b, a.domid, 1);
    expect(xen.evtchn.reset(a, DOMID_SELF, false)).toEqual(ok(undefined));
    expect(xen.evtchn.status(b, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.unbound, vcpu: 0, dom: a.domid }));
    expect(xen.evtchn.status(a, DOMID_SELF, 1)).toEqual(ok({ status: EVTCHNSTAT.closed, vcpu: 0 }));
  });
});
