/**
 * The library API: a machine of Xen domains that a test drives from JavaScript, without a
 * process of its own. `xenvm-emu run` is built on it (src/cli/run.ts); docs/api.md is the guide.
 *
 * The scheduler (src/machine/machine.ts) is synchronous. Here it runs one scheduling decision
 * at a time and yields to the event loop every SLICE_MS of wall-clock time, and at once after a
 * decision that printed a line some `waitForLine` was waiting for. So timers (a wait's timeout)
 * fire during a run, and the code after `await m.waitForLine(...)` runs before the guest goes on:
 * an `injectEvent` there lands at a deterministic point of the guest's execution.
 */
import { TraceBus } from '../trace/bus.ts';
import { ProtocolChecker, type CheckReport } from '../check/checker.ts';
import type { TraceEvent } from '../trace/events.ts';
import type { XsmPolicy } from '../xen/hypervisor.ts';
import type { PortReport } from '../xen/ops/install.ts';
import { Machine, type RunEnd } from '../machine/machine.ts';
import type { MachineDomain, RunState } from '../machine/domain.ts';
import { describeWaiting, domainOk, domainSource, domainSpec, machineOptions, summarizeRun, type GdbRunOptions } from '../machine/run.ts';
import { consolePrefix } from '../machine/domain-options.ts';
import type { Result } from '../machine/result.ts';
import { XenvmError } from './errors.ts';

/** One domain: its image and the options `--domain dN,...` gives on the command line. */
export interface DomainConfig {
  /** An ELF64 or arm64 `Image`: a file path, or the bytes themselves. */
  image: string | Uint8Array;
  /** Name in traces and reports (default: the image's file name, else `dN`). */
  name?: string;
  /** RAM in MiB (default: the machine's `memoryMiB`, else the devicetree's). */
  memoryMiB?: number;
  /** GIC version this domain's board must have (default: the machine's `gic`, else the devicetree's). */
  gic?: 2 | 3;
  /**
   * Devicetree blob, as a path or bytes (default: the machine's `dtb`, else `board.dtb` beside
   * an image given by path, else the tree Xen 4.17 builds for a plain dom0less domU of this GIC and memory).
   */
  dtb?: string | Uint8Array;
  /** Text before each line of the transcript (default `dN: `). */
  consolePrefix?: string;
  /** Initial ramdisk, as a path or bytes (default: the machine's `initrd`), as `initrd=`. */
  initrd?: string | Uint8Array;
  /** Kernel command line, /chosen/bootargs (default: the machine's `cmdline`), as `cmdline=`. */
  cmdline?: string;
  /** Xen's `xen,enhanced` (default: the machine's `enhanced`, else no), as `enhanced=yes|no`. */
  enhanced?: boolean;
  /** vCPUs (default: the machine's `cpus`, else 1), as `cpus=`: vCPU 0 boots, the others wait for PSCI CPU_ON. */
  cpus?: number;
}

