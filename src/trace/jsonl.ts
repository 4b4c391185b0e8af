/**
 * JSONL: one trace event per line, one JSON object each (docs/trace.md describes the fields).
 *
 * Encoding: keys come in a fixed order (`seq`, `time`, `kind`, then the kind's fields in the
 * order the producer wrote them). Integers are JSON numbers; a bigint (a 64-bit guest field)
 * is a number when it is a safe integer (|v| < 2^53) and otherwise the string "0x..." of its
 * unsigned 64-bit value. `time` is exact too: a number below 2^53, else its decimal digits as
 * a string ("18446744073709551615"), which no JSON reader rounds. Absent optional fields are left out. Reading a line back gives an
 * event that renders to the same text line as the original (test/trace/jsonl.test.ts).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { TRACE_KINDS, type TraceEvent } from './events.ts';

/** JSON.stringify replacer: bigints as safe numbers, else "0x..." (unsigned 64-bit). */
export function bigintReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : `0x${BigInt.asUintN(64, v).toString(16)}`;
  }
  return v;
}

/** A virtual time as JSON writes it: a number below 2^53, else its decimal digits as a string. */
export function timeJson(t: number | bigint): number | string {
  return typeof t === 'bigint' ? t.toString() : t;
}

/** One event as one line of JSON (no newline). */
export function encodeEvent(e: TraceEvent): string {
  const { seq, time, kind, ...rest } = e;
  return JSON.stringify({ seq, time: timeJson(time), kind, ...rest }, bigintReplacer);
}

/** `time` as the encoder writes it: a safe integer, or decimal digits beyond 2^53 (read as a bigint). */
function decodeTime(v: unknown): number | bigint | undefined {
  if (isInt(v)) return v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^[0-9]{1,40}$/.test(v)) {
    const b = BigInt(v);
    return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  return undefined;
}

export type DecodeResult = { ok: true; event: TraceEvent } | { ok: false; error: string };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Required fields per kind and their JSON types: enough to render and summarise safely. */
const REQUIRED: Record<TraceEvent['kind'], Record<string, 'int' | 'addr' | 'string' | 'object' | 'boolean'>> = {
  hypercall: { domid: 'int', vcpu: 'int', pc: 'addr', name: 'string', args: 'object', result: 'int', errno: 'string' },
  console: { domid: 'int', text: 'string', via: 'string' },
  domain_start: { domid: 'int', name: 'string', entry: 'int', dtb: 'int' },
  domain_end: { domid: 'int', reason: 'string' },
  fault: { domid: 'int', vcpu: 'int', pc: 'addr', what: 'string' },
  evtchn: { domid: 'int', port: 'int', change: 'string' },
  irq: { domid: 'int', vcpu: 'int', intid: 'int', change: 'string' },
  sched: { domid: 'int', vcpu: 'int', change: 'string' },
  timer: { domid: 'int', vcpu: 'int', timer: 'string', change: 'string' },
};

/** Parses one JSONL line into an event, checking the fields every view relies on. */
export function decodeEvent(line: string): DecodeResult {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  const time = decodeTime(o.time);
  if (!isInt(o.seq) || time === undefined) return { ok: false, error: 'seq and time must be integers (time: a number, or a decimal string past 2^53)' };
  o.time = time;
  const kind = o.kind;
  if (typeof kind !== 'string' || !(TRACE_KINDS as readonly string[]).includes(kind)) return { ok: false, error: `unknown kind ${JSON.stringify(kind)}` };
  for (const [field, type] of Object.entries(REQUIRED[kind as TraceEvent['kind']])) {
    const f = o[field];
    if (type === 'addr') {
      // A 64-bit guest address: a number below 2^53, else the "0x..." string the encoder wrote.
      if (typeof f === 'string' && /^0x[0-9a-f]{1,16}$/.test(f)) o[field] = BigInt(f);
      else if (!isInt(f)) return { ok: false, error: `${kind} event: field '${field}' must be an address` };
      continue;
    }
    const good = type === 'int' ? isInt(f) : type === 'object' ? typeof f === 'object' && f !== null && !Array.isArray(f) : typeof f === type;
    if (!good) return { ok: false, error: `${kind} event: field '${field}' must be ${type === 'int' ? 'an integer' : type === 'object' ? 'an object' : `a ${type}`}` };
  }
  return { ok: true, event: o as unknown as TraceEvent };
}

export type ParseResult = { ok: true; events: TraceEvent[] } | { ok: false; error: string; line: number };

/**
 * Parses a JSONL file, read in chunks: a trace can be larger than the longest string V8 makes
 * (2^29 characters), and `trace` must read back whatever `run` wrote. Only regular files are
 * read (a device such as /dev/zero would never end).
 */
export function parseJsonlFile(path: string): ParseResult | { ok: false; error: string; line: 0 } {
  let fd: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return { ok: false, error: `cannot read ${path}: not a regular file${st.isDirectory() ? ' (a directory)' : ''}`, line: 0 };
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, error: `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`, line: 0 };
  }
  const events: TraceEvent[] = [];
  const decoder = new TextDecoder('utf-8');
  const chunk = Buffer.alloc(1 << 20);
  let rest = '';
  let lineNo = 0;
  const take = (l: string): DecodeResult | undefined => {
    lineNo++;
    const t = l.trim();
    if (t === '') return undefined;
    const r = decodeEvent(t);
    if (r.ok) events.push(r.event);
    return r;
  };
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      const text = rest + decoder.decode(chunk.subarray(0, n), { stream: n > 0 });
      const lines = text.split('\n');
      rest = n > 0 ? lines.pop()! : '';
      for (const l of lines) {
        const r = take(l);
        if (r && !r.ok) return { ok: false, error: r.error, line: lineNo };
      }
      if (n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
  return { ok: true, events };
}

/** Parses a whole JSONL document; blank lines are skipped; the first bad line is reported. */
export function parseJsonl(text: string): ParseResult {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === '') continue;
    const r = decodeEvent(l);
    if (!r.ok) return { ok: false, error: r.error, line: i + 1 };
    events.push(r.event);
  }
  return { ok: true, events };
}
