/**
 * The trace: one typed stream of facts, emitted by the layer that owns each fact.
 * Sinks (text, JSONL, ...) render it; nothing upstream formats strings for them.
 *
 * Every event carries `seq` (order across all domains) and `time` (virtual time in
 * guest instructions at the moment of the event), both filled by the bus.
 */
export type FieldValue = number | bigint | string | boolean | FieldValue[] | { [k: string]: FieldValue };
export type Fields = Record<string, FieldValue>;

interface Stamp {
  seq: number;
  time: number;
}

export type TraceEvent = Stamp &
  (
    | {
        kind: 'hypercall';
        domid: number;
        vcpu: number;
        pc: number;
        /** e.g. "event_channel_op" */
        name: string;
        /** e.g. "EVTCHNOP_send" for multiplexed calls */
        op?: string;
        /** decoded argument (struct fields by name) */
        args: Fields;
        /** decoded outputs written back to the guest, if any */
        out?: Fields;
        result: number;
        /** "-EINVAL", or "" on success */
        errno: string;
        symbol?: string;
      }
    | { kind: 'console'; domid: number; text: string; via: 'pl011' | 'console_io' }
    | { kind: 'domain_start'; domid: number; name: string; entry: number; dtb: number }
    | { kind: 'domain_end'; domid: number; reason: string; detail?: string }
    | { kind: 'fault'; domid: number; vcpu: number; pc: number; what: string; address?: number; syndrome?: number }
    | { kind: 'evtchn'; domid: number; port: number; change: string; fields?: Fields }
    | { kind: 'irq'; domid: number; vcpu: number; intid: number; change: 'raise' | 'ack' | 'eoi' | 'deactivate' | 'taken' | 'return' }
    | { kind: 'sched'; domid: number; vcpu: number; change: 'block' | 'wake' | 'yield' | 'switch' | 'wfi' }
  );

export type TraceKind = TraceEvent['kind'];

/** The part a producer supplies; the bus adds seq and time. */
export type TraceEventBody = TraceEvent extends infer E ? (E extends TraceEvent ? Omit<E, 'seq' | 'time'> : never) : never;
