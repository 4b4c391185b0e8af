import type { TraceEvent, TraceEventBody } from './events.ts';
import type { VTime } from '../machine/vtime.ts';

export type TraceSink = (e: TraceEvent) => void;

/**
 * Fan-out of trace events to sinks. Producers test `bus.on` before building an event,
 * so a run with no sink pays one property read per would-be event and nothing else.
 */
export class TraceBus {
  private sinks: TraceSink[] = [];
  private seq = 0;
  /** True when at least one sink listens. */
  on = false;
  /** Virtual-time source (guest instructions retired so far, exact: a bigint past 2^53); set by the machine. */
  clock: () => VTime = () => 0;

  attach(sink: TraceSink): void {
    this.sinks.push(sink);
    this.on = true;
  }

  emit(body: TraceEventBody): void {
    if (!this.on) return;
    const e = { ...body, seq: this.seq++, time: this.clock() } as TraceEvent;
    for (const s of this.sinks) s(e);
  }
}