export interface MachineConfig {
  /** domUs, d1, d2, ... in order (like Xen's dom0less domUs). */
  domains: DomainConfig[];
  /** A privileged dom0 (domid 0), as `--dom0`. */
  dom0?: DomainConfig;
  /** XSM policy (default `dummy`; `silo` denies domU<->domU channels). */
  xsm?: XsmPolicy;
  /** Defaults for every domain, as `--gic`, `--dtb`, `--memory`. */
  gic?: 2 | 3;
  dtb?: string;
  memoryMiB?: number;
  /** Defaults for every domain, as `--initrd` and `--cmdline`. */
  initrd?: string | Uint8Array;
  cmdline?: string;
  /** Default for every domU, as `--enhanced`: the hypervisor node and xenstore HVM params. */
  enhanced?: boolean;
  /** Default vCPUs of every domain, as `--cpus`. */
  cpus?: number;
  /** Wall-clock bound on the whole run in ms (default: none); the run ends with `timeout`. */
  timeoutMs?: number;
  /** Bound on guest instructions, every domain together (exact). */
  maxInstructions?: number;
  /** Host memory one domain's RAM may use, in MiB (default 2048; 0 = no limit), as `--max-host-memory`. */
  maxHostMemoryMiB?: number;
  /** Console bytes one domain may print (default 16 MiB; 0 = no limit), as `--max-console-bytes`. */
  maxConsoleBytes?: number;
  /** Guest instructions per scheduling quantum (default 100,000). */
  quantum?: number;
  /** Varies the quanta reproducibly (as `--seed`). */
  seed?: number;
  /**
   * Count instructions even for a lone domain (default true): virtual time and per-domain
   * instruction counts, and a run that yields to the event loop however the guest behaves.
   * `false` lets a lone domain run uncounted at full engine speed, as the command line does;
   * such a run yields only when the guest stops (hypercall, WFI).
   */
  counted?: boolean;
  /** Record trace events (docs/trace.md): `true` to subscribe later with `onTrace`, or a first subscriber. */
  trace?: boolean | ((e: TraceEvent) => void);
  /** Every console line as it is printed. */
  onLine?: (line: ConsoleLine) => void;
  /** Status messages (shutdowns, faults, limits): what the command line prints after `xenvm-emu: `. */
  onStatus?: (text: string) => void;
  /** Serve GDB's remote protocol (docs/gdb.md), as `--gdb`. */
  gdb?: GdbRunOptions;
  /**
   * Check the guests' side of the event-channel ABI as they run (docs/check.md), as `--check`:
   * `true`, or a function called with each report as it happens. Reports are in the run's
   * `checks`, and any report makes an otherwise successful exit status 1.
   */
  check?: boolean | ((r: CheckReport) => void);
  /** @internal An existing trace bus with sinks attached (the command line's text/JSONL/Perfetto views). */
  traceBus?: TraceBus;
}

export interface ConsoleLine {
  domid: number;
  /** The text the guest printed, without a line ending. */
  text: string;
  /** As in the transcript: the domain's prefix (`dN: `) and the text. */
  line: string;
  /** Position in the machine's transcript, from 0. */
  index: number;
}

export interface LineMatch extends ConsoleLine {
  /** The match of the pattern against `text`. */
  match: RegExpExecArray;
}

export interface WaitOptions {
  /** Reject with a `timeout` XenvmError after this many ms of wall-clock time (default: wait for the run's end). */
  timeout?: number;
  /** Only lines of this domain. */
  domid?: number;
}

export interface DomainInfo {
  domid: number;
  name: string;
  privileged: boolean;
  /** What the vCPU is doing: runnable, wfi, blocked (SCHEDOP_block), poll, done. */
  state: RunState['kind'];
  /** Text after `Test result:` once the guest printed it. */
  result?: string;
  /** Why the domain ended (`shutdown: poweroff`, `fault: ...`), once it has. */
  end?: string;
  /** Finished well so far: no failing result, fault or crash. */
  ok: boolean;
  /** Guest instructions this domain retired (0 for an uncounted lone domain). */
  instructions: number;
  /** Console lines it printed. */
  consoleLines: number;
}

/** One event channel of a domain, as `xen-event-list` shows it. */
export type EventChannelInfo = PortReport;

/** How a run ended: the scheduler's reasons, or `stopped` when `close()` ended it early. */
export type RunEndReason = RunEnd | { kind: 'stopped' };

export interface RunReport {
  /** 0 every domain finished well; 1 a domain failed; 3 a time or instruction limit, or stopped; 4 deadlock. */
  exitCode: number;
  end: RunEndReason;
  /** What the command line prints last, after `xenvm-emu: ` (timeouts, deadlock report, failing results). */
  message?: string;
  domains: DomainInfo[];
  /** The transcript, `dN: text` per line, in the order printed. */
  lines: string[];
  /** Status messages, in order. */
  status: string[];
  /** Virtual time at the end: instructions retired by every domain plus idle time skipped
   *  (exact: a bigint once a far deadline moved it past 2^53). */
  instructions: number | bigint;
  wallMs: number;
  /** Protocol-checker reports, in order (only with `check`). */
  checks?: CheckReport[];
}

/** Wall-clock time the scheduler runs before it lets timers and I/O in. */
const SLICE_MS = 10;


