// `xenvm-emu run`: run guest images under the emulator, one domain each, through the library
// API (src/api): the command line adds only its option syntax and its output conventions.
import { buildMachine, type DomainConfig, type MachineConfig } from '../api/machine.ts';
import { XenvmError } from '../api/errors.ts';
import type { RunOptions } from '../machine/run.ts';
import { collectDomainOptions, MAX_CPUS, MAX_MEMORY_MIB } from '../machine/domain-options.ts';
import type { Result } from '../machine/result.ts';
import { TraceBus } from '../trace/bus.ts';
import { FILTER_HELP, parseFilterOption, type TraceFilter } from '../trace/filter.ts';
import { intOption, parseArgs, type OptionSpec } from './args.ts';
import { formatReport, type CheckReport } from '../check/checker.ts';

/** A check report on stderr: its line, then the domain's trace events just before it. */
export function formatReportLines(r: CheckReport): string {
  return [`xenvm-emu: ${formatReport(r)}`, ...r.context.map((c) => `xenvm-emu:   before: ${c.trim()}`)].join('\n') + '\n';
}

export const RUN_USAGE = `usage: xenvm-emu run [options] IMAGE...

Runs each IMAGE (ELF64 or arm64 Image) as a domain of its own, d1, d2, ... in order (like Xen's
dom0less domUs), and prints every console line of domain N as "dN: text" on stdout. Each guest
starts at EL1h with the MMU off, x0 = the address of its devicetree blob. Status messages
(shutdowns, faults, limits) go to stderr as "xenvm-emu: ...".

The run ends when every domain has printed a line starting "Test result:" or shut down
(SCHEDOP_shutdown, PSCI SYSTEM_OFF). Exit status: 0 every domain finished well; 1 a domain
failed (Test result other than SUCCESS/SKIP, crash, fault); 2 bad input; 3 timeout or
instruction limit; 4 deadlock (every domain waits and nothing can wake it).

options:
  --dom0 IMAGE            also run IMAGE as the privileged dom0 (domid 0)
  --domain dN,KEY=VALUE,...  options for one domain (repeatable): memory=MiB, name=NAME,
                          gic=2|3, cpus=N, dtb=FILE, prefix=TEXT (console line prefix instead of "dN: "),
                          initrd=FILE, enhanced=yes|no, cmdline=TEXT (last: it takes the rest,
                          commas included)
  --gic 2|3               GIC version (default: what the devicetree says)
  --dtb FILE              devicetree for every domain (default: board.dtb beside each image,
                          else the tree Xen 4.17 builds for a plain dom0less domU of this
                          GIC and memory)
  --memory MiB            RAM per domain, 1 to ${MAX_MEMORY_MIB} (Xen's first guest RAM bank; default: the
                          devicetree's, 64 MiB on our boards). The host pays only for pages
                          the guest touches
  --initrd FILE           initial ramdisk for every domain: placed after the devicetree as Xen
                          4.17 places it, and named in /chosen (linux,initrd-start/-end)
  --cmdline TEXT          kernel command line for every domain (/chosen/bootargs)
  --enhanced              every domU is "enhanced" (Xen's xen,enhanced): the generated devicetree
                          gets the hypervisor node, and with a dom0 the xenstore channel and
                          HVM params; without a dom0 as later Xen's no-xenstore mode (default:
                          plain domUs, as the firmware's goldens were recorded)
  --cpus N                vCPUs per domain, 1 to 32 (8 with GICv2; default: the cpu nodes of a
                          given devicetree, else 1; the generated devicetree gets N): vCPU 0
                          boots, the others start down until the guest starts them with PSCI CPU_ON
  --xsm dummy|silo        XSM policy: dummy (upstream default) or silo (no domU<->domU channels)
  --timeout SECONDS       wall-clock bound (default 60; 0 = none)
  --max-instructions N    bound on guest instructions, all domains together
  --seed N                vary scheduling quanta reproducibly (printed, for replay)
  --quantum N             instructions per scheduling quantum (default 100000)
  --max-host-memory MiB   host memory one domain's RAM may use, counted in pages the guest
                          touched (default 2048; 0 = no limit). A domain past it ends with a
                          report (domain, vCPU, PC); the others go on
  --max-console-bytes N   console output one domain may print (default 16777216; 0 = no
                          limit); past it, one "console output truncated" line, then nothing
  --check                 check each guest's side of the event-channel ABI as it runs and
                          report every violation as "xenvm-emu: check: dN vV pc=... rule=...";
                          any report makes the exit status 1 (docs/check.md)
  --seeds A..B            with --check: explore the schedules of seeds A to B in parallel
                          processes and report each distinct failure once (xenvm-emu check);
                          --jobs N sets the number of processes
  --trace                 print one line per hypercall and event to stderr
  --trace-filter EXPR     with --trace (implied): print only matching events; may be repeated.
                          ${FILTER_HELP}
  --trace-file FILE       write every event to FILE as JSON Lines (docs/trace.md); re-render
                          it with 'xenvm-emu trace FILE'
  --perfetto FILE         write every event to FILE as Chrome trace-event JSON for
                          ui.perfetto.dev or chrome://tracing (1 us on its axis = 1 instruction)
  --trace-max-bytes N     stop writing --trace-file and --perfetto files at N bytes each
                          (whole events only; a Perfetto file stays valid JSON); default none
  --gdb PORT              serve GDB's remote protocol on 127.0.0.1, one port per domain: the
                          first domain (dom0 if given, else d1) on PORT, the next on PORT+1, ...
                          (0 = free ports; each is printed). Connect with gdb-multiarch:
                          'target remote :PORT'. While any domain is stopped, all are (docs/gdb.md)
  --gdb-wait              with --gdb: stop before the first instruction until a debugger
                          resumes; without --timeout, a --gdb run has no time limit
  -h, --help              this text`;

