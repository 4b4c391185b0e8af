/**
 * Perfetto / chrome://tracing view: the Trace Event Format's JSON Object Format
 * (`{"traceEvents": [...]}`), streamed as events arrive.
 *
 * Tracks: one process per domain (pid = domid + 1, named "dN image"), one thread per vCPU
 * (tid = pid * 1000 + vcpu, named "dNvM"). Domain-wide events (console, event-channel state)
 * go on vCPU 0's track, an upcall on the vCPU it names.
 *
 * Time axis: 1 guest instruction of virtual time = 1 µs on the axis, so the axis reads in
 * instructions. Everything one instruction caused (one *moment*) is laid out inside that
 * instruction's microsecond, in sequence order, in 10 ns slots; that is what gives zero-width
 * facts a width and keeps slices properly nested:
 * - a hypercall is a complete ('X') slice of at least 500 ns (half an instruction) at the start
 *   of its moment, with the marks its handler emitted on the same vCPU inside it;
 * - evtchn and irq events are 4 ns 'X' marks (not instants: flow arrows bind only to slices);
 * - ISR slices: B/E from the GIC acknowledge to the EOI of the same INTID ("IRQ 31"), and from
 *   the exception entry to its return when the CPU reports those; "blocked" slices from WFI or
 *   SCHEDOP_block to the wake-up;
 * - console, domain start/end, faults, yield/switch are thread-scoped instants ('i');
 * - flow arrows ('s' then 'f' with bp "e", one id per arrow) follow each notification from
 *   EVTCHNOP_send through every step notify.ts links.
 * Slices still open at the end are closed at the last moment.
 *
 * Idle jumps: the axis is a double in every Trace Event Format reader, and virtual time can
 * jump past 2^53 (a far poll or timer deadline), where a double no longer counts in single
 * instructions. A gap longer than MAX_GAP instructions between two moments is therefore cut to
 * SHOWN_GAP on the axis, with a global "virtual time skipped" instant that gives both exact
 * times; every event's `args.time` stays exact (a decimal string past 2^53).
 */
import { irqRole, vcpuOf, type TraceEvent } from './events.ts';
import { bigintReplacer, timeJson } from './jsonl.ts';
import { vsub, vtime, vbig, type VTime } from '../machine/vtime.ts';
import { causalOrder, MomentBuffer, NotificationLinker, type Arrow } from './notify.ts';

/** Axis nanoseconds per guest instruction (1 instruction = 1 µs). */
export const NS_PER_INSTRUCTION = 1000;
const SLOT = 10;
const HYPERCALL_MIN = 500;
/** Where, within a slot, each piece goes: B at 0, the mark over [1, 5), flow points at 2, E at 6. */
const MARK_AT = 1;
const MARK_DUR = 4;
const POINT_AT = 2;
const END_AT = 6;
/** Longest gap between moments drawn to scale (2^40 instructions: about 18 min of guest time). */
const MAX_GAP = 2 ** 40;
/** What a longer gap is drawn as (instructions). */
const SHOWN_GAP = 1_000_000;
/** Positions kept for flow arrows (candidate events only), pruned oldest-first beyond this. */
const MAX_POSITIONS = 200_000;

interface Pos {
  pid: number;
  tid: number;
  /** Axis ns of the flow point. */
  at: number;
}

type Scope = { what: 'isr'; intid: number } | { what: 'exception' } | { what: 'blocked' };

interface Thread {
  pid: number;
  tid: number;
  cursor: number;
  stack: Scope[];
}

const us = (ns: number) => Number((ns / 1000).toFixed(3));

/** Does this event open or close a B/E slice? Such events go after a hypercall's slice. */
function scoped(e: TraceEvent): boolean {
  if (e.kind === 'sched') return e.change === 'wfi' || e.change === 'block' || e.change === 'wake';
  if (e.kind === 'irq') {
    const r = irqRole(e);
    return (e.intid >= 0 && (r === 'ack' || r === 'eoi')) || r === 'taken' || r === 'return';
  }
  return false;
}