interface Waiter {
  re: RegExp;
  domid: number | undefined;
  resolve(m: LineMatch): void;
  reject(e: XenvmError): void;
  timer?: ReturnType<typeof setTimeout>;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** Builds a machine, or an error with the command line's message. */
export function buildMachine(config: MachineConfig): Result<XenvmMachine, XenvmError> {
  return XenvmMachine.build(config);
}

/** Builds a machine; throws a `bad-input` XenvmError with the command line's message. */
export function createMachine(config: MachineConfig): XenvmMachine {
  const r = XenvmMachine.build(config);
  if (!r.ok) throw r.error;
  return r.value;
}

export class XenvmMachine {
  private readonly machine: Machine;
  private readonly config: MachineConfig;
  private readonly bus: TraceBus;
  private checker: ProtocolChecker | undefined;
  private readonly privileged = new Set<number>();
  /** Initrd files read once however many domains share them. */
  private readonly initrds = new Map<string, Uint8Array>();
  private readonly all: ConsoleLine[] = [];
  private readonly statusLines: string[] = [];
  private readonly perDomainLines = new Map<number, number>();
  private readonly waiters = new Set<Waiter>();
  /** Lines before this index were consumed by an earlier waitForLine. */
  private cursor = 0;
  private running: Promise<RunReport> | undefined;
  private finalReport: RunReport | undefined;
  private pauseAfterDecision = false;
  private stopRequested = false;
  private closed = false;
  /** Resolves a deadlocked run's wait for the host (an injection, a waiter giving up, close). */
  private hostNudge: (() => void) | undefined;
  /** Instruction counts read before the engines were freed. */
  private retiredAtClose: Map<number, number> | undefined;
  private t0 = 0;

  private constructor(config: MachineConfig, bus: TraceBus) {
    this.config = config;
    this.bus = bus;
    const n = (config.domains ?? []).length + (config.dom0 ? 1 : 0);
    const prefixes = new Map<number, string>();
    if (config.dom0) prefixes.set(0, consolePrefix(0, { consolePrefix: config.dom0.consolePrefix }));
    (config.domains ?? []).forEach((d, i) => prefixes.set(i + 1, consolePrefix(i + 1, { consolePrefix: d.consolePrefix })));
    this.machine = new Machine({
      // Counted unless the caller opts out (counted: false); the checker needs virtual time.
      ...machineOptions(config, { domains: n, trace: bus, counted: config.counted !== false || !!config.check }),
      onConsole: (domid, text) => this.consoleLine(domid, prefixes.get(domid) ?? `d${domid}: `, text),
      onStatus: (s) => this.status(s),
    });
  }

  /** Builds a machine: reads each image and devicetree and loads every domain. */
  static build(config: MachineConfig): Result<XenvmMachine, XenvmError> {
    const bad = (message: string) => ({ ok: false as const, error: new XenvmError('bad-input', message) });
    const specs = [
      ...(config.dom0 ? [{ domid: 0, d: config.dom0, privileged: true }] : []),
      ...(config.domains ?? []).map((d, i) => ({ domid: i + 1, d, privileged: false })),
    ];
    if (specs.length === 0) return bad('no images given');
    const bus = config.traceBus ?? new TraceBus();
    if (typeof config.trace === 'function') bus.attach(config.trace);
    else if (config.trace === true && !bus.on) bus.attach(() => {});
    const checker = config.check ? new ProtocolChecker(bus, typeof config.check === 'function' ? config.check : undefined) : undefined;
    const m = new XenvmMachine(config, bus);
    m.checker = checker;
    checker?.attach(m.machine);
    for (const s of specs) {
      const r = m.addDomain(s.domid, s.d, s.privileged);
      if (!r.ok) {
        m.machine.close();
        return bad(r.error);
      }
    }
    return { ok: true, value: m };
  }

  private addDomain(domid: number, d: DomainConfig, privileged: boolean): Result<MachineDomain> {
    const spec = domainSpec(domainSource(domid, privileged, d.image, d, this.config), this.initrds);
    if (!spec.ok) return spec;
    if (privileged) this.privileged.add(domid);
    const r = this.machine.addDomain(spec.value);
    if (r.ok) this.checker?.domainAdded(r.value);
    return r;
  }