const SPEC: Record<string, OptionSpec> = {
  '--dom0': { value: true },
  '--domain': { value: true, repeat: true },
  '--gic': { value: true },
  '--dtb': { value: true },
  '--memory': { value: true },
  '--cpus': { value: true },
  '--initrd': { value: true },
  '--cmdline': { value: true },
  '--enhanced': { value: false },
  '--xsm': { value: true },
  '--timeout': { value: true },
  '--max-instructions': { value: true },
  '--seed': { value: true },
  '--quantum': { value: true },
  '--max-host-memory': { value: true },
  '--max-console-bytes': { value: true },
  '--trace-max-bytes': { value: true },
  '--check': { value: false },
  '--seeds': { value: true },
  '--jobs': { value: true },
  '--trace': { value: false },
  '--trace-filter': { value: true, repeat: true },
  '--trace-file': { value: true },
  '--perfetto': { value: true },
  '--gdb': { value: true },
  '--gdb-wait': { value: false },
  '--help': { value: false },
  '-h': { value: false },
};

export type RunCliOptions = RunOptions & {
  traceText: boolean;
  /** Text-view filter (--trace-filter). */
  traceFilter?: TraceFilter;
  /** JSONL output file (--trace-file). */
  traceFile?: string;
  /** Perfetto output file (--perfetto). */
  perfetto?: string;
  /** Size limit of each trace file (--trace-max-bytes). */
  traceMaxBytes?: number;
  /** The protocol checker (--check). */
  check?: boolean;
  /** Schedule exploration (--seeds A..B): handled by the check command. */
  seeds?: string;
  /** Worker processes of that exploration (--jobs). */
  jobs?: number;
};