export class PerfettoWriter {
  private readonly threads = new Map<string, Thread>();
  private readonly named = new Set<number>();
  private readonly names = new Map<number, string>();
  private readonly positions = new Map<number, Pos>();
  private readonly moments: MomentBuffer;
  private readonly linker: NotificationLinker;
  private first = true;
  private lastNs = 0;
  private closed = false;
  /** Virtual time at axis 0 (moves forward at every cut gap). */
  private axisOrigin: VTime = 0;
  /** Axis instruction of the last moment. */
  private lastAxis = 0;

  constructor(private readonly write: (chunk: string, closing?: boolean) => void) {
    this.write(
      '{"displayTimeUnit":"ns","otherData":{"generator":"xenvm-emu","time":"1 us on the axis = 1 guest instruction of virtual time"},"traceEvents":[\n',
    );
    this.linker = new NotificationLinker({ arrow: (a) => this.arrow(a) });
    this.moments = new MomentBuffer((m) => this.moment(m));
  }

  /** Feed one event (a TraceSink). */
  event(e: TraceEvent): void {
    this.moments.push(e);
  }

  /** Flushes the last moment, closes open slices and the JSON document. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.moments.flush();
    this.linker.finish();
    for (const t of this.threads.values()) {
      const at = Math.max(t.cursor, this.lastNs);
      while (t.stack.length) this.end(t, t.stack.pop()!, at);
    }
    this.write('\n]}\n', true);
  }

  private emit(o: object): void {
    this.write((this.first ? '' : ',\n') + JSON.stringify(o, bigintReplacer));
    this.first = false;
  }

  private thread(e: TraceEvent): Thread {
    const pid = e.domid + 1;
    const vcpu = vcpuOf(e);
    const k = `${pid}/${vcpu}`;
    let t = this.threads.get(k);
    if (t) return t;
    if (!this.named.has(pid)) {
      this.named.add(pid);
      const label = this.names.get(e.domid);
      this.emit({ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: `d${e.domid}${label ? ` ${label}` : ''}` } });
      this.emit({ ph: 'M', name: 'process_sort_index', pid, tid: 0, args: { sort_index: e.domid } });
    }
    t = { pid, tid: pid * 1000 + vcpu, cursor: 0, stack: [] };
    this.threads.set(k, t);
    this.emit({ ph: 'M', name: 'thread_name', pid, tid: t.tid, args: { name: `d${e.domid}v${vcpu}` } });
    this.emit({ ph: 'M', name: 'thread_sort_index', pid, tid: t.tid, args: { sort_index: vcpu } });
    return t;
  }

  private moment(events: TraceEvent[]): void {
    for (const e of events) if (e.kind === 'domain_start') this.names.set(e.domid, e.name);
    const byThread = new Map<Thread, TraceEvent[]>();
    for (const e of events) {
      const t = this.thread(e);
      const list = byThread.get(t);
      if (list) list.push(e);
      else byThread.set(t, [e]);
    }
    const base = this.axisOf(events[0].time) * NS_PER_INSTRUCTION;
    for (const [t, list] of byThread) {
      let c = Math.max(base, t.cursor);
      const calls = list.filter((e) => e.kind === 'hypercall');
      if (calls.length) {
        // The handler's marks go inside the hypercall's slice; slices it opens or closes
        // (a block after SCHEDOP_block) go after it, so nothing crosses.
        const inner = causalOrder(list.filter((e) => e.kind !== 'hypercall' && !scoped(e)));
        calls.forEach((h, i) => {
          const mine = i === 0 ? inner : [];
          const dur = Math.max(HYPERCALL_MIN, SLOT * (mine.length + 2));
          this.hypercall(t, h as Extract<TraceEvent, { kind: 'hypercall' }>, c, dur);
          mine.forEach((e, k) => this.place(t, e, c + SLOT * (k + 1)));
          c += dur;
        });
        for (const e of list.filter(scoped)) {
          this.place(t, e, c);
          c += SLOT;
        }
      } else {
        for (const e of causalOrder(list)) {
          this.place(t, e, c);
          c += SLOT;
        }
      }
      t.cursor = c;
      this.lastNs = Math.max(this.lastNs, c);
    }
    this.linker.moment(events);
  }

  /** The axis position (in instructions) of virtual time `time`, cutting gaps over MAX_GAP. */
  private axisOf(time: VTime): number {
    let rel = vsub(time, this.axisOrigin);
    if (rel > this.lastAxis + MAX_GAP) {
      const to = this.lastAxis + SHOWN_GAP;
      const origin = vtime(vbig(time) - BigInt(to));
      if (!this.named.has(0)) {
        // Process 0 holds the machine-wide markers (domains are pid domid + 1).
        this.named.add(0);
        this.emit({ ph: 'M', name: 'process_name', pid: 0, tid: 0, args: { name: 'virtual time' } });
        this.emit({ ph: 'M', name: 'thread_name', pid: 0, tid: 0, args: { name: 'idle jumps' } });
      }
      this.emit({
        ph: 'i', s: 'g', cat: 'time', name: 'virtual time skipped', pid: 0, tid: 0, ts: us(to * NS_PER_INSTRUCTION),
        args: { from: timeJson(vtime(vbig(this.axisOrigin) + BigInt(this.lastAxis))), to: timeJson(time) },
      });
      this.axisOrigin = origin;
      rel = to;
    }
    this.lastAxis = Number(rel);
    return this.lastAxis;
  }

