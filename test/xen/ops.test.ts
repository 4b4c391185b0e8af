import { describe, expect, it } from 'vitest';
import { DOMID_SELF, Hypercall } from '../../src/xen/abi.ts';
import { Errno } from '../../src/xen/errno.ts';
import { ARG, RAM_BASE, RAM_SIZE, SHINFO, makeDomain, rig } from './helpers.ts';
import { CONSOLE_WRITE_STEP } from '../../src/xen/ops/console-io.ts';

const BAD = RAM_BASE + RAM_SIZE - 1;

describe('memory_op', () => {
  const xatp = (m: import('../../src/mem/guest-memory.ts').GuestMemory, domid: number, space: number, idx: bigint, gpfn: bigint, size = 0) => {
    m.writeU16(ARG, domid);
    m.writeU16(ARG + 2, size);
    m.writeU32(ARG + 4, space);
    m.writeU64(ARG + 8, idx);
    m.writeU64(ARG + 16, gpfn);
  };
  const gpfn = BigInt(SHINFO >>> 12);

  it('add_to_physmap errors in Xen\'s order', () => {
    const r = rig();
    const m = r.doms[0].memory;
    expect(r.call(0, Hypercall.memory_op, 7, BAD)).toBe(-Errno.EFAULT);
    expect(r.call(0, Hypercall.memory_op, 7 | (0x10000 << 6), ARG)).toBe(-Errno.EDOM);
    xatp(m, DOMID_SELF, 4, 0n, gpfn); // gmfn_foreign
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.ENOSYS);
    xatp(m, 77, 0, 0n, gpfn);
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.ESRCH);
    xatp(m, DOMID_SELF, 5, 0n, gpfn); // dev_mmio from a domU
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.EACCES);
    xatp(m, 2, 0, 0n, gpfn); // another domain
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.EPERM);
    xatp(m, DOMID_SELF, 0, 1n, gpfn); // shared_info has only idx 0
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.EINVAL);
    xatp(m, DOMID_SELF, 2, 0n, gpfn); // gmfn: not on Arm
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.ENOSYS);
    xatp(m, DOMID_SELF, 3, 0n, gpfn, 0); // gmfn_range of 0 pages
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(0);
    xatp(m, DOMID_SELF, 3, 0n, gpfn, 1);
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.ENOSYS);
    xatp(m, DOMID_SELF, 99, 0n, gpfn);
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.ENOSYS);
    xatp(m, DOMID_SELF, 0, 0n, 0x10n); // outside RAM
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.EINVAL);
    xatp(m, DOMID_SELF, 0, 0n, gpfn);
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(0);
    expect(r.doms[0].sharedInfoGpa).toBe(SHINFO);
    expect(r.call(0, Hypercall.memory_op, 7, ARG)).toBe(-Errno.EBUSY);
  });

  it('a privileged domain may map another domain\'s shared_info', () => {
    const r = rig();
    const d0 = makeDomain(0, { privileged: true });
    r.hv.addDomain(d0);
    xatp(d0.memory, 1, 0, 0n, gpfn);
    expect(r.hv.hypercall(d0, d0.vcpus[0], Hypercall.memory_op, [7n, BigInt(ARG)], 0).value).toBe(0);
    expect(r.doms[0].sharedInfoGpa).toBe(SHINFO);
  });

  it('remove_from_physmap: continuation -EINVAL, fault, unknown gpfn -ENOENT', () => {
    const r = rig();
    const m = r.doms[0].memory;
    expect(r.call(0, Hypercall.memory_op, 15 | (1 << 6), ARG)).toBe(-Errno.EINVAL);
    expect(r.call(0, Hypercall.memory_op, 15, BAD)).toBe(-Errno.EFAULT);
    m.writeU16(ARG, DOMID_SELF);
    m.writeU64(ARG + 8, 0x10n);
    expect(r.call(0, Hypercall.memory_op, 15, ARG)).toBe(-Errno.ENOENT);
  });

  it('other sub-ops are -ENOSYS', () => {
    const r = rig();
    for (const op of [0, 1, 2, 3, 4, 6, 14, 23, 40]) expect(r.call(0, Hypercall.memory_op, op, ARG)).toBe(-Errno.ENOSYS);
  });
});

