/**
 * The readable trace: one line per event, strace-like.
 *
 *   [      1234] d1 hypercall event_channel_op(EVTCHNOP_send, port=1) = 0            @0x40000abc
 *   [      1300] d2 hypercall event_channel_op(EVTCHNOP_close, port=9) = -22 -EINVAL @0x400001f0
 */
import type { FieldValue, Fields, TraceEvent } from './events.ts';

export function formatValue(v: FieldValue): string {
  if (typeof v === 'bigint') return v > 0xffffn || v < 0n ? `0x${BigInt.asUintN(64, v).toString(16)}` : v.toString();
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) > 0xffff ? `0x${(v >>> 0 === v ? v : v).toString(16)}` : String(v);
  if (typeof v === 'string') return /^[\w.:-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  return `{${formatFields(v)}}`;
}

export function formatFields(f: Fields): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(', ');
}

const hex = (n: number) => `0x${n.toString(16)}`;

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
      return `${t} d${e.domid}v${e.vcpu} fault ${e.what}${e.address !== undefined ? ` addr=${hex(e.address)}` : ''} pc=${hex(e.pc)}${e.syndrome !== undefined ? ` esr=${hex(e.syndrome)}` : ''}`;
    case 'evtchn':
      return `${t} d${e.domid} evtchn port ${e.port}: ${e.change}${e.fields ? ` ${formatFields(e.fields)}` : ''}`;
    case 'irq':
      return `${t} d${e.domid}v${e.vcpu} irq ${e.intid >= 0 ? `${e.intid} ` : ''}${e.change}`;
    case 'sched':
      return `${t} d${e.domid}v${e.vcpu} ${e.change}`;
  }
}
