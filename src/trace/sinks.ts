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

  private constructor(fd: number) {
    this.fd = fd;
  }

  static open(path: string): { ok: true; file: BufferedFile } | { ok: false; error: string } {
    try {
      return { ok: true, file: new BufferedFile(openSync(path, 'w')) };
    } catch (e) {
      return { ok: false, error: `cannot write ${path}: ${(e as Error).message}` };
    }
  }

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= FLUSH_AT) this.flush();
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
}

export type Attached = { ok: true; close(): void } | { ok: false; error: string };

/** Attaches the asked-for views to `bus`; `close()` finishes the files. */
export function attachTraceOutputs(bus: TraceBus, o: TraceOutputs): Attached {
  const closers: (() => void)[] = [];
  const fail = (error: string): Attached => {
    for (const c of closers) c();
    return { ok: false, error };
  };
  if (o.jsonl !== undefined) {
    const f = BufferedFile.open(o.jsonl);
    if (!f.ok) return fail(f.error);
    bus.attach((e) => f.file.write(encodeEvent(e) + '\n'));
    closers.push(() => f.file.close());
  }
  if (o.perfetto !== undefined) {
    const f = BufferedFile.open(o.perfetto);
    if (!f.ok) return fail(f.error);
    const w = new PerfettoWriter((s) => f.file.write(s));
    bus.attach((e) => w.event(e));
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