/** Parses `run` arguments; shared with `demo` and `diff`. */
export function parseRunArgs(argv: string[]): { ok: true; help: boolean; opts: RunCliOptions } | { ok: false; error: string } {
  const p = parseArgs(argv, SPEC);
  if (!p.ok) return p;
  const o = p.options;
  const one = (k: string) => o.get(k)?.[0];
  const help = o.has('--help') || o.has('-h');
  const opts: RunCliOptions = { images: p.positional, traceText: o.has('--trace') };
  const gic = one('--gic');
  if (gic !== undefined) {
    if (gic !== '2' && gic !== '3') return { ok: false, error: `--gic takes 2 or 3, not '${gic}'` };
    opts.gic = gic === '2' ? 2 : 3;
  }
  const xsm = one('--xsm');
  if (xsm !== undefined) {
    if (xsm !== 'dummy' && xsm !== 'silo') return { ok: false, error: `--xsm takes dummy or silo, not '${xsm}'` };
    opts.xsm = xsm;
  }
  const filters = o.get('--trace-filter');
  if (filters) {
    const f = parseFilterOption(filters);
    if (!f.ok) return f;
    opts.traceFilter = f.filter;
    opts.traceText = true;
  }
  opts.traceFile = one('--trace-file');
  if (o.has('--check')) opts.check = true;
  opts.seeds = one('--seeds');
  if (opts.seeds !== undefined && !opts.check) return { ok: false, error: '--seeds needs --check' };
  opts.perfetto = one('--perfetto');
  opts.dom0 = one('--dom0');
  opts.domainOptions = o.get('--domain');
  opts.dtb = one('--dtb');
  opts.initrd = one('--initrd');
  if (opts.initrd === '') return { ok: false, error: '--initrd needs a file name' };
  opts.cmdline = one('--cmdline');
  if (o.has('--enhanced')) opts.enhanced = true;
  const ints: [string, number, number, (v: number | undefined) => void][] = [
    ['--memory', 1, MAX_MEMORY_MIB, (v) => (opts.memoryMiB = v)],
    ['--cpus', 1, MAX_CPUS, (v) => (opts.cpus = v)],
    ['--timeout', 0, 86400, (v) => (opts.timeoutMs = v === undefined ? 60_000 : v === 0 ? undefined : v * 1000)],
    ['--max-instructions', 1, Number.MAX_SAFE_INTEGER, (v) => (opts.maxInstructions = v)],
    ['--seed', 0, 0xffffffff, (v) => (opts.seed = v)],
    ['--quantum', 1000, 1e9, (v) => (opts.quantum = v)],
    ['--max-host-memory', 0, 1 << 20, (v) => (opts.maxHostMemoryMiB = v)],
    ['--max-console-bytes', 0, Number.MAX_SAFE_INTEGER, (v) => (opts.maxConsoleBytes = v)],
    ['--trace-max-bytes', 1024, Number.MAX_SAFE_INTEGER, (v) => (opts.traceMaxBytes = v)],
    ['--jobs', 1, 256, (v) => (opts.jobs = v)],
  ];
  for (const [name, min, max, set] of ints) {
    const r = intOption(one(name), name, min, max);
    if (!r.ok) return r;
    set(r.value);
  }
  const gdbPort = intOption(one('--gdb'), '--gdb', 0, 65535);
  if (!gdbPort.ok) return gdbPort;
  if (gdbPort.value !== undefined) {
    opts.gdb = { port: gdbPort.value, wait: o.has('--gdb-wait') };
    // A debugging session lasts as long as the user wants, unless --timeout says otherwise.
    if (one('--timeout') === undefined) opts.timeoutMs = undefined;
  } else if (o.has('--gdb-wait')) {
    return { ok: false, error: '--gdb-wait needs --gdb PORT' };
  }
  if (opts.jobs !== undefined && opts.seeds === undefined) return { ok: false, error: '--jobs needs --seeds' };
  if (opts.traceMaxBytes !== undefined && opts.traceFile === undefined && opts.perfetto === undefined) {
    return { ok: false, error: '--trace-max-bytes needs --trace-file or --perfetto' };
  }
  if (!help && opts.images.length === 0 && !opts.dom0) return { ok: false, error: 'no IMAGE given' };
  return { ok: true, help, opts };
}

/**
 * Every option of RunCliOptions that runConfig passes on or the command line handles itself.
 * An option added to RunOptions must be wired into MachineConfig too: runConfig refuses one it
 * does not know, so a new option cannot be dropped silently on its way to the machine.
 */
const WIRED = new Set([
  'images', 'dom0', 'gic', 'xsm', 'dtb', 'memoryMiB', 'initrd', 'cmdline', 'enhanced', 'cpus', 'counted', 'domainOptions', 'timeoutMs', 'maxInstructions', 'quantum', 'seed', 'gdb',
  'maxHostMemoryMiB', 'maxConsoleBytes', 'traceText', 'traceFilter', 'traceFile', 'perfetto', 'traceMaxBytes', 'check', 'jobs',
]);