  private consoleLine(domid: number, prefix: string, text: string): void {
    const l: ConsoleLine = { domid, text, line: prefix + text, index: this.all.length };
    this.all.push(l);
    this.perDomainLines.set(domid, (this.perDomainLines.get(domid) ?? 0) + 1);
    this.config.onLine?.(l);
    for (const w of this.waiters) {
      const m = this.matches(w, l);
      if (m) {
        this.settle(w);
        this.cursor = Math.max(this.cursor, l.index + 1);
        // Let the waiting code run before the guest goes on.
        this.pauseAfterDecision = true;
        w.resolve({ ...l, match: m });
      }
    }
  }

  private status(s: string): void {
    this.statusLines.push(s);
    this.config.onStatus?.(s);
  }

  private matches(w: Pick<Waiter, 're' | 'domid'>, l: ConsoleLine): RegExpExecArray | null {
    if (w.domid !== undefined && w.domid !== l.domid) return null;
    w.re.lastIndex = 0;
    return w.re.exec(l.text);
  }

  private settle(w: Waiter): void {
    this.waiters.delete(w);
    if (w.timer) clearTimeout(w.timer);
    this.hostNudge?.();
  }

  // ------------------------------------------------------------------ running

  /** Starts the run in the background (once); `run()` and `waitForLine` start it too. */
  start(): void {
    if (this.running || this.closed) return;
    this.t0 = performance.now();
    this.running = this.loop();
    // A run nobody awaits must not report an unhandled rejection; errors reach `run()` callers.
    this.running.catch(() => {});
  }

  /** Runs to the end (every domain reported or shut down, a limit, a deadlock) and reports. */
  run(): Promise<RunReport> {
    if (this.finalReport) return Promise.resolve(this.finalReport);
    if (this.closed) return Promise.reject(new XenvmError('run-ended', 'the machine is closed'));
    this.start();
    return this.running!;
  }

  /** The report once the run has ended, else undefined. */
  get report(): RunReport | undefined {
    return this.finalReport;
  }

  private async loop(): Promise<RunReport> {
    try {
      return this.finish(await this.runToEnd());
    } catch (e) {
      // An error inside the run (not a guest's: those end its domain) also ends every wait.
      const why = e instanceof Error ? e.message : String(e);
      for (const w of [...this.waiters]) {
        this.settle(w);
        w.reject(new XenvmError('run-ended', `waitForLine ${w.re}: the run failed: ${why}`));
      }
      throw e;
    }
  }

