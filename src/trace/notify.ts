/**
 * Following one notification through the trace: EVTCHNOP_send on domain A's port p, the pending
 * bit set on the peer B's port q, evtchn_upcall_pending, the PPI raised in B's vGIC, B's IRQ line,
 * the exception taken, the acknowledge (IAR), EOI, deactivate, the exception return.
 *
 * The linker only joins events that exist in the stream; each step is optional. It works on
 * *moments* (all events with one virtual time, i.e. caused by one guest instruction), because
 * a hypercall's event comes after the events its handler caused. Used by the Perfetto flows and
 * by the summary's latency figures.
 */
import { irqRole, type TraceEvent } from './events.ts';

export type NotifyRole = 'send' | 'set_pending' | 'upcall' | 'raise' | 'line_up' | 'taken' | 'ack' | 'line_down' | 'eoi' | 'deactivate' | 'return';

/** The order steps happen in on the real path. */
export const ROLE_RANK: Record<NotifyRole, number> = {
  send: 0,
  set_pending: 1,
  upcall: 2,
  raise: 3,
  line_up: 4,
  taken: 5,
  ack: 6,
  line_down: 7,
  eoi: 8,
  deactivate: 9,
  return: 10,
};

/** Roles that mean "the guest's interrupt handler has started", best first. */
export const ISR_ENTRY_ROLES: readonly NotifyRole[] = ['taken', 'ack', 'line_down'];

export interface NotifyNode {
  role: NotifyRole;
  event: TraceEvent;
}

export interface PortRef {
  domid: number;
  port: number;
}

export interface Notification {
  id: number;
  from: PortRef;
  to: PortRef;
  /** EVTCHNOP_send events delivered by this one interrupt: the first started it, later ones
   *  found the port already on its way (coalesced). */
  sends: TraceEvent[];
  /** The causal line, in role order, starting with the first send. */
  nodes: NotifyNode[];
}

export interface Arrow {
  /** Unique per arrow (flow id). */
  id: number;
  notification: number;
  from: TraceEvent;
  to: TraceEvent;
}

export interface LinkerSink {
  arrow?(a: Arrow): void;
  done?(n: Notification): void;
}

/** Groups a stream into moments (runs of equal `time`) and hands each to `onMoment`. */
export class MomentBuffer {
  private buf: TraceEvent[] = [];
  constructor(private readonly onMoment: (events: TraceEvent[]) => void) {}

  push(e: TraceEvent): void {
    if (this.buf.length && this.buf[0].time !== e.time) this.flush();
    this.buf.push(e);
  }

  flush(): void {
    if (!this.buf.length) return;
    const m = this.buf;
    this.buf = [];
    this.onMoment(m);
  }
}

const key = (domid: number, port: number) => `${domid}:${port}`;
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined);

/** The port of a successful EVTCHNOP_send, or undefined. */
export function sendPort(e: TraceEvent): number | undefined {
  if (e.kind !== 'hypercall' || e.op !== 'EVTCHNOP_send' || e.result !== 0) return undefined;
  return num(e.args.port);
}

/**
 * The events of one moment with the notification steps among them put in causal order (role
 * rank), every other event keeping its place. Producers emit nested callbacks inner-first (the
 * IRQ line rises inside the upcall's handler), so emission order is not always causal order.
 */
export function causalOrder(events: TraceEvent[]): TraceEvent[] {
  const slots: number[] = [];
  const steps: TraceEvent[] = [];
  events.forEach((e, i) => {
    if (roleOf(e) !== undefined) {
      slots.push(i);
      steps.push(e);
    }
  });
  if (steps.length < 2) return events;
  steps.sort((a, b) => ROLE_RANK[roleOf(a)!] - ROLE_RANK[roleOf(b)!] || a.seq - b.seq);
  const out = events.slice();
  slots.forEach((at, k) => (out[at] = steps[k]));
  return out;
}

/** Role of an event on the receiving domain, or undefined if it plays none. */
function roleOf(e: TraceEvent): NotifyRole | undefined {
  if (e.kind === 'irq') {
    const r = irqRole(e);
    return r === 'lower' || r === 'spurious' ? undefined : (r as NotifyRole);
  }
  if (e.kind === 'evtchn') {
    if (e.change === 'upcall') return 'upcall';
    if (e.change === 'set_pending') return 'set_pending';
  }
  return undefined;
}

interface Open extends Notification {
  /** The interrupt this notification travels as, once known. */
  intid: number;
  /** Sends waiting for the next node of the line (coalesced ones). */
  waiting: TraceEvent[];
}

export class NotificationLinker {
  /** Interdomain (and IPI loopback) channels: local end -> remote end. */
  private readonly peers = new Map<string, PortRef>();
  /** Open notification per receiving domain. */
  private readonly open = new Map<number, Open>();
  /** The event-channel interrupt of each domain, learned from raises caused by sends. */
  private readonly eventIntid = new Map<number, number>();
  private nextNotification = 0;
  private nextArrow = 0;

  constructor(private readonly sink: LinkerSink) {}