  private remember(e: TraceEvent, t: Thread, at: number): void {
    if (e.kind !== 'hypercall' && e.kind !== 'evtchn' && e.kind !== 'irq') return;
    this.positions.set(e.seq, { pid: t.pid, tid: t.tid, at });
    if (this.positions.size > MAX_POSITIONS) {
      let drop = MAX_POSITIONS / 2;
      for (const k of this.positions.keys()) {
        if (drop-- <= 0) break;
        this.positions.delete(k);
      }
    }
  }

  private hypercall(t: Thread, e: Extract<TraceEvent, { kind: 'hypercall' }>, start: number, dur: number): void {
    const args: Record<string, unknown> = { hypercall: e.name };
    if (e.op) args.op = e.op;
    args.args = e.args;
    if (e.out) args.out = e.out;
    args.result = e.errno ? `${e.result} ${e.errno}` : e.result;
    args.pc = `0x${e.pc.toString(16)}${e.symbol ? ` <${e.symbol}>` : ''}`;
    args.seq = e.seq;
    args.time = timeJson(e.time);
    this.emit({ ph: 'X', cat: 'hypercall', name: e.op ?? e.name, pid: t.pid, tid: t.tid, ts: us(start), dur: us(dur), args });
    this.remember(e, t, start + POINT_AT);
  }

  private mark(t: Thread, s: number, cat: string, name: string, e: TraceEvent, args: Record<string, unknown>): void {
    this.emit({ ph: 'X', cat, name, pid: t.pid, tid: t.tid, ts: us(s + MARK_AT), dur: us(MARK_DUR), args: { ...args, seq: e.seq, time: timeJson(e.time) } });
    this.remember(e, t, s + POINT_AT);
  }

  private instant(t: Thread, s: number, cat: string, name: string, e: TraceEvent, args: Record<string, unknown>): void {
    this.emit({ ph: 'i', s: 't', cat, name, pid: t.pid, tid: t.tid, ts: us(s + POINT_AT), args: { ...args, seq: e.seq, time: timeJson(e.time) } });
  }

  private begin(t: Thread, scope: Scope, name: string, at: number): void {
    t.stack.push(scope);
    this.emit({ ph: 'B', cat: scope.what, name, pid: t.pid, tid: t.tid, ts: us(at) });
  }

  private end(t: Thread, _scope: Scope, at: number): void {
    this.emit({ ph: 'E', pid: t.pid, tid: t.tid, ts: us(at) });
  }

