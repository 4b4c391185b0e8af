/**
 * Wiring the views to a bus: the text view (optionally filtered), a JSONL file and a Perfetto
 * file. Files are written synchronously through a buffer, so a run that ends (or a guest that
 * faults) leaves a complete file once `close()` returns.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { TraceBus } from './bus.ts';
import { matchesFilter, type TraceFilter } from './filter.ts';
import { encodeEvent } from './jsonl.ts';
import { PerfettoWriter } from './perfetto.ts';
import { formatEvent } from './text.ts';

const FLUSH_AT = 1 << 16;

/** An append-only file with a write buffer. */
export class BufferedFile {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;
  /** Bytes accepted so far (counted only under a limit). */
  private written = 0;
  /** Set once a write did not fit under the limit. */
  truncated = false;

  private constructor(
    fd: number,
    /** Size limit in bytes (undefined: none). */
    private readonly limit?: number,
  ) {
    this.fd = fd;
  }

  static open(path: string, limit?: number): { ok: true; file: BufferedFile } | { ok: false; error: string } {
    try {
      return { ok: true, file: new BufferedFile(openSync(path, 'w'), limit) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      return { ok: false, error: `cannot write ${path}: ${why}` };
    }
  }

  /**
   * Appends `s` whole, or not at all when it would take the file past its limit less `reserve`
   * bytes (kept for a closing part); false when it was dropped.
   */
  write(s: string, reserve = 0): boolean {
    if (this.limit !== undefined) {
      const n = Buffer.byteLength(s);
      if (this.truncated || this.written + n > this.limit - reserve) {
        this.truncated = true;
        return false;
      }
      this.written += n;
    }
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= FLUSH_AT) this.flush();
    return true;
  }

  /** Appends `s` even past the limit (a format's closing bytes, within the reserve kept for them). */
  writeClosing(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    this.flush();
  }

  flush(): void {
    if (!this.parts.length) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export interface TraceOutputs {
  /** Text view: called with one line per event that passes `filter`. */
  text?: (line: string) => void;
  filter?: TraceFilter;
  /** JSONL file (every event; the filter applies to text views only). */
  jsonl?: string;
  /** Perfetto / Chrome trace-event JSON file (every event). */
  perfetto?: string;
  /** Each file stops at this many bytes, at an event boundary (undefined: no limit). */
  maxBytes?: number;
  /** Called once per file that reached `maxBytes`. */
  onTruncated?: (path: string, limit: number) => void;
}

/** Bytes kept free in a capped Perfetto file for its closing "\n]}\n". */
const PERFETTO_CLOSE = 8;

export type Attached = { ok: true; close(): void } | { ok: false; error: string };

/** Attaches the asked-for views to `bus`; `close()` finishes the files. */
export function attachTraceOutputs(bus: TraceBus, o: TraceOutputs): Attached {
  const closers: (() => void)[] = [];
  const fail = (error: string): Attached => {
    for (const c of closers) c();
    return { ok: false, error };
  };
  if (o.jsonl !== undefined) {
    const f = BufferedFile.open(o.jsonl, o.maxBytes);
    if (!f.ok) return fail(f.error);
    const path = o.jsonl;
    bus.attach((e) => {
      // Past the limit nothing more is written, so nothing more is encoded.
      if (f.file.truncated) return;
      if (!f.file.write(encodeEvent(e) + '\n')) o.onTruncated?.(path, o.maxBytes!);
    });
    closers.push(() => f.file.close());
  }
  if (o.perfetto !== undefined) {
    const f = BufferedFile.open(o.perfetto, o.maxBytes);
    if (!f.ok) return fail(f.error);
    const path = o.perfetto;
    // Whole Trace Event objects are dropped past the limit; the closing bytes always fit.
    const w = new PerfettoWriter((s, closing) => {
      if (closing) f.file.writeClosing(s);
      else if (!f.file.truncated && !f.file.write(s, PERFETTO_CLOSE)) o.onTruncated?.(path, o.maxBytes!);
    });
    // Past the limit the writer's layout work would only produce dropped objects.
    bus.attach((e) => {
      if (!f.file.truncated) w.event(e);
    });
    closers.push(() => {
      w.close();
      f.file.close();
    });
  }
  if (o.text) {
    const text = o.text;
    const filter = o.filter;
    bus.attach(filter ? (e) => matchesFilter(filter, e) && text(formatEvent(e)) : (e) => text(formatEvent(e)));
  }
  let closed = false;
  return {
    ok: true,
    close: () => {
      if (closed) return;
      closed = true;
      for (const c of closers) c();
    },
  };
}