describe('sched_op', () => {
  it('yield and block return 0 with their outcome', () => {
    const r = rig();
    expect(r.call(0, Hypercall.sched_op, 0, 0)).toBe(0);
    expect(r.lastOutcome).toEqual({ kind: 'yield' });
    expect(r.call(0, Hypercall.sched_op, 1, 0)).toBe(0);
    expect(r.lastOutcome).toEqual({ kind: 'block' });
  });

  it('shutdown reads a u32 reason, uses its low byte, and keeps an earlier shutdown_code', () => {
    const r = rig();
    const m = r.doms[0].memory;
    expect(r.call(0, Hypercall.sched_op, 2, BAD)).toBe(-Errno.EFAULT);
    m.writeU32(ARG, 0x103); // (u8) -> 3 = crash
    expect(r.call(0, Hypercall.sched_op, 2, ARG)).toBe(0);
    expect(r.lastOutcome).toEqual({ kind: 'shutdown', reason: 'crash', code: 3 });

    const r2 = rig();
    const m2 = r2.doms[0].memory;
    m2.writeU32(ARG, 1);
    expect(r2.call(0, Hypercall.sched_op, 5, ARG)).toBe(0); // shutdown_code = reboot
    expect(r2.lastOutcome).toEqual({ kind: 'return' });
    m2.writeU32(ARG, 0);
    expect(r2.call(0, Hypercall.sched_op, 2, ARG)).toBe(0);
    expect(r2.lastOutcome).toEqual({ kind: 'shutdown', reason: 'reboot', code: 1 });
  });

  it('poll: limits, bad ports, an already pending port, then a sleep woken by a send', () => {
    const r = rig();
    const [a, b] = r.doms;
    const m = a.memory;
    const ports = ARG + 0x100;
    const poll = (nr: number, timeout = 0n) => {
      m.writeU64(ARG, BigInt(ports));
      m.writeU32(ARG + 8, nr);
      m.writeU64(ARG + 16, timeout);
      return r.call(0, Hypercall.sched_op, 3, ARG);
    };
    expect(r.call(0, Hypercall.sched_op, 3, BAD)).toBe(-Errno.EFAULT);
    expect(poll(129)).toBe(-Errno.EINVAL);
    m.writeU32(ports, 64);
    expect(poll(1)).toBe(-Errno.EINVAL);
    // Valid but not usable (free, or the reserved port 0): -EINVAL too, as under the real Xen.
    m.writeU32(ports, 60);
    expect(poll(1, 1n)).toBe(-Errno.EINVAL);
    m.writeU32(ports, 0);
    expect(poll(1, 1n)).toBe(-Errno.EINVAL);
    m.writeU64(ARG, BigInt(BAD));
    m.writeU32(ARG + 8, 1);
    expect(r.call(0, Hypercall.sched_op, 3, ARG)).toBe(-Errno.EFAULT);

    r.xen.evtchn.allocUnbound(b, DOMID_SELF, a.domid);
    r.xen.evtchn.bindInterdomain(a, b.domid, 1); // a:1 now pending (bind raises it)
    // upcall_pending is set, and by default that counts as deliverable: no sleep.
    m.writeU32(ports, 1);
    expect(poll(1)).toBe(0);
    expect(r.lastOutcome).toEqual({ kind: 'return' });

    // Acknowledge everything (shared_info is still Xen's page); then poll on port 1 sleeps until b sends.
    const pages = r.xen.evtchn.pages(a);
    const si = pages.sharedInfo();
    si.buf.fill(0, si.off, si.off + 4096);
    expect(poll(1, 123n)).toBe(0);
    expect(r.lastOutcome).toEqual({ kind: 'poll', ports: [1], timeoutNs: 123n });
    expect(r.xen.pollSatisfied(a.domid, 0)).toBe(false);
    expect(r.xen.evtchn.send(b, 1).ok).toBe(true);
    expect(r.xen.pollSatisfied(a.domid, 0)).toBe(true);
    r.xen.endPoll(a.domid, 0);
    expect(r.xen.pollSatisfied(a.domid, 0)).toBe(false);
  });

  it('poll on one port is not woken by another port; polling several ports wakes on any', () => {
    const r = rig();
    const [a] = r.doms;
    r.xen.evtchn.bindIpi(a, 0); // 1
    r.xen.evtchn.bindIpi(a, 0); // 2
    r.xen.evtchn.bindIpi(a, 0); // 3
    r.xen.evtchn.beginPoll(a, 0, 1);
    r.xen.evtchn.send(a, 2);
    expect(r.xen.pollSatisfied(a.domid, 0)).toBe(false);
    r.xen.evtchn.send(a, 1);
    expect(r.xen.pollSatisfied(a.domid, 0)).toBe(true);
    r.xen.endPoll(a.domid, 0);
    r.xen.evtchn.beginPoll(a, 0, -1);
    r.xen.evtchn.send(a, 3);
    expect(r.xen.pollSatisfied(a.domid, 0)).toBe(true);
  });

  it('remote_shutdown is privileged; unknown commands -ENOSYS; pin_override -EPERM', () => {
    const r = rig();
    const m = r.doms[0].memory;
    m.writeU16(ARG, 2);
    m.writeU32(ARG + 4, 0);
    expect(r.call(0, Hypercall.sched_op, 4, ARG)).toBe(-Errno.EPERM);
    m.writeU16(ARG, 1); // even itself
    expect(r.call(0, Hypercall.sched_op, 4, ARG)).toBe(-Errno.EPERM);
    m.writeU16(ARG, DOMID_SELF);
    expect(r.call(0, Hypercall.sched_op, 4, ARG)).toBe(-Errno.ESRCH);
    expect(r.call(0, Hypercall.sched_op, 7, ARG)).toBe(-Errno.EPERM);
    expect(r.call(0, Hypercall.sched_op, 42, ARG)).toBe(-Errno.ENOSYS);
  });
});