  /** Closes the innermost scope matching `match` and every scope opened inside it. */
  private closeScope(t: Thread, match: (s: Scope) => boolean, at: number): void {
    let i = t.stack.length - 1;
    while (i >= 0 && !match(t.stack[i])) i--;
    if (i < 0) return;
    while (t.stack.length > i) this.end(t, t.stack.pop()!, at);
  }

  private place(t: Thread, e: TraceEvent, s: number): void {
    switch (e.kind) {
      case 'evtchn':
        this.mark(t, s, 'evtchn', `evtchn ${e.port} ${e.change}`, e, { port: e.port, change: e.change, ...(e.fields ? { fields: e.fields } : {}) });
        return;
      case 'irq': {
        const r = irqRole(e);
        const name = e.intid >= 0 ? `irq ${e.intid} ${r}` : `irq ${r.replace('_', ' ')}`;
        if (r === 'ack' && e.intid >= 0) this.begin(t, { what: 'isr', intid: e.intid }, `IRQ ${e.intid}`, s);
        if (r === 'taken') this.begin(t, { what: 'exception' }, 'IRQ exception', s);
        this.mark(t, s, 'irq', name, e, { intid: e.intid, change: r });
        if (r === 'eoi' && e.intid >= 0) this.closeScope(t, (x) => x.what === 'isr' && x.intid === e.intid, s + END_AT);
        if (r === 'return') this.closeScope(t, (x) => x.what === 'exception', s + END_AT);
        return;
      }
      case 'sched':
        if (e.change === 'wfi' || e.change === 'block') {
          this.begin(t, { what: 'blocked' }, e.change === 'wfi' ? 'WFI' : 'blocked', s);
          this.mark(t, s, 'sched', e.change, e, {});
        } else if (e.change === 'wake') {
          this.mark(t, s, 'sched', 'wake', e, {});
          this.closeScope(t, (x) => x.what === 'blocked', s + END_AT);
        } else {
          this.instant(t, s, 'sched', e.change, e, {});
        }
        return;
      case 'console':
        this.instant(t, s, 'console', e.text.length > 60 ? `${e.text.slice(0, 57)}...` : e.text, e, { text: e.text, via: e.via });
        return;
      case 'domain_start':
        this.instant(t, s, 'domain', `start ${e.name}`, e, { entry: `0x${e.entry.toString(16)}`, dtb: `0x${e.dtb.toString(16)}` });
        return;
      case 'domain_end':
        this.instant(t, s, 'domain', `end: ${e.reason}`, e, { reason: e.reason, ...(e.detail ? { detail: e.detail } : {}) });
        return;
      case 'fault':
        this.instant(t, s, 'fault', `fault ${e.what}`, e, { pc: `0x${e.pc.toString(16)}`, ...(e.address !== undefined ? { address: `0x${e.address.toString(16)}` } : {}) });
        return;
      case 'timer':
        if (e.change === 'fire') this.instant(t, s, 'timer', `${e.timer} timer fires`, e, { intid: e.intid });
        else this.instant(t, s, 'timer', `${e.timer} timer set`, e, { ctl: e.ctl, cval: e.cval });
        return;
      case 'check':
        this.instant(t, s, 'check', `check ${e.rule}`, e, { rule: e.rule, message: e.message, pc: `0x${e.pc.toString(16)}`, ...(e.symbol ? { symbol: e.symbol } : {}), ...(e.source ? { source: e.source } : {}), ...(e.port !== undefined ? { port: e.port } : {}) });
        return;
      case 'hypercall':
        // Not reached: moment() lays hypercalls out itself. Kept so every kind has a rendering.
        this.hypercall(t, e, s, SLOT - 1);
        return;
    }
  }

  private arrow(a: Arrow): void {
    const from = this.positions.get(a.from.seq);
    const to = this.positions.get(a.to.seq);
    if (!from || !to) return;
    const name = `notification ${a.notification}`;
    this.emit({ ph: 's', cat: 'notify', name, id: a.id, pid: from.pid, tid: from.tid, ts: us(from.at) });
    this.emit({ ph: 'f', bp: 'e', cat: 'notify', name, id: a.id, pid: to.pid, tid: to.tid, ts: us(to.at) });
  }
}
