/**
 * The trace: one typed stream of facts, emitted by the layer that owns each fact.
 * Sinks (text, JSONL, Perfetto, summary) render it; nothing upstream formats strings for them.
 *
 * Every event carries `seq` (order across all domains, from 0, no gaps in a complete trace) and
 * `time` (virtual time in guest instructions retired by every vCPU together, plus idle time the
 * scheduler skipped, at the moment of the event; exact, so a bigint once a far deadline has
 * moved it past 2^53), both filled by the bus. Events caused by one
 * guest instruction share its `time`; `seq` orders them. A hypercall's own event comes *after*
 * the events its handler caused (the handler runs first, then the result is known).
 *
 * Field names are part of the JSONL format (docs/trace.md): change them only with the docs.
 */
import type { VTime } from '../machine/vtime.ts';

export type FieldValue = number | bigint | string | boolean | FieldValue[] | { [k: string]: FieldValue };
export type Fields = Record<string, FieldValue>;

interface Stamp {
  seq: number;
  /** Exact: a number while it is a safe integer, a bigint beyond 2^53 (src/machine/vtime.ts). */
  time: VTime;
}

/**
 * What happened to an interrupt.
 * - GIC events, `intid` >= 0 (the vGIC's observer, src/gic/types.ts GicEventKind):
 *   `raise` became pending, `lower` stopped being pending without an acknowledge,
 *   `ack` IAR returned it (pending -> active), `eoi` priority drop (EOIR),
 *   `deactivate` active state cleared (DIR, or EOIR when EOImode is 0), `spurious` IAR read 1023.
 * - The vCPU's IRQ output (the line the vGIC drives, `intid` -1): `line_up`, `line_down`.
 *   Older producers wrote `raise`/`deactivate` with intid -1 for these; `irqRole()` maps them.
 * - The CPU: `taken` exception entry through VBAR_EL1+0x280, `return` the ERET that leaves it
 *   (`intid` -1 when the CPU cannot know which interrupt).
 */
export type IrqChange = 'raise' | 'lower' | 'ack' | 'eoi' | 'deactivate' | 'spurious' | 'line_up' | 'line_down' | 'taken' | 'return';

/**
 * Scheduler facts about a vCPU: `wfi` it executed WFI and waits for an interrupt; `block` it
 * sleeps in SCHEDOP_block or SCHEDOP_poll; `wake` it is runnable again; `yield` SCHEDOP_yield;
 * `switch` the machine starts running it (domain switch).
 */
export type SchedChange = 'block' | 'wake' | 'yield' | 'switch' | 'wfi' | 'up' | 'down';

export type HypercallEvent = {
  kind: 'hypercall';
  domid: number;
  vcpu: number;
  /** Address of the HVC instruction (a bigint above 2^53: a kernel's virtual addresses). */
  pc: number | bigint;
  /** e.g. "event_channel_op" */
  name: string;
  /** e.g. "EVTCHNOP_send" for multiplexed calls */
  op?: string;
  /** decoded argument (struct fields by name) */
  args: Fields;
  /** decoded outputs written back to the guest, if any */
  out?: Fields;
  /** x0 on return, signed */
  result: number;
  /** "-EINVAL", or "" on success */
  errno: string;
  /** "function+0xoff" from the image's ELF symbols, when it has them */
  symbol?: string;
};

/**
 * Event-channel facts, owned by the event-channel model (src/xen/evtchn). `change` names
 * (docs/trace.md lists them): alloc_unbound, bind_interdomain, bind_virq, bind_ipi, bind_vcpu,
 * close, peer_closed, reset, upcall (port 0: evtchn_upcall_pending went 0->1 on `fields.vcpu`),
 * set_pending (the port's pending bit was set; `fields.from_dom`/`from_port` name the sender).
 */
export type EvtchnEvent = { kind: 'evtchn'; domid: number; port: number; change: string; fields?: Fields };

/** `pc`: for `taken`, the interrupted instruction (where the handler will return); for `return`, where it resumed. */
export type IrqEvent = { kind: 'irq'; domid: number; vcpu: number; intid: number; change: IrqChange; pc?: number | bigint };

export type TraceEvent = Stamp &
  (
    | HypercallEvent
    | { kind: 'console'; domid: number; text: string; via: 'pl011' | 'console_io' }
    | { kind: 'domain_start'; domid: number; name: string; entry: number; dtb: number }
    | { kind: 'domain_end'; domid: number; reason: string; detail?: string }
    | { kind: 'fault'; domid: number; vcpu: number; pc: number | bigint; what: string; address?: number | bigint; syndrome?: number }
    | EvtchnEvent
    | IrqEvent
    | { kind: 'sched'; domid: number; vcpu: number; change: SchedChange }
    | TimerTraceEvent
    | CheckEvent
  );

/**
 * A protocol-checker report (src/check, `run --check`): the guest broke `rule` (docs/check.md)
 * at `pc` (its call site, for a hypercall through a stub), on `port` when one is involved.
 */
export type CheckEvent = { kind: 'check'; domid: number; vcpu: number; pc: number | bigint; symbol?: string; source?: string; port?: number; rule: string; message: string };

/**
 * The vCPU's generic timers (src/xen/vtimer.ts): `set` after every CTL/CVAL/TVAL write, with
 * the control bits (ENABLE 1, IMASK 2, ISTATUS 4) and the compare value in ticks (a decimal
 * string: it is 64-bit); `fire` when the timer's PPI is injected.
 */
export type TimerTraceEvent =
  | { kind: 'timer'; domid: number; vcpu: number; timer: 'virt' | 'phys'; change: 'set'; ctl: number; cval: string }
  | { kind: 'timer'; domid: number; vcpu: number; timer: 'virt' | 'phys'; change: 'fire'; intid: number };

export type TraceKind = TraceEvent['kind'];

export const TRACE_KINDS: readonly TraceKind[] = ['hypercall', 'console', 'domain_start', 'domain_end', 'fault', 'evtchn', 'irq', 'sched', 'timer', 'check'];

/** The part a producer supplies; the bus adds seq and time. */
export type TraceEventBody = TraceEvent extends infer E ? (E extends TraceEvent ? Omit<E, 'seq' | 'time'> : never) : never;

/** An irq event's meaning with the old line encoding (`raise`/`deactivate`, intid -1) normalised. */
export function irqRole(e: { intid: number; change: IrqChange }): IrqChange {
  if (e.intid < 0) {
    if (e.change === 'raise') return 'line_up';
    if (e.change === 'deactivate' || e.change === 'lower') return 'line_down';
  }
  return e.change;
}

/** The vCPU an event belongs to; domain-wide events (console, evtchn, domain_*) count as vCPU 0,
 *  except an upcall, which names its vCPU. */
export function vcpuOf(e: TraceEvent): number {
  if ('vcpu' in e) return e.vcpu;
  if (e.kind === 'evtchn' && typeof e.fields?.vcpu === 'number') return e.fields.vcpu;
  return 0;
}