describe('xen_version', () => {
  it('version, extraversion, capabilities, features, pagesize, denied commandline', () => {
    const r = rig();
    const m = r.doms[0].memory;
    expect(r.call(0, Hypercall.xen_version, 0, 0)).toBe((4 << 16) | 17);
    expect(r.call(0, Hypercall.xen_version, 1, ARG)).toBe(0);
    // What the real Debian Xen 4.17 hands a domU (test/golden/evtchn-conformance.*).
    expect(m.readString(ARG, 16)).toBe('.7' + '\0'.repeat(14));
    expect(r.call(0, Hypercall.xen_version, 1, BAD)).toBe(-Errno.EFAULT);
    expect(r.call(0, Hypercall.xen_version, 3, ARG)).toBe(0);
    expect(m.readString(ARG, 31)).toBe('xen-3.0-aarch64 xen-3.0-armv7l ');
    m.writeU32(ARG, 0);
    expect(r.call(0, Hypercall.xen_version, 6, ARG)).toBe(0);
    // 0x16005 under the real Xen: XENFEAT_not_direct_mapped is bit 16.
    expect(m.readU32(ARG + 4)).toBe(0x16005);
    m.writeU32(ARG, 1);
    expect(r.call(0, Hypercall.xen_version, 6, ARG)).toBe(-Errno.EINVAL);
    expect(r.call(0, Hypercall.xen_version, 7, 0)).toBe(4096);
    expect(r.call(0, Hypercall.xen_version, 7, ARG)).toBe(-Errno.EINVAL);
    expect(r.call(0, Hypercall.xen_version, 9, ARG)).toBe(0);
    expect(m.readString(ARG, 9)).toBe('<denied>\0');
    expect(r.call(0, Hypercall.xen_version, 10, ARG)).toBe(-Errno.EPERM);
    expect(r.call(0, Hypercall.xen_version, 11, ARG)).toBe(-Errno.ENOSYS);
    m.write(ARG, new Uint8Array(16).fill(0xff));
    expect(r.call(0, Hypercall.xen_version, 8, ARG)).toBe(0);
    expect([...m.read(ARG, 16)!]).toEqual(new Array(16).fill(0));
  });
});

