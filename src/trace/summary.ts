/**
 * The summary `xenvm-emu trace` prints after a trace: hypercalls by type and result, events per
 * event-channel port, and interrupt latency (EVTCHNOP_send -> the receiver's ISR entry) in guest
 * instructions of virtual time. The latency comes from the notification linker (notify.ts); the
 * summary says which events it found, since a trace holds only what its producers emitted.
 */
import { vsub, type VTime } from '../machine/vtime.ts';
import type { TraceEvent, TraceKind } from './events.ts';
import { ISR_ENTRY_ROLES, MomentBuffer, NotificationLinker, sendPort, type Notification, type NotifyRole } from './notify.ts';

export interface HypercallCount {
  /** "event_channel_op EVTCHNOP_send", or just the name for calls without sub-ops. */
  call: string;
  total: number;
  /** "0", "-22 -EINVAL", ... -> count, in first-seen order. */
  results: [string, number][];
}

export interface PortCount {
  domid: number;
  port: number;
  /** Successful EVTCHNOP_send from this port. */
  sent: number;
  /** Notifications that arrived on this port (linked from a send). */
  received: number;
  /** evtchn events on this port by change (alloc_unbound, bind_interdomain, close, ...). */
  changes: [string, number][];
}

export interface Latency {
  /** One sample per linked send that reached an ISR entry: entry.time - send.time. */
  samples: VTime[];
  min?: VTime;
  median?: VTime;
  max?: VTime;
  notifications: number;
  /** Linked sends whose receiver never showed an ISR entry in the trace. */
  unhandled: number;
  /** Which event stood for "ISR entry", and how often. */
  entries: [NotifyRole, number][];
  /** Every event kind/role the linked notifications were made of ("irq line_up", ...). */
  used: string[];
}

export interface TraceSummary {
  events: number;
  /** Exact virtual times (bigints past 2^53). */
  firstTime: VTime;
  lastTime: VTime;
  kinds: [TraceKind, number][];
  hypercalls: HypercallCount[];
  ports: PortCount[];
  upcalls: [number, number][];
  latency: Latency;
}

function bump<K>(m: Map<K, number>, k: K, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/** Lower median for an even count: an integer number of instructions that really occurred. */
function median(sorted: VTime[]): VTime | undefined {
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : undefined;
}

const ROLE_EVENT: Record<NotifyRole, string> = {
  send: 'hypercall EVTCHNOP_send',
  set_pending: 'evtchn set_pending',
  upcall: 'evtchn upcall',
  raise: 'irq raise (GIC)',
  line_up: 'irq line up',
  taken: 'irq taken',
  ack: 'irq ack (GIC IAR)',
  line_down: 'irq line down',
  eoi: 'irq eoi',
  deactivate: 'irq deactivate',
  return: 'irq return',
};

export function summarize(events: Iterable<TraceEvent>): TraceSummary {
  let count = 0;
  let firstTime: VTime = 0;
  let lastTime: VTime = 0;
  const kinds = new Map<TraceKind, number>();
  const calls = new Map<string, { total: number; results: Map<string, number> }>();
  const ports = new Map<string, { domid: number; port: number; sent: number; received: number; changes: Map<string, number> }>();
  const upcalls = new Map<number, number>();
  const portRow = (domid: number, port: number) => {
    const k = `${domid}:${port}`;
    let r = ports.get(k);
    if (!r) ports.set(k, (r = { domid, port, sent: 0, received: 0, changes: new Map() }));
    return r;
  };
  const done: Notification[] = [];
  const linker = new NotificationLinker({ done: (n) => done.push(n) });
  const moments = new MomentBuffer((m) => linker.moment(m));

  for (const e of events) {
    if (count === 0) firstTime = e.time;
    lastTime = e.time;
    count++;
    bump(kinds, e.kind);
    moments.push(e);
    if (e.kind === 'hypercall') {
      const call = e.op ? `${e.name} ${e.op}` : e.name;
      let c = calls.get(call);
      if (!c) calls.set(call, (c = { total: 0, results: new Map() }));
      c.total++;
      bump(c.results, e.errno ? `${e.result} ${e.errno}` : String(e.result));
      const p = sendPort(e);
      if (p !== undefined) portRow(e.domid, p).sent++;
    } else if (e.kind === 'evtchn') {
      if (e.change === 'upcall') bump(upcalls, e.domid);
      else bump(portRow(e.domid, e.port).changes, e.change);
    }
  }
  moments.flush();
  linker.finish();

  const samples: VTime[] = [];
  const entries = new Map<NotifyRole, number>();
  const used = new Set<NotifyRole>();
  let unhandled = 0;
  for (const n of done) {
    portRow(n.to.domid, n.to.port).received += n.sends.length;
    for (const node of n.nodes) used.add(node.role);
    const entry = ISR_ENTRY_ROLES.map((r) => n.nodes.find((x) => x.role === r)).find((x) => x !== undefined);
    if (!entry) {
      unhandled += n.sends.length;
      continue;
    }
    bump(entries, entry.role, n.sends.length);
    for (const s of n.sends) samples.push(vsub(entry.event.time, s.time));
  }
  const sorted = [...samples].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    events: count,
    firstTime,
    lastTime,
    kinds: [...kinds],
    hypercalls: [...calls].map(([call, c]) => ({ call, total: c.total, results: [...c.results] })).sort((a, b) => b.total - a.total || (a.call < b.call ? -1 : 1)),
    ports: [...ports.values()]
      .sort((a, b) => a.domid - b.domid || a.port - b.port)
      .map((r) => ({ domid: r.domid, port: r.port, sent: r.sent, received: r.received, changes: [...r.changes] })),
    upcalls: [...upcalls].sort((a, b) => a[0] - b[0]),
    latency: {
      samples,
      min: sorted[0],
      median: median(sorted),
      max: sorted[sorted.length - 1],
      notifications: done.length,
      unhandled,
      entries: [...entries],
      used: (Object.keys(ROLE_EVENT) as NotifyRole[]).filter((r) => used.has(r)).map((r) => ROLE_EVENT[r]),
    },
  };
}

