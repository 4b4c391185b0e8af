// Decides when a real-Xen run is over. Pure: fed console text and clock readings, it
// answers with bytes to type on Xen's serial input; the caller owns processes and timers.
//
// A domain is finished when it printed a line starting "Test result:" or when it shut
// down. Xen 4.17 prints nothing when a domU calls SCHEDOP_shutdown, so once the guests
// have been quiet for a while we ask Xen: switch its serial input to Xen itself (Ctrl-A
// three times per step: DOM0 -> DOM1 -> ... -> DOMn -> Xen) and press 'q', whose dump
// shows every vCPU of a shut-down domain paused.
import {
  DumpParser,
  LineSplitter,
  TranscriptAssembler,
  classifyLine,
  formatTranscriptLine,
  isBootDone,
  isResultLine,
  isShutDown,
  parseCrash,
  parseSerialInputSwitch,
} from './xen-console.ts';

export interface MonitorOptions {
  /** Number of dom0less domUs; they are domains 1..domUs. */
  domUs: number;
  dom0: boolean;
  /**
   * The dom0 only has to exist (an idle one, which Xen 4.17 wants before it builds an
   * enhanced domU): the run is over when the domUs are, whatever dom0 does.
   */
  dom0Idle?: boolean;
  /** Quiet time before the first 'q' probe; doubles per probe up to maxProbeMs. */
  quietMs: number;
  maxProbeMs: number;
  /** Once every domain is finished, wait for this much silence to catch trailing lines. */
  settleMs: number;
  rejoinLongLines: boolean;
}

export const DEFAULT_MONITOR: Omit<MonitorOptions, 'domUs' | 'dom0'> = {
  quietMs: 300,
  maxProbeMs: 2000,
  settleMs: 250,
  rejoinLongLines: true,
};

const CTRL_A = '\x01';

export type Finish = 'result' | 'shutdown';

export class RunMonitor {
  readonly lines: string[] = [];
  /** When each of `lines` arrived, in ms on the caller's clock (e.g. to time a Linux boot). */
  readonly lineAtMs: number[] = [];
  firstGuestLineAt: number | undefined;
  /** Set when Xen itself died (panic); the run has failed. */
  fatal: string | undefined;
  /** Xen's line when the hardware domain shut down: that halts or resets the whole board. */
  hwdomShutdown: string | undefined;

  private readonly splitter = new LineSplitter();
  private readonly assembler: TranscriptAssembler;
  private readonly dump = new DumpParser();
  private readonly finished = new Map<number, Finish>();
  private readonly domains: number[];
  private bootDoneAt: number | undefined;
  private lastOutputAt = 0;
  private lastGuestAt = 0;
  private lastProbeAt = 0;
  private probeDelay: number;
  /** Where Xen sends serial input: 'xen' or a console_rx domain number (0 = DOM0). */
  private inputFocus: 'xen' | number | undefined;
  private switchRequested = false;
  private allFinishedAt: number | undefined;

  constructor(private readonly opts: MonitorOptions) {
    this.assembler = new TranscriptAssembler({ rejoinLongLines: opts.rejoinLongLines, dom0: opts.dom0 });
    this.domains = [...(opts.dom0 && !opts.dom0Idle ? [0] : []), ...Array.from({ length: opts.domUs }, (_, i) => i + 1)];
    this.probeDelay = opts.quietMs;
  }

  feed(chunk: string, now: number): void {
    this.lastOutputAt = now;
    for (const raw of this.splitter.push(chunk)) this.onLine(raw, now);
  }

  private onLine(raw: string, now: number): void {
    const line = classifyLine(raw);
    if (line.kind === 'xen') {
      if (isBootDone(line.text)) this.bootDoneAt ??= now;
      const focus = parseSerialInputSwitch(line.text);
      if (focus !== undefined) {
        this.inputFocus = focus;
        this.switchRequested = false;
      }
      if (/^Panic on CPU/.test(line.text) || /^\*\*\*\* PANIC/.test(line.text)) this.fatal ??= `Xen panicked: ${line.text}`;
      const crashed = parseCrash(line.text);
      if (crashed !== undefined) this.finish(crashed, 'shutdown', now);
      if (/^Hardware Dom0 /.test(line.text)) {
        this.hwdomShutdown ??= line.text;
        this.finish(0, 'shutdown', now);
      }
      const snapshot = this.dump.accept(line.text);
      if (snapshot) for (const s of snapshot) if (isShutDown(s)) this.finish(s.domid, 'shutdown', now);
      return;
    }
    for (const t of this.assembler.accept(line)) this.emit(t.domid, t.text, now);
  }

  private emit(domid: number, text: string, now: number): void {
    this.lines.push(formatTranscriptLine({ domid, text }));
    this.lineAtMs.push(now);
    this.firstGuestLineAt ??= now;
    this.lastGuestAt = now;
    // New output from a domain means it is alive: probe again soon after it goes quiet.
    this.probeDelay = this.opts.quietMs;
    if (isResultLine(text)) this.finish(domid, 'result', now);
  }

  private finish(domid: number, how: Finish, now: number): void {
    if (!this.domains.includes(domid)) return;
    if (this.finished.get(domid) === 'result') return;
    this.finished.set(domid, how);
    if (this.domains.every((d) => this.finished.has(d))) this.allFinishedAt ??= now;
  }

  /** Called on a timer: what to type now (possibly nothing). */
  tick(now: number): string {
    if (this.fatal || this.done(now) || this.bootDoneAt === undefined) return '';
    if (this.allFinishedAt !== undefined) return '';
    const since = Math.max(this.lastGuestAt, this.lastProbeAt, this.bootDoneAt);
    if (now - since < this.probeDelay) return '';
    this.lastProbeAt = now;
    if (this.inputFocus !== 'xen') {
      if (this.switchRequested) {
        // No echo of the last switch request: step once more and look again.
        return CTRL_A.repeat(3);
      }
      this.switchRequested = true;
      if (typeof this.inputFocus !== 'number') return CTRL_A.repeat(3);
      // console_rx counts 1 = DOM0, 2 = DOM1, ..., domUs + 1 = DOMn, then wraps to Xen.
      // Xen handles the bytes in order, so the 'q' after the last switch reaches Xen.
      // All switches go in one write: while a domU holds the input focus Xen prints its
      // output raw, unprefixed, so that window must be as short as possible.
      const steps = this.opts.domUs + 1 - this.inputFocus;
      this.probeDelay = Math.min(this.probeDelay * 2, this.opts.maxProbeMs);
      return CTRL_A.repeat(3 * Math.max(1, steps)) + 'q';
    }
    this.probeDelay = Math.min(this.probeDelay * 2, this.opts.maxProbeMs);
    return 'q';
  }

  /** All domains finished and the console has settled. */
  done(now: number): boolean {
    return this.allFinishedAt !== undefined && now - Math.max(this.lastOutputAt, this.allFinishedAt) >= this.opts.settleMs;
  }

  /** Lines still held back (long-line chunks) are released at the end of the run. */
  finalLines(): string[] {
    return [...this.lines, ...this.assembler.flush().map(formatTranscriptLine)];
  }

  ended(): 'all-results' | 'all-shutdown' | 'mixed' {
    const kinds = new Set(this.finished.values());
    if (kinds.size === 1) return kinds.has('result') ? 'all-results' : 'all-shutdown';
    return 'mixed';
  }

  unfinished(): number[] {
    return this.domains.filter((d) => !this.finished.has(d));
  }
}