describe('hvm_op', () => {
  const param = (m: import('../../src/mem/guest-memory.ts').GuestMemory, domid: number, index: number, value = 0n) => {
    m.writeU16(ARG, domid);
    m.writeU32(ARG + 4, index);
    m.writeU64(ARG + 8, value);
  };

  it('get_param of the guest-visible params; others -EINVAL; set on oneself -EPERM', () => {
    const r = rig();
    const m = r.doms[0].memory;
    r.xen.createDomainState(r.doms[0]); // idempotent
    param(m, DOMID_SELF, 18, 0xaan);
    expect(r.call(0, Hypercall.hvm_op, 1, ARG)).toBe(0);
    expect(m.readU64(ARG + 8)).toBe(0n);
    param(m, DOMID_SELF, 39);
    expect(r.call(0, Hypercall.hvm_op, 1, ARG)).toBe(-Errno.EINVAL);
    param(m, 77, 0);
    expect(r.call(0, Hypercall.hvm_op, 1, ARG)).toBe(-Errno.ESRCH);
    // The domain is looked up before the index is range-checked (real Xen: dom=7 index=39 -ESRCH).
    param(m, 77, 39);
    expect(r.call(0, Hypercall.hvm_op, 1, ARG)).toBe(-Errno.ESRCH);
    param(m, 2, 0);
    expect(r.call(0, Hypercall.hvm_op, 1, ARG)).toBe(-Errno.EPERM);
    // XSM comes before the index range check (real Xen: another domU's index 39 is -EPERM).
    param(m, 2, 39);
    expect(r.call(0, Hypercall.hvm_op, 1, ARG)).toBe(-Errno.EPERM);
    param(m, DOMID_SELF, 3);
    expect(r.call(0, Hypercall.hvm_op, 1, ARG)).toBe(-Errno.EINVAL);
    param(m, DOMID_SELF, 0, 5n);
    expect(r.call(0, Hypercall.hvm_op, 0, ARG)).toBe(-Errno.EPERM);
    param(m, DOMID_SELF, 3, 5n);
    expect(r.call(0, Hypercall.hvm_op, 0, ARG)).toBe(-Errno.EINVAL);
    expect(r.call(0, Hypercall.hvm_op, 1, BAD)).toBe(-Errno.EFAULT);
    expect(r.call(0, Hypercall.hvm_op, 2, ARG)).toBe(-Errno.ENOSYS);
    expect(r.call(0, Hypercall.hvm_op, 24, 0)).toBe(0);
    expect(r.call(0, Hypercall.hvm_op, 24, ARG)).toBe(-Errno.EINVAL);
  });

  it('seeded params are returned', () => {
    const r = rig({ domains: 0 });
    const d = makeDomain(3);
    r.hv.addDomain(d);
    r.xen.createDomainState(d, { hvmParams: { 0: 0x0200_0000_0000_001fn } });
    param(d.memory, DOMID_SELF, 0);
    expect(r.hv.hypercall(d, d.vcpus[0], Hypercall.hvm_op, [1n, BigInt(ARG)], 0).value).toBe(0);
    expect(d.memory.readU64(ARG + 8)).toBe(0x0200_0000_0000_001fn);
  });
});

describe('vcpu_op', () => {
  const info = (m: import('../../src/mem/guest-memory.ts').GuestMemory, gfn: number, offset: number) => {
    m.writeU64(ARG, BigInt(gfn));
    m.writeU32(ARG + 8, offset);
    m.writeU32(ARG + 12, 0);
  };
  const gfn = (RAM_BASE + 0x4000) >>> 12;

  it('errors: vCPU -ENOENT first, then command -EINVAL, fault, offset/alignment -ENXIO, frame, online peer', () => {
    const r = rig({ vcpus: 2 });
    const m = r.doms[0].memory;
    info(m, gfn, 0);
    expect(r.call(0, Hypercall.vcpu_op, 99, 5, ARG)).toBe(-Errno.ENOENT);
    expect(r.call(0, Hypercall.vcpu_op, 0, 0, ARG)).toBe(-Errno.EINVAL); // VCPUOP_initialise: not on Arm
    expect(r.call(0, Hypercall.vcpu_op, 10, 0, BAD)).toBe(-Errno.EFAULT);
    // Offset past the page or misaligned: -ENXIO, as the real Xen 4.17 answers.
    info(m, gfn, 4096 - 47);
    expect(r.call(0, Hypercall.vcpu_op, 10, 0, ARG)).toBe(-Errno.ENXIO);
    info(m, gfn, 4);
    expect(r.call(0, Hypercall.vcpu_op, 10, 0, ARG)).toBe(-Errno.ENXIO);
    info(m, 0x10, 0);
    expect(r.call(0, Hypercall.vcpu_op, 10, 0, ARG)).toBe(-Errno.EINVAL);
    info(m, gfn, 4096 - 48);
    expect(r.call(0, Hypercall.vcpu_op, 10, 1, ARG)).toBe(-Errno.EINVAL); // vCPU 1 is up and not the caller
    r.doms[0].vcpus[1].online = false;
    expect(r.call(0, Hypercall.vcpu_op, 10, 1, ARG)).toBe(0);
    expect(r.doms[0].vcpus[1].vcpuInfoGpa).toBe(RAM_BASE + 0x4000 + 4096 - 48);
  });

  it('register_runstate_memory_area is accepted', () => {
    const r = rig();
    r.doms[0].memory.writeU64(ARG, 0x40010000n);
    expect(r.call(0, Hypercall.vcpu_op, 5, 0, ARG)).toBe(0);
  });
});

