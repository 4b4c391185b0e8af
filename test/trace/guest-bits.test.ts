// The bits a guest changes itself in shared_info appear in the trace, in the order the guest
// made them, and the hypervisor's own changes are never attributed to the guest.
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import type { TraceEvent } from '../../src/trace/events.ts';
import { image } from '../helpers/firmware.ts';

describe('guest-side shared_info changes', () => {
  it('show the upcall handler clearing upcall_pending, then the selector, then the port, between ack and EOI', async () => {
    const events: TraceEvent[] = [];
    const trace = new TraceBus();
    trace.attach((e) => events.push(e));
    const r = await runImages({ images: [image('xenvm-gicv2', 'demo-offer'), image('xenvm-gicv2', 'demo-bind')], trace });
    expect(r.exitCode).toBe(0);
    const d2 = events.filter((e) => e.domid === 2 && (e.kind === 'evtchn' || e.kind === 'irq'));
    const label = (e: TraceEvent) => (e.kind === 'irq' ? `irq ${e.intid} ${e.change}` : e.kind === 'evtchn' ? `port ${e.port} ${e.change}` : '');
    const acks = d2.flatMap((e, i) => (e.kind === 'irq' && e.change === 'ack' && e.intid === 31 ? [i] : []));
    expect(acks.length).toBeGreaterThanOrEqual(6);
    for (const i of acks) {
      const eoi = d2.findIndex((e, j) => j > i && e.kind === 'irq' && e.change === 'eoi');
      const between = d2.slice(i + 1, eoi).map(label).filter((l) => l.includes('guest_'));
      expect(between).toEqual(['port 0 guest_clear_upcall_pending', 'port 0 guest_clear_selector', 'port 1 guest_clear_pending']);
    }
    // Every pending bit the guest saw appear was set by the hypervisor, never reported as the guest's.
    expect(events.some((e) => e.kind === 'evtchn' && e.change === 'guest_set_pending')).toBe(false);
  });
});
