/**
 * `--trace-filter EXPR`: which events the text views print.
 *
 * EXPR is a comma-separated list of terms. Each term belongs to one category:
 *   dN | dom=N           domain N (d0 is dom0)
 *   port=P               event-channel port P: evtchn events on port P, and hypercalls whose
 *                        argument or output has a field port, local_port or remote_port = P
 *   NAME                 a hypercall by name or sub-op: event_channel_op, EVTCHNOP_send, sched_op
 *   hypercall=NAME       the same, spelled out
 *   kind=K               an event kind: hypercall, console, domain_start, domain_end, fault,
 *                        evtchn, irq, sched, timer, check
 * Terms of one category are alternatives (OR); categories must all match (AND). So
 * `d1,d2,kind=irq` is every irq event of d1 or d2, and `d2,port=1,EVTCHNOP_send` is d2's sends
 * on its port 1. A hypercall term matches hypercall events only; a port term matches only events
 * that carry a port.
 */
import { TRACE_KINDS, type FieldValue, type TraceEvent, type TraceKind } from './events.ts';

export interface TraceFilter {
  domains: Set<number>;
  ports: Set<number>;
  hypercalls: Set<string>;
  kinds: Set<TraceKind>;
}

export type FilterParse = { ok: true; filter: TraceFilter } | { ok: false; error: string };

export const FILTER_HELP = `EXPR: comma-separated terms, dN or dom=N (domain), port=P (event-channel
                          port), NAME or hypercall=NAME (hypercall or sub-op: event_channel_op,
                          EVTCHNOP_send), kind=K (hypercall, console, domain_start, domain_end,
                          fault, evtchn, irq, sched, timer, check). Terms of one category are ORed, categories
                          ANDed: 'd2,port=1,kind=evtchn,kind=irq'.`;

function nonNegInt(s: string): number | undefined {
  return /^\d+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : undefined;
}

/**
 * The `--trace-filter` values of a command line (run, trace): like `parseFilter`, but a value
 * with no terms is refused. An empty one is almost always a mistake (an unset shell variable),
 * though `parseFilter` reads it as "all".
 */
export function parseFilterOption(exprs: readonly string[]): FilterParse {
  const empty = exprs.find((x) => x.split(',').every((t) => t.trim() === ''));
  if (empty !== undefined) return { ok: false, error: `--trace-filter '${empty}' has no terms (e.g. d1, port=3, kind=irq, EVTCHNOP_send)` };
  return parseFilter([...exprs]);
}

/** Parses one or more EXPRs (each may hold several comma-separated terms). */
export function parseFilter(exprs: string | string[]): FilterParse {
  const f: TraceFilter = { domains: new Set(), ports: new Set(), hypercalls: new Set(), kinds: new Set() };
  const terms = (Array.isArray(exprs) ? exprs : [exprs]).flatMap((x) => x.split(',')).map((t) => t.trim());
  for (const term of terms) {
    if (term === '') continue;
    const eq = term.indexOf('=');
    const key = eq >= 0 ? term.slice(0, eq) : '';
    const val = eq >= 0 ? term.slice(eq + 1) : term;
    const bad = (why: string): FilterParse => ({ ok: false, error: `--trace-filter term '${term}': ${why}` });
    if (eq < 0 && /^d\d+$/.test(term)) {
      f.domains.add(Number(term.slice(1)));
    } else if (key === 'dom' || key === 'domain') {
      const n = nonNegInt(val.replace(/^d/, ''));
      if (n === undefined) return bad('a domain is a number (dom=1) or dN');
      f.domains.add(n);
    } else if (key === 'port') {
      const n = nonNegInt(val);
      if (n === undefined) return bad('a port is a non-negative number');
      f.ports.add(n);
    } else if (key === 'kind') {
      if (!(TRACE_KINDS as readonly string[]).includes(val)) return bad(`kind is one of ${TRACE_KINDS.join(', ')}`);
      f.kinds.add(val as TraceKind);
    } else if (key === 'hypercall' || (eq < 0 && /^[A-Za-z_]\w*$/.test(term))) {
      if (!/^[A-Za-z_]\w*$/.test(val)) return bad('a hypercall name is an identifier');
      f.hypercalls.add(val.toLowerCase());
    } else {
      return bad(eq >= 0 ? `unknown key '${key}' (dom, port, hypercall, kind)` : 'not dN, a hypercall name or key=value');
    }
  }
  return { ok: true, filter: f };
}

const PORT_FIELDS = ['port', 'local_port', 'remote_port'];

function portsOf(e: TraceEvent): number[] {
  if (e.kind === 'evtchn') return [e.port];
  if (e.kind === 'check') return e.port !== undefined ? [e.port] : [];
  if (e.kind !== 'hypercall') return [];
  const out: number[] = [];
  for (const f of [e.args, e.out]) {
    if (!f) continue;
    for (const k of PORT_FIELDS) {
      const v: FieldValue | undefined = f[k];
      if (typeof v === 'number' || typeof v === 'bigint') out.push(Number(v));
    }
  }
  return out;
}

export function matchesFilter(f: TraceFilter, e: TraceEvent): boolean {
  if (f.kinds.size && !f.kinds.has(e.kind)) return false;
  if (f.domains.size && !f.domains.has(e.domid)) return false;
  if (f.hypercalls.size) {
    if (e.kind !== 'hypercall') return false;
    if (!f.hypercalls.has(e.name.toLowerCase()) && !(e.op !== undefined && f.hypercalls.has(e.op.toLowerCase()))) return false;
  }
  if (f.ports.size && !portsOf(e).some((p) => f.ports.has(p))) return false;
  return true;
}

