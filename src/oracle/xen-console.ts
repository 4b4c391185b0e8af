// Reads the real Xen's serial console (as QEMU's PL011 hands it to us) and turns it into
// our transcript format, `dN: text`. Pure: no processes, no timers.
//
// What Xen 4.17 prints, as observed under QEMU (see test/oracle/xen-console.test.ts for
// verbatim samples):
//   "(XEN) DOM1: text"  a dom0less domU's vpl011 output. Xen buffers it per domain and
//                       prints a line at '\n', or a 126-character chunk when its 128-byte
//                       buffer fills (the line goes on in the next chunk). A line the guest
//                       never terminates is never printed.
//   "(d1) text"         a domU's CONSOLEIO_write (needs guest_loglvl=all), buffered per line.
//   "(XEN) ..."         Xen itself, including the 'q' debug-key dump we use to see shut-down
//                       domains (Xen prints nothing when a domU calls SCHEDOP_shutdown).
//   anything else       the hardware domain's (dom0's) CONSOLEIO_write, printed raw; or
//                       QEMU's own messages.
// Xen ends every line with "\r\n"; the guest's own '\r' before '\n' comes through too.

/** Xen flushes a domU's vpl011 buffer when it holds this many characters (128 - '\n' - NUL). */
export const VPL011_CHUNK = 126;

export type ConsoleLine =
  | { kind: 'vpl011'; domid: number; text: string }
  | { kind: 'console_io'; domid: number; text: string }
  | { kind: 'xen'; text: string }
  | { kind: 'raw'; text: string };

const VPL011_RE = /^\(XEN\) DOM(\d+): (.*)$/s;
const CONSOLE_IO_RE = /^\(d(\d+)\) (.*)$/s;
const XEN_RE = /^\(XEN\) ?(.*)$/s;

/** Drops the line terminator: Xen's "\r\n" plus any '\r' the guest wrote before its '\n'. */
function trimEnd(line: string): string {
  return line.replace(/\r+$/, '');
}

export function classifyLine(rawLine: string): ConsoleLine {
  const line = trimEnd(rawLine);
  let m = VPL011_RE.exec(line);
  if (m) return { kind: 'vpl011', domid: Number(m[1]), text: m[2] };
  // A vpl011 line whose text is empty: Xen prints "DOMn: " and the trailing space survives.
  m = /^\(XEN\) DOM(\d+):$/.exec(line);
  if (m) return { kind: 'vpl011', domid: Number(m[1]), text: '' };
  m = CONSOLE_IO_RE.exec(line);
  if (m) return { kind: 'console_io', domid: Number(m[1]), text: m[2] };
  m = XEN_RE.exec(line);
  if (m) return { kind: 'xen', text: m[1] };
  return { kind: 'raw', text: line };
}

/** Splits a byte stream into lines; keeps the unterminated tail for the next chunk. */
export class LineSplitter {
  private tail = '';

  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const parts = text.split('\n');
    this.tail = parts.pop() ?? '';
    return parts;
  }

  /** The unterminated remainder (e.g. "3... 2... 1... " while Xen counts down). */
  pending(): string {
    return this.tail;
  }
}

/** One `dN: text` line of the transcript. */
export interface TranscriptLine {
  domid: number;
  text: string;
}

export function formatTranscriptLine(l: TranscriptLine): string {
  return `d${l.domid}: ${l.text}`;
}

/**
 * Reassembles guest lines. vpl011 chunks of exactly VPL011_CHUNK characters are joined
 * with the domain's next chunk: Xen flushed them because its buffer was full, not because
 * the guest ended the line. This is exact: a guest line of exactly 126 characters arrives
 * as the full chunk followed by an empty chunk (its '\n'), which joins back to the line.
 */
export class TranscriptAssembler {
  private readonly partial = new Map<number, string>();

  constructor(private readonly opts: { rejoinLongLines: boolean; dom0: boolean }) {}