export function formatSummary(s: TraceSummary): string {
  const out: string[] = [];
  out.push(`summary: ${s.events} events, virtual time ${s.firstTime}..${s.lastTime} guest instructions (the whole trace; filters select only the listing)`);
  out.push(`  by kind: ${s.kinds.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  out.push('hypercalls (call: count, by result):');
  if (!s.hypercalls.length) out.push('  none');
  const w = Math.max(0, ...s.hypercalls.map((h) => h.call.length));
  for (const h of s.hypercalls) {
    out.push(`  ${h.call.padEnd(w)}  ${String(h.total).padStart(6)}   ${h.results.map(([r, n]) => `= ${r}: ${n}`).join(', ')}`);
  }
  out.push('event-channel ports (sent = EVTCHNOP_send from the port, received = linked notifications arriving on it):');
  if (!s.ports.length) out.push('  none');
  for (const p of s.ports) {
    const ch = p.changes.map(([c, n]) => `${c} ${n}`).join(', ');
    out.push(`  d${p.domid} port ${p.port}: sent ${p.sent}, received ${p.received}${ch ? `; ${ch}` : ''}`);
  }
  if (s.upcalls.length) out.push(`  upcalls (evtchn_upcall_pending 0->1): ${s.upcalls.map(([d, n]) => `d${d} ${n}`).join(', ')}`);
  const l = s.latency;
  out.push('interrupt latency, EVTCHNOP_send -> receiver ISR entry (guest instructions of virtual time, all domains):');
  if (l.samples.length) {
    out.push(`  ${l.samples.length} sends in ${l.notifications} notifications: min ${l.min}, median ${l.median}, max ${l.max}${l.unhandled ? `; ${l.unhandled} sends never reached an ISR entry in the trace` : ''}`);
    out.push(`  ISR entry is the first of irq taken, GIC ack, IRQ line down; found: ${l.entries.map(([r, n]) => `${ROLE_EVENT[r]} ${n}`).join(', ')}`);
  } else {
    out.push(`  no sample: ${l.notifications ? `${l.unhandled} linked sends, none reached an ISR entry` : 'no EVTCHNOP_send to a bound peer port in the trace'}`);
  }
  out.push(`  linked from: ${l.used.length ? l.used.join(', ') : 'nothing'} (peers from evtchn bind_interdomain/bind_ipi/set_pending)`);
  return out.join('\n');
}