/** The machine a `run` command line describes, for the library API (src/api). */
export function runConfig(opts: RunCliOptions, trace: TraceBus | undefined): Result<MachineConfig> {
  for (const [k, v] of Object.entries(opts)) {
    if (v !== undefined && !WIRED.has(k)) return { ok: false, error: `internal: the run option '${k}' is not passed to the library API (src/cli/run.ts runConfig)` };
  }
  const domids = [...(opts.dom0 ? [0] : []), ...opts.images.map((_, i) => i + 1)];
  if (domids.length === 0) return { ok: false, error: 'no images given' };
  const per = collectDomainOptions(opts.domainOptions ?? [], domids);
  if (!per.ok) return per;
  const domain = (domid: number, image: string): DomainConfig => ({ image, ...per.value.get(domid) });
  return {
    ok: true,
    value: {
      domains: opts.images.map((image, i) => domain(i + 1, image)),
      dom0: opts.dom0 !== undefined ? domain(0, opts.dom0) : undefined,
      xsm: opts.xsm,
      gic: opts.gic,
      dtb: opts.dtb,
      memoryMiB: opts.memoryMiB,
      initrd: opts.initrd,
      cmdline: opts.cmdline,
      enhanced: opts.enhanced,
      cpus: opts.cpus,
      timeoutMs: opts.timeoutMs,
      maxInstructions: opts.maxInstructions,
      quantum: opts.quantum,
      seed: opts.seed,
      maxHostMemoryMiB: opts.maxHostMemoryMiB,
      maxConsoleBytes: opts.maxConsoleBytes,
      // A lone domain with nothing that needs virtual time runs at full engine speed.
      counted: opts.counted ?? false,
      gdb: opts.gdb,
      traceBus: trace,
    },
  };
}

/** Runs with CLI output conventions; returns the exit status. */
export async function runWithOutput(opts: RunCliOptions): Promise<number> {
  let trace: TraceBus | undefined;
  let closeOutputs = () => {};
  if (opts.traceText || opts.traceFile !== undefined || opts.perfetto !== undefined) {
    // The trace views are loaded only when one is asked for.
    const { attachTraceOutputs } = await import('../trace/sinks.ts');
    trace = new TraceBus();
    const outputs = attachTraceOutputs(trace, {
      text: opts.traceText ? (line) => process.stderr.write(line + '\n') : undefined,
      filter: opts.traceFilter,
      jsonl: opts.traceFile,
      perfetto: opts.perfetto,
      maxBytes: opts.traceMaxBytes,
      onTruncated: (path, limit) => process.stderr.write(`xenvm-emu: trace file ${path} truncated at ${limit} bytes (--trace-max-bytes); later events are not in it\n`),
    });
    if (!outputs.ok) {
      process.stderr.write(`xenvm-emu: ${outputs.error}\n`);
      return 2;
    }
    closeOutputs = outputs.close;
  }
  if (opts.seed !== undefined) process.stderr.write(`xenvm-emu: scheduling seed ${opts.seed}\n`);
  try {
    const config = runConfig(opts, trace);
    if (!config.ok) {
      process.stderr.write(`xenvm-emu: ${config.error}\n`);
      return 2;
    }
    const built = buildMachine({
      ...config.value,
      check: opts.check ? (r) => process.stderr.write(formatReportLines(r)) : undefined,
      onLine: (l) => process.stdout.write(l.line + '\n'),
      onStatus: (s) => process.stderr.write(`xenvm-emu: ${s}\n`),
    });
    if (!built.ok) {
      process.stderr.write(`xenvm-emu: ${built.error.message}\n`);
      return built.error.exitCode;
    }
    const m = built.value;
    try {
      const r = await m.run();
      if (r.message) process.stderr.write(`xenvm-emu: ${r.message}\n`);
      return r.exitCode;
    } catch (e) {
      if (!(e instanceof XenvmError)) throw e;
      process.stderr.write(`xenvm-emu: ${e.message}\n`);
      return e.exitCode;
    } finally {
      await m.close();
    }
  } finally {
    closeOutputs();
  }
}

export async function runMain(argv: string[]): Promise<number> {
  const p = parseRunArgs(argv);
  if (!p.ok) {
    process.stderr.write(`xenvm-emu run: ${p.error}\n\n${RUN_USAGE}\n`);
    return 2;
  }
  if (p.help) {
    process.stdout.write(RUN_USAGE + '\n');
    return 0;
  }
  if (p.opts.seeds !== undefined) {
    const { checkMain } = await import('./check.ts');
    return checkMain(argv.filter((a) => a !== '--check'));
  }
  return runWithOutput(p.opts);
}