  /** Returns the transcript lines this console line completes (zero or one). */
  accept(line: ConsoleLine): TranscriptLine[] {
    switch (line.kind) {
      case 'vpl011': {
        const before = this.partial.get(line.domid) ?? '';
        const text = before + line.text;
        if (this.opts.rejoinLongLines && line.text.length === VPL011_CHUNK) {
          this.partial.set(line.domid, text);
          return [];
        }
        this.partial.delete(line.domid);
        return [{ domid: line.domid, text }];
      }
      case 'console_io':
        return [{ domid: line.domid, text: line.text }];
      case 'raw':
        // Only a hardware domain writes to the console unprefixed; without one, raw lines
        // are QEMU's own chatter and not part of any guest's output.
        return this.opts.dom0 && line.text.length > 0 ? [{ domid: 0, text: line.text }] : [];
      case 'xen':
        return [];
    }
  }

  /** Chunks still waiting for a continuation when the run ends. */
  flush(): TranscriptLine[] {
    const out = [...this.partial].map(([domid, text]) => ({ domid, text }));
    this.partial.clear();
    return out;
  }
}

/** A guest's own verdict line; seeing it for every domain ends the run. */
export function isResultLine(text: string): boolean {
  return text.startsWith('Test result:');
}

// ---- the 'q' debug key dump ----------------------------------------------------------
//
// Xen 4.17 prints, per domain, "VCPU information and callbacks for domain N:" and for each
// vCPU a line "pause_count=P pause_flags=F". SCHEDOP_shutdown pauses every vCPU of the
// domain (pause_count >= 1), while a vCPU blocked in WFI only has pause_flags set. After all
// domains it prints "Notifying guest N:V (...)" lines; the first of those closes a snapshot.

export interface DomainPauseState {
  domid: number;
  vcpuPauseCounts: number[];
}

export class DumpParser {
  private current: number | undefined;
  private snapshot = new Map<number, number[]>();
  private inDump = false;

  /** Feed Xen's own lines; returns a completed snapshot when one closes. */
  accept(xenText: string): DomainPauseState[] | undefined {
    if (xenText.startsWith("'q' pressed")) {
      this.inDump = true;
      this.snapshot = new Map();
      this.current = undefined;
      return undefined;
    }
    if (!this.inDump) return undefined;
    let m = /^VCPU information and callbacks for domain (\d+):/.exec(xenText);
    if (m) {
      this.current = Number(m[1]);
      this.snapshot.set(this.current, []);
      return undefined;
    }
    m = /^\s*pause_count=(\d+) pause_flags=/.exec(xenText);
    if (m && this.current !== undefined) {
      this.snapshot.get(this.current)!.push(Number(m[1]));
      return undefined;
    }
    if (/^Notifying guest \d+:\d+/.test(xenText)) {
      this.inDump = false;
      return [...this.snapshot].map(([domid, vcpuPauseCounts]) => ({ domid, vcpuPauseCounts }));
    }
    return undefined;
  }
}

/** A domain is shut down (or crashed) when every one of its vCPUs is paused. */
export function isShutDown(s: DomainPauseState): boolean {
  return s.vcpuPauseCounts.length > 0 && s.vcpuPauseCounts.every((c) => c > 0);
}

/** "*** Serial input to Xen" / "... to DOM1": which side Xen now sends serial input to. */
export function parseSerialInputSwitch(xenText: string): 'xen' | number | undefined {
  const m = /\*\*\* Serial input to (Xen|DOM(\d+))/.exec(xenText);
  if (!m) return undefined;
  return m[1] === 'Xen' ? 'xen' : Number(m[2]);
}

/** Xen reports a guest it kills for a fault as crashed; note it so the run can end. */
export function parseCrash(xenText: string): number | undefined {
  const m = /Domain (\d+) \(vcpu#\d+\) crashed/.exec(xenText) ?? /^d(\d+)v\d+ .*crash/i.exec(xenText);
  return m ? Number(m[1]) : undefined;
}

/** Xen's boot is over and guests are about to run: it frees its init sections. */
export function isBootDone(xenText: string): boolean {
  return /^Freed \d+kB init memory/.test(xenText);
}
