// The vGIC observer adapter the machine installs when tracing.
import { describe, expect, it } from 'vitest';
import { createGic } from '../../src/gic/index.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import type { TraceEvent } from '../../src/trace/events.ts';
import { gicTraceObserver } from '../../src/trace/gic.ts';
import { formatEvent } from '../../src/trace/text.ts';

describe('gicTraceObserver', () => {
  it('turns vGIC events into irq trace events of the domain, with their INTID', () => {
    const events: TraceEvent[] = [];
    const bus = new TraceBus();
    bus.attach((e) => events.push(e));
    const gic = createGic({ version: 2, nrVcpus: 1 });
    gic.observer = gicTraceObserver(bus, 3);
    gic.pulse(0, 31);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'irq', domid: 3, vcpu: 0, intid: 31, change: 'raise' });
    expect(formatEvent(events[0])).toBe('[         0] d3v0 irq 31 raise');
  });
});
