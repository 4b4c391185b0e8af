import { describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR, RunMonitor } from '../../src/oracle/monitor.ts';

const BOOT =
  "(XEN) *** Serial input to DOM0 (type 'CTRL-a' three times to switch input)\r\n" +
  '(XEN) Freed 348kB init memory.\r\n';

function monitor(domUs: number, dom0 = false) {
  return new RunMonitor({ ...DEFAULT_MONITOR, quietMs: 100, maxProbeMs: 400, settleMs: 50, domUs, dom0 });
}

describe('RunMonitor', () => {
  it('ends once every domain printed its result and the console settled', () => {
    const m = monitor(2);
    m.feed(BOOT, 0);
    m.feed('(XEN) DOM2: Test result: SUCCESS\r\n', 10);
    expect(m.done(100)).toBe(false);
    m.feed('(XEN) DOM1: a\r\n(XEN) DOM1: Test result: SUCCESS\r\n', 20);
    expect(m.done(60)).toBe(false);
    expect(m.done(70)).toBe(true);
    expect(m.finalLines()).toEqual(['d2: Test result: SUCCESS', 'd1: a', 'd1: Test result: SUCCESS']);
    expect(m.ended()).toBe('all-results');
  });

  it('with an idle dom0 (dom0Idle), ends when the domUs are done, whatever dom0 does', () => {
    const idle = new RunMonitor({ ...DEFAULT_MONITOR, quietMs: 100, maxProbeMs: 400, settleMs: 50, domUs: 1, dom0: true, dom0Idle: true });
    const waiting = monitor(1, true);
    for (const m of [idle, waiting]) {
      m.feed(BOOT, 0);
      m.feed('(XEN) DOM1: Test result: SUCCESS\r\n', 10);
    }
    expect(idle.done(100)).toBe(true);
    expect(idle.unfinished()).toEqual([]);
    expect(waiting.done(100)).toBe(false);
    expect(waiting.unfinished()).toEqual([0]);
  });

  it('does not probe before Xen has finished booting', () => {
    const m = monitor(1);
    expect(m.tick(10_000)).toBe('');
  });

  it('switches serial input to Xen past every domU, presses q, and reads the shutdown', () => {
    const m = monitor(2);
    m.feed(BOOT, 0);
    m.feed('(XEN) DOM1: hi\r\n', 5);
    expect(m.tick(50)).toBe('');
    // DOM0 -> DOM1 -> DOM2 -> Xen: three steps of three Ctrl-A, then the key.
    expect(m.tick(105)).toBe('\x01'.repeat(9) + 'q');
    m.feed(
      "(XEN) *** Serial input to Xen (type 'CTRL-a' three times to switch input)\r\n" +
        "(XEN) 'q' pressed -> dumping domain info (now = 1)\r\n" +
        '(XEN) VCPU information and callbacks for domain 1:\r\n' +
        '(XEN)     pause_count=1 pause_flags=0\r\n' +
        '(XEN) VCPU information and callbacks for domain 2:\r\n' +
        '(XEN)     pause_count=0 pause_flags=1\r\n' +
        '(XEN) Notifying guest 1:0 (virq 1, port 0)\r\n',
      110,
    );
    expect(m.unfinished()).toEqual([2]);
    // Input is with Xen now: later probes are a bare 'q', after a doubled quiet time.
    expect(m.tick(250)).toBe('');
    expect(m.tick(310)).toBe('q');
    m.feed('(XEN) DOM2: Test result: FAIL\r\n', 320);
    expect(m.done(400)).toBe(true);
    expect(m.ended()).toBe('mixed');
  });

  it('reports a Xen panic as fatal', () => {
    const m = monitor(1);
    m.feed('(XEN) ****************************************\r\n(XEN) Panic on CPU 0:\r\n', 0);
    expect(m.fatal).toMatch(/Panic on CPU 0/);
  });

  it('takes unprefixed console lines as dom0 output and its halt as its end', () => {
    const m = monitor(0, true);
    m.feed(BOOT + 'via console_io\r\n(XEN) Hardware Dom0 halted: halting machine\r\n', 0);
    expect(m.finalLines()).toEqual(['d0: via console_io']);
    expect(m.hwdomShutdown).toBe('Hardware Dom0 halted: halting machine');
    expect(m.done(100)).toBe(true);
    expect(m.ended()).toBe('all-shutdown');
  });
});
