/**
 * The readable trace: one line per event, strace-like. `[time]` is virtual time in guest
 * instructions, then the domain (and vCPU), then what happened.
 *
 *   [     92483] d2v0 event_channel_op(EVTCHNOP_send, port=1) = 0  @0x40001eb0 <HYPERVISOR_event_channel_op+0x4>
 *   [     91131] d2v0 event_channel_op(EVTCHNOP_close, port=9) = -22 -EINVAL  @0x400001f0
 *   [     93150] d1v0 irq 31 ack
 *
 * The same event always renders to the same line, whether it comes live from the bus or back
 * from a JSONL file (integers render alike whether they are numbers or bigints).
 */
import { irqRole, type FieldValue, type Fields, type TraceEvent } from './events.ts';

/** Integers up to 0xffff in decimal, larger ones (and negative bigints, as 64-bit) in hex. */
function formatInteger(v: bigint): string {
  if (v >= 0n && v <= 0xffffn) return v.toString();
  if (v < 0n && v >= -0xffffn) return v.toString();
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

export function formatValue(v: FieldValue): string {
  if (typeof v === 'bigint') return formatInteger(v);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? formatInteger(BigInt(v)) : String(v);
  if (typeof v === 'string') return /^[\w.:-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  return `{${formatFields(v)}}`;
}

/** Reserved domids (xen.h) by value, for readers of the text view. */
const RESERVED_DOMIDS: Record<number, string> = { 0x7ff0: 'DOMID_SELF', 0x7ff1: 'DOMID_IO', 0x7ff2: 'DOMID_XEN', 0x7ff4: 'DOMID_INVALID' };
/** EVTCHNSTAT_* (event_channel.h) by value. */
const EVTCHNSTAT = ['closed', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi'];

/** Names a few well-known values in the text view only; JSONL keeps the numbers. */
function named(key: string, v: FieldValue): string {
  if (typeof v === 'number' || typeof v === 'bigint') {
    const n = Number(v);
    if (/^(dom|domid|remote_dom)$/.test(key) && RESERVED_DOMIDS[n]) return RESERVED_DOMIDS[n];
    if (key === 'status' && EVTCHNSTAT[n]) return `EVTCHNSTAT_${EVTCHNSTAT[n]}`;
  }
  return formatValue(v);
}

export function formatFields(f: Fields): string {
  return Object.entries(f)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${named(k, v)}`)
    .join(', ');
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

const IRQ_WORDS: Record<string, string> = { line_up: 'line up', line_down: 'line down' };

export function formatEvent(e: TraceEvent): string {
  const t = `[${String(e.time).padStart(10)}]`;
  switch (e.kind) {
    case 'hypercall': {
      const args = formatFields(e.args);
      const inner = [e.op, args].filter((s) => s).join(', ');
      const out = e.out && Object.keys(e.out).length ? ` {${formatFields(e.out)}}` : '';
      const res = `${e.result}${e.errno ? ` ${e.errno}` : ''}`;
      const at = e.symbol ? `${hex(e.pc)} <${e.symbol}>` : hex(e.pc);
      return `${t} d${e.domid}v${e.vcpu} ${e.name}(${inner}) = ${res}${out}  @${at}`;
    }
    case 'console':
      return `${t} d${e.domid} console(${e.via}) ${JSON.stringify(e.text)}`;
    case 'domain_start':
      return `${t} d${e.domid} start ${e.name} entry=${hex(e.entry)} dtb=${hex(e.dtb)}`;
    case 'domain_end':
      return `${t} d${e.domid} end: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`;
    case 'fault':
      return `${t} d${e.domid}v${e.vcpu} fault ${e.what}${e.address !== undefined && e.address !== null ? ` addr=${hex(e.address)}` : ''} pc=${hex(e.pc)}${e.syndrome !== undefined && e.syndrome !== null ? ` esr=${hex(e.syndrome)}` : ''}`;
    case 'evtchn':
      return `${t} d${e.domid} evtchn port ${e.port}: ${e.change}${e.fields && Object.keys(e.fields).length ? ` ${formatFields(e.fields)}` : ''}`;
    case 'irq': {
      const role = irqRole(e);
      const what = IRQ_WORDS[role] ?? role;
      const at = e.pc !== undefined && e.pc !== null ? ` ${role === 'taken' ? 'from' : 'to'} ${hex(e.pc)}` : '';
      return `${t} d${e.domid}v${e.vcpu} irq ${e.intid >= 0 ? `${e.intid} ` : ''}${what}${at}`;
    }
    case 'sched':
      return `${t} d${e.domid}v${e.vcpu} ${e.change}`;
    case 'timer':
      return e.change === 'fire'
        ? `${t} d${e.domid}v${e.vcpu} timer ${e.timer} fire -> irq ${e.intid}`
        : `${t} d${e.domid}v${e.vcpu} timer ${e.timer} set ctl=${hex(e.ctl)} cval=${e.cval}`;
    case 'check':
      return `${t} d${e.domid}v${e.vcpu} check ${e.rule}${e.port !== undefined && e.port !== null ? ` port=${e.port}` : ''}: ${e.message}  @${e.symbol ? `${hex(e.pc)} <${e.symbol}>` : hex(e.pc)}${e.source ? ` ${e.source}` : ''}`;
  }
}