  private async runToEnd(): Promise<RunEndReason> {
    const limits = { timeoutMs: this.config.timeoutMs, maxInstructions: this.config.maxInstructions };
    let end: RunEndReason;
    if (this.config.gdb) {
      end = await this.runUnderGdb(this.config.gdb, limits);
    } else {
      // Let the caller's synchronous code after start() run first (e.g. a second waitForLine).
      await Promise.resolve();
      const step = this.machine.beginRun(limits);
      let sliceStart = performance.now();
      for (;;) {
        if (this.stopRequested) {
          end = { kind: 'stopped' };
          break;
        }
        const e = step();
        if (e) {
          // Deadlocked while the host still waits on it: an injected event may yet wake a domain.
          if (e.kind === 'deadlock' && this.waiters.size > 0) {
            const left = limits.timeoutMs === undefined ? undefined : Math.max(0, limits.timeoutMs - (performance.now() - this.t0));
            let timer: ReturnType<typeof setTimeout> | undefined;
            await new Promise<void>((r) => {
              this.hostNudge = r;
              // The run's own timeout still applies; the next decision reports it.
              if (left !== undefined) timer = setTimeout(r, left);
            });
            clearTimeout(timer);
            this.hostNudge = undefined;
            sliceStart = performance.now();
            continue;
          }
          end = e;
          break;
        }
        if (this.pauseAfterDecision || performance.now() - sliceStart >= SLICE_MS) {
          this.pauseAfterDecision = false;
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
    }
    return end;
  }

  private async runUnderGdb(gdb: GdbRunOptions, limits: { timeoutMs?: number; maxInstructions?: number }): Promise<RunEndReason> {
    // Loaded only when asked for: a plain run does not pay for the debugger's code.
    const { GdbController } = await import('../gdb/controller.ts');
    const g = await GdbController.start(this.machine, { port: gdb.port, wait: gdb.wait, log: (t) => this.config.onStatus?.(t) });
    if (!g.ok) throw new XenvmError('bad-input', g.error);
    gdb.onListening?.(g.gdb.ports());
    try {
      const end = await this.machine.runAsync(limits, g.gdb);
      g.gdb.finish(end);
      return end;
    } finally {
      await g.gdb.close();
    }
  }

  private finish(end: RunEndReason): RunReport {
    for (const d of this.machine.domains) {
      if (d.pl011.partial) this.status(`d${d.domid} left an unterminated console line: ${JSON.stringify(d.pl011.partial)}`);
    }
    const domains = this.domains();
    // A run the host stopped early counts as a limit; every other end is the command line's.
    const summary =
      end.kind === 'stopped'
        ? { exitCode: 3, message: `stopped: the machine was closed before every domain finished (${describeWaiting(domains)})` }
        : summarizeRun(end, domains);
    this.checker?.finish();
    const checks = this.checker?.reports;
    const message = summary.message ?? (checks?.length ? `check: ${checks.length} violation${checks.length === 1 ? '' : 's'} of the event-channel ABI (docs/check.md)` : undefined);
    // A protocol violation fails a run that would otherwise pass; other failures keep their status.
    const exitCode = checks?.length && summary.exitCode === 0 ? 1 : summary.exitCode;
    const report: RunReport = {
      checks: checks ? [...checks] : undefined,
      exitCode,
      end,
      message,
      domains,
      lines: this.transcript(),
      status: [...this.statusLines],
      instructions: this.now(),
      wallMs: performance.now() - this.t0,
    };
    this.finalReport = report;
    const why = `the run ended (${end.kind}${message ? `: ${message.split('\n')[0]}` : ''}) without a matching line`;
    for (const w of [...this.waiters]) {
      this.settle(w);
      w.reject(new XenvmError('run-ended', `waitForLine ${w.re}: ${why}`));
    }
    return report;
  }

  // ------------------------------------------------------------------ console

  /**
   * Resolves with the first console line matching `pattern` (a RegExp, or a string to find)
   * after the last line an earlier `waitForLine` matched; already printed lines count. Starts
   * the run if it is not running. Rejects with a XenvmError of kind `timeout`, or `run-ended`
   * when the run ends first. The machine pauses after the scheduling decision that printed the
   * matching line (the guest may run on to the end of that quantum, or of its run when
   * uncounted) until the code after the `await` yields, so what that code does (e.g.
   * `injectEvent`) happens at a reproducible point.
   */
  waitForLine(pattern: RegExp | string, opts: WaitOptions = {}): Promise<LineMatch> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const probe = { re, domid: opts.domid };
    for (let i = this.cursor; i < this.all.length; i++) {
      const m = this.matches(probe, this.all[i]);
      if (m) {
        this.cursor = i + 1;
        return Promise.resolve({ ...this.all[i], match: m });
      }
    }
    if (this.finalReport || this.closed) {
      return Promise.reject(new XenvmError('run-ended', `waitForLine ${re}: the run ended (${this.finalReport?.end.kind ?? 'closed'}) without a matching line`));
    }
    return new Promise<LineMatch>((resolve, reject) => {
      const w: Waiter = { re, domid: opts.domid, resolve, reject };
      if (opts.timeout !== undefined) {
        w.timer = setTimeout(() => {
          this.settle(w);
          reject(new XenvmError('timeout', `waitForLine ${re}: no matching line within ${opts.timeout} ms`));
        }, opts.timeout);
      }
      this.waiters.add(w);
      this.start();
    });
  }

  /** The transcript so far: `dN: text` per line (each domain's prefix), in the order printed; of one domain, or all. */
  transcript(domid?: number): string[] {
    return (domid === undefined ? this.all : this.all.filter((l) => l.domid === domid)).map((l) => l.line);
  }

  /** Console lines so far, of one domain or of all. */
  lines(domid?: number): ConsoleLine[] {
    return domid === undefined ? [...this.all] : this.all.filter((l) => l.domid === domid);
  }

  // ------------------------------------------------------------------ domains

  /** Every domain, in domid order. */
  domains(): DomainInfo[] {
    return this.machine.domains.map((d) => this.info(d));
  }

  /** One domain; throws a `bad-request` XenvmError for a domid the machine does not have. */
  domain(domid: number): DomainInfo {
    return this.info(this.find(domid));
  }

  private find(domid: number): MachineDomain {
    const d = this.machine.domains.find((x) => x.domid === domid);
    if (!d) {
      const have = this.machine.domains.map((x) => `d${x.domid}`).join(', ');
      throw new XenvmError('bad-request', `no domain d${domid} in this machine (domains: ${have})`);
    }
    return d;
  }

  private info(d: MachineDomain): DomainInfo {
    const end = d.state.kind === 'done' ? d.state.reason : undefined;
    return {
      domid: d.domid,
      name: d.name,
      privileged: this.privileged.has(d.domid),
      state: d.state.kind,
      result: d.result,
      end,
      ok: domainOk(d.result, end),
      instructions: this.retiredAtClose?.get(d.domid) ?? d.retired,
      consoleLines: this.perDomainLines.get(d.domid) ?? 0,
    };
  }

  /** Virtual time: guest instructions retired by every domain plus idle time skipped. */
  now(): number | bigint {
    if (this.retiredAtClose) return this.finalReport?.instructions ?? [...this.retiredAtClose.values()].reduce((a, b) => a + b, 0);
    return this.machine.now();
  }

  // ------------------------------------------------------------------ events

  /** The domain's event channels in use (port 0 is Xen's reserved one), as `xen-event-list` lists them. */
  eventChannels(domid: number): EventChannelInfo[] {
    this.find(domid);
    return this.machine.xen.portStates(domid);
  }

  /**
   * Raises an event on one of the domain's own ports from the host, as QEMU's
   * `xen-event-inject` does: the port becomes pending and the guest gets its upcall (unless
   * the port is masked). A domain blocked or polling on it wakes. Throws a `bad-request`
   * XenvmError for a port that is not in use.
   */
  injectEvent(domid: number, port: number): void {
    const d = this.find(domid);
    if (!Number.isInteger(port) || port < 0) throw new XenvmError('bad-request', `injectEvent: d${domid} port ${port} is not a port number`);
    const r = this.machine.xen.evtchn.hostSetPending(d.domid, port);
    if (!r.ok) {
      const st = this.machine.xen.portStates(domid).find((p) => p.port === port)?.state ?? 'free';
      throw new XenvmError('bad-request', `injectEvent: d${domid} port ${port} is not in use (${st}; -${r.error})`);
    }
    this.hostNudge?.();
  }

  /**
   * Subscribes to trace events (docs/trace.md); returns the unsubscribe function. The machine
   * must have been built with `trace` set: what is traced is decided when domains are loaded.
   */
  onTrace(listener: (e: TraceEvent) => void): () => void {
    if (!this.bus.on) throw new XenvmError('bad-request', 'onTrace: build the machine with { trace: true } to record trace events');
    let on = true;
    this.bus.attach((e) => on && listener(e));
    return () => {
      on = false;
    };
  }

  // ------------------------------------------------------------------ end

  /**
   * Stops a run in progress (it ends as `stopped`) and frees the engines. Reports, transcripts
   * and event-channel lists stay readable. Safe to call more than once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.running && !this.finalReport) {
      this.stopRequested = true;
      this.hostNudge?.();
      await this.running.catch(() => {});
    }
    this.closed = true;
    this.retiredAtClose = new Map(this.machine.domains.map((d) => [d.domid, d.retired]));
    for (const w of [...this.waiters]) {
      this.settle(w);
      w.reject(new XenvmError('run-ended', `waitForLine ${w.re}: the machine was closed`));
    }
    this.machine.close();
  }
}