  /** Feeds one moment (events of one virtual time, in seq order). */
  moment(events: TraceEvent[]): void {
    // Pass 1: channel bookkeeping and, for each send, the consequences its handler emitted
    // just before it on the receiving domain.
    const claimed = new Map<TraceEvent, { to: PortRef; nodes: NotifyNode[] }>();
    const taken = new Set<TraceEvent>();
    let lastHypercall = -1;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (e.kind === 'evtchn') this.track(e);
      if (e.kind !== 'hypercall') continue;
      const p = sendPort(e);
      if (p !== undefined) {
        const to = this.peers.get(key(e.domid, p));
        if (to) {
          const nodes: NotifyNode[] = [];
          for (let j = lastHypercall + 1; j < i; j++) {
            const c = events[j];
            if (c.domid !== to.domid) continue;
            const role = roleOf(c);
            if (role === 'set_pending' && c.kind === 'evtchn' && c.port !== to.port) continue;
            if (role === 'set_pending' || role === 'upcall' || role === 'raise' || role === 'line_up') {
              nodes.push({ role, event: c });
              taken.add(c);
            }
          }
          nodes.sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role] || a.event.seq - b.event.seq);
          claimed.set(e, { to, nodes });
        }
      }
      lastHypercall = i;
    }
    // Pass 2: in order, start notifications at sends and extend open ones with later steps.
    for (const e of events) {
      const c = claimed.get(e);
      if (c) {
        this.onSend(e, c.to, c.nodes);
        continue;
      }
      if (taken.has(e)) continue;
      const o = this.open.get(e.domid);
      if (!o) continue;
      const role = roleOf(e);
      if (role === undefined || ROLE_RANK[role] <= ROLE_RANK[o.nodes[o.nodes.length - 1].role]) continue;
      if (role === 'set_pending' || role === 'upcall' || role === 'raise') continue; // a new delivery, not ours
      if (e.kind === 'irq' && e.intid >= 0) {
        const want = o.intid >= 0 ? o.intid : this.eventIntid.get(e.domid);
        if (want !== undefined && e.intid !== want) continue;
        if (o.intid < 0) o.intid = e.intid;
      }
      this.append(o, { role, event: e });
      if (role === 'return') this.close(e.domid);
    }
  }

  /** Closes every open notification (end of the stream). */
  finish(): void {
    for (const d of [...this.open.keys()]) this.close(d);
  }

  private onSend(send: TraceEvent, to: PortRef, consequences: NotifyNode[]): void {
    const o = this.open.get(to.domid);
    const from: PortRef = { domid: send.domid, port: sendPort(send)! };
    const raised = consequences.some((n) => n.role === 'upcall' || n.role === 'raise' || n.role === 'line_up');
    if (o && !raised && ROLE_RANK[o.nodes[o.nodes.length - 1].role] < ROLE_RANK.taken && o.from.domid === from.domid) {
      // The receiver has not started handling the first one yet: this send rides along.
      o.sends.push(send);
      o.waiting.push(send);
      for (const n of consequences) this.arrowTo(send, n.event, o.id);
      return;
    }
    this.close(to.domid);
    const n: Open = { id: this.nextNotification++, from, to, sends: [send], nodes: [{ role: 'send', event: send }], intid: -1, waiting: [] };
    this.open.set(to.domid, n);
    for (const c of consequences) {
      if (c.role === 'raise' && c.event.kind === 'irq' && c.event.intid >= 0) {
        n.intid = c.event.intid;
        this.eventIntid.set(to.domid, c.event.intid);
      }
      this.append(n, c);
    }
  }

  private append(o: Open, node: NotifyNode): void {
    const prev = o.nodes[o.nodes.length - 1];
    o.nodes.push(node);
    this.arrowTo(prev.event, node.event, o.id);
    for (const w of o.waiting) this.arrowTo(w, node.event, o.id);
    o.waiting = [];
  }

  private arrowTo(from: TraceEvent, to: TraceEvent, notification: number): void {
    this.sink.arrow?.({ id: this.nextArrow++, notification, from, to });
  }

  private close(domid: number): void {
    const o = this.open.get(domid);
    if (!o) return;
    this.open.delete(domid);
    const { intid: _i, waiting: _w, ...n } = o;
    this.sink.done?.(n);
  }

  private track(e: Extract<TraceEvent, { kind: 'evtchn' }>): void {
    const f = e.fields ?? {};
    const here = key(e.domid, e.port);
    switch (e.change) {
      case 'bind_interdomain': {
        const rd = num(f.remote_dom);
        const rp = num(f.remote_port);
        if (rd === undefined || rp === undefined) return;
        this.peers.set(here, { domid: rd, port: rp });
        this.peers.set(key(rd, rp), { domid: e.domid, port: e.port });
        return;
      }
      case 'bind_ipi':
        this.peers.set(here, { domid: e.domid, port: e.port });
        return;
      case 'set_pending': {
        const fd = num(f.from_dom);
        const fp = num(f.from_port);
        if (fd !== undefined && fp !== undefined) this.peers.set(key(fd, fp), { domid: e.domid, port: e.port });
        return;
      }
      case 'close': {
        const p = this.peers.get(here);
        this.peers.delete(here);
        if (p) {
          const back = this.peers.get(key(p.domid, p.port));
          if (back && back.domid === e.domid && back.port === e.port) this.peers.delete(key(p.domid, p.port));
        }
        return;
      }
      case 'peer_closed':
        this.peers.delete(here);
        return;
      case 'reset':
        for (const k of [...this.peers.keys()]) if (k.startsWith(`${e.domid}:`)) this.peers.delete(k);
        return;
    }
  }
}
