/**
 * The vGIC's observer (src/gic/types.ts GicEvents) as trace events, for the machine to install
 * on each domain's vGIC when the trace is on: `gic.observer = gicTraceObserver(bus, domid)`.
 * Raise, lower, ack, EOI (priority drop), deactivate and spurious reads carry their INTID.
 */
import type { GicEvent } from '../gic/types.ts';
import type { TraceBus } from './bus.ts';

export function gicTraceObserver(bus: TraceBus, domid: number): (e: GicEvent) => void {
  return (e) => {
    if (bus.on) bus.emit({ kind: 'irq', domid, vcpu: e.vcpu, intid: e.intid, change: e.change });
  };
}