describe('console_io', () => {
  it('domU writes are line-buffered, non-printables dropped, returning 0', () => {
    const r = rig();
    const m = r.doms[0].memory;
    const put = (s: string) => {
      const b = new TextEncoder().encode(s);
      m.write(ARG, b);
      return r.call(0, Hypercall.console_io, 0, b.length, ARG);
    };
    expect(put('hel')).toBe(0);
    expect(r.console).toEqual([]);
    expect(put('lo\x07 world\nsecond\nthi')).toBe(0);
    expect(r.console).toEqual([
      { domid: 1, text: 'hello world\n' },
      { domid: 1, text: 'second\n' },
    ]);
    expect(r.call(0, Hypercall.console_io, 0, 10, BAD)).toBe(-Errno.EFAULT);
    expect(r.call(0, Hypercall.console_io, 1, 10, ARG)).toBe(0);
    expect(r.call(0, Hypercall.console_io, 7, 10, ARG)).toBe(-Errno.ENOSYS);
  });

  it('a line that would overflow the 200-byte buffer is flushed with the chunk that overflowed it', () => {
    const r = rig();
    const m = r.doms[0].memory;
    m.write(ARG, new Uint8Array(300).fill(0x61));
    expect(r.call(0, Hypercall.console_io, 0, 300, ARG)).toBe(0);
    // Xen copies 127 bytes at a time: 127 are buffered, the next 127 do not fit, so both go out.
    expect(r.console).toEqual([{ domid: 1, text: 'a'.repeat(254) + '\n' }]);
  });

  /** Calls console_io as the guest would, re-executing it while Xen continues it. */
  function writeToEnd(r: ReturnType<typeof rig>, count: number | bigint, buf: number) {
    let args: (number | bigint)[] = [0, count, buf];
    const steps: bigint[][] = [];
    for (;;) {
      const v = r.call(0, Hypercall.console_io, ...args);
      const o = r.lastOutcome;
      if (o?.kind !== 'continuation') return { value: v, steps };
      steps.push(o.args);
      args = o.args;
    }
  }

  it('a long write is continued in bounded steps, with what is left and where (Xen\'s continuation)', () => {
    const r = rig();
    const m = r.doms[0].memory;
    const text = 'x'.repeat(99) + '\n';
    const total = 3 * CONSOLE_WRITE_STEP + 500;
    m.write(ARG, new TextEncoder().encode(text.repeat(Math.ceil(total / 100)).slice(0, total)));
    const { value, steps } = writeToEnd(r, total, ARG);
    expect(value).toBe(0);
    // Each step starts where the last one stopped; x0 stays CONSOLEIO_write.
    expect(steps.length).toBe(3);
    let from = ARG;
    for (const s of steps) {
      expect(s[0]).toBe(0n);
      expect(Number(s[2]) - ARG + Number(s[1])).toBe(total);
      // One step copies at least the step's worth, and less than one more 127-byte round.
      expect(Number(s[2]) - from).toBeGreaterThanOrEqual(CONSOLE_WRITE_STEP);
      expect(Number(s[2]) - from).toBeLessThan(CONSOLE_WRITE_STEP + 127);
      from = Number(s[2]);
    }
    // Nothing is lost or repeated across the steps.
    expect(r.console.map((c) => c.text).join('')).toBe(text.repeat(Math.floor(total / 100)));
  });

  it('count 0xffffffff runs off the end of RAM in bounded steps and answers -EFAULT', () => {
    const r = rig();
    const { value, steps } = writeToEnd(r, 0xffffffff, RAM_BASE + RAM_SIZE - 3 * CONSOLE_WRITE_STEP);
    expect(value).toBe(-Errno.EFAULT);
    expect(steps.length).toBe(2);
  });

  it('a domain that is not a console gets -EPERM', () => {
    const r = rig({ domains: 0 });
    const d = makeDomain(4);
    r.hv.addDomain(d);
    r.xen.createDomainState(d, { isConsole: false });
    expect(r.hv.hypercall(d, d.vcpus[0], Hypercall.console_io, [0n, 1n, BigInt(ARG)], 0).value).toBe(-Errno.EPERM);
  });
});
