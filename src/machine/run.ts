/**
 * Running images end to end: resolve each image's board devicetree, build the machine, run it,
 * and summarise. Used by the CLI (`run`, `demo`, `diff`) and by the tests.
 */
import type { VTime } from './vtime.ts';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { packageRoot } from '../package-root.ts';
import { TraceBus } from '../trace/bus.ts';
import type { XsmPolicy } from '../xen/hypervisor.ts';
import { describeBoard, type Board } from './fdt/board.ts';
import { readImageFile } from './loader/read-file.ts';
import { parseElf64 } from './loader/elf.ts';
import type { ElfSymbol } from './loader/symbols.ts';
import { Machine, type MachineOptions, type RunEnd } from './machine.ts';
import { collectDomainOptions, consolePrefix, MAX_MEMORY_MIB } from './domain-options.ts';
import { err, hex, ok, type Result } from './result.ts';
import { memoryBanks, tryBuildDomUDeviceTree, type DomUDeviceTreeSpec } from './fdt/domu.ts';
import type { DtbBuilder } from './loader/boot.ts';

export const REPO_ROOT = packageRoot(import.meta.url);

export interface RunOptions {
  /** domU images: d1, d2, ... in order. */
  images: string[];
  /** Optional privileged dom0 image (domid 0). */
  dom0?: string;
  /** GIC version; the default follows each image's devicetree. */
  gic?: 2 | 3;
  xsm?: XsmPolicy;
  /** Devicetree blob for every domain (default: board.dtb beside the image, else the default board). */
  dtb?: string;
  /** RAM per domain in MiB (default: what the devicetree says, 64 MiB on our boards). */
  memoryMiB?: number;
  /** Initial ramdisk file for every domain (a domain's `initrd=` overrides it). */
  initrd?: string;
  /** Kernel command line for every domain (a domain's `cmdline=` overrides it). */
  cmdline?: string;
  /**
   * Make every domU "enhanced" (Xen's `xen,enhanced`; a domain's `enhanced=` overrides it).
   * Default false: the project's firmware is run, and its goldens were recorded, as plain
   * dom0less domUs (its own board.dtb describes the hypervisor node it needs).
   */
  enhanced?: boolean;
  /** vCPUs of every domain (a domain's `cpus=` overrides it); default: the devicetree's cpu nodes, 1 for a generated tree. */
  cpus?: number;
  /** Count instructions even for a lone domain (virtual time in results; slower). */
  counted?: boolean;
  /** Per-domain overrides, `dN,key=value,...` each (see domain-options.ts). */
  domainOptions?: string[];
  timeoutMs?: number;
  maxInstructions?: number;
  /** Host memory one domain's RAM may use, in MiB (default 2048; 0 = no limit). */
  maxHostMemoryMiB?: number;
  /** Console bytes one domain may print (default 16 MiB; 0 = no limit). */
  maxConsoleBytes?: number;
  /** Instructions per scheduling quantum. */
  quantum?: number;
  seed?: number;
  trace?: TraceBus;
  /** Serve GDB's remote protocol, one port per domain (docs/gdb.md); the run becomes asynchronous. */
  gdb?: GdbRunOptions;
  onLine?: (line: string) => void;
  onStatus?: (text: string) => void;
}

export interface GdbRunOptions {
  /** Port of the first domain (dom0 if any, else d1); the next domains take the next ports. 0 = free ports. */
  port: number;
  /** Stop before the first instruction until a debugger resumes (--gdb-wait). */
  wait: boolean;
  /** Called once every domain's server listens, with the port of each domid. */
  onListening?: (ports: Map<number, number>) => void;
}

export interface DomainSummary {
  domid: number;
  name: string;
  result?: string;
  end?: string;
  ok: boolean;
}

export interface RunOutcome {
  /** The transcript: `dN: text` per console line, in the order printed. */
  lines: string[];
  /** Status messages (shutdowns, faults, limits, deadlock report). */
  status: string[];
  /** 0 all domains finished well; 1 a domain failed; 2 bad input; 3 time/instruction limit; 4 deadlock. */
  exitCode: number;
  message?: string;
  end?: RunEnd;
  domains: DomainSummary[];
  /** Virtual time at the end (guest instructions retired by every domain, plus idle time
   *  skipped); exact, so a bigint once a far deadline moved it past 2^53 (src/machine/vtime.ts). */
  instructions: VTime;
  wallMs: number;
}

export const DEFAULT_QUANTUM = 100_000;

/** A domain's devicetree: a file, or the tree Xen 4.17 would build for a dom0less domU. */
export interface ResolvedDtb {
  /** The file, or a description of the generated tree (for messages). */
  path: string;
  blob: Uint8Array;
  board: Board;
  /** Set for a generated tree: rebuilds it with /chosen's values, as Xen writes them. */
  build?: DtbBuilder;
}

/**
 * A domain's RAM is its devicetree's first memory bank, held in host memory: at most
 * MAX_MEMORY_MIB (Xen's first guest RAM bank), wherever the bank lies.
 */
export function checkBoardMemory(board: Board): Result<void> {
  const bank = board.memory[0];
  if (bank.size > MAX_MEMORY_MIB * 2 ** 20) {
    return err(
      `memory@${bank.base.toString(16)}: a bank of ${bank.size} bytes (0x${bank.size.toString(16)}) is larger than the ${MAX_MEMORY_MIB} MiB a domain can have (Xen's GUEST_RAM0_SIZE)`,
    );
  }
  return ok(undefined);
}

/** RAM of a domain whose devicetree is generated and who did not say (--memory). */
export const DEFAULT_DOMU_MEMORY_MIB = 64;

/**
 * Which devicetree a domain gets: --dtb, else board.dtb beside its image (the project's firmware
 * builds leave one, with a hypervisor node), else the one Xen 4.17 builds for a plain dom0less
 * domU of this configuration (fdt/domu.ts: memory, one vCPU, PSCI, timer, the GIC, the vpl011,
 * /chosen; no hypervisor node, as for a domain that is not "enhanced").
 */
export function resolveDtb(image: string | undefined, opts: Pick<RunOptions, 'dtb' | 'gic' | 'memoryMiB' | 'enhanced' | 'cpus'>): Result<ResolvedDtb> {
  let path = opts.dtb;
  if (!path && image !== undefined) {
    const beside = join(dirname(image), 'board.dtb');
    if (existsSync(beside)) path = beside;
  }
  if (!path) return generatedDtb(opts.gic ?? 2, opts.memoryMiB ?? DEFAULT_DOMU_MEMORY_MIB, opts.enhanced ?? false, opts.cpus ?? 1);
  const blob = readImageFile(path, 'devicetree');
  if (!blob.ok) return blob;
  const board = describeBoard(blob.value);
  if (!board.ok) return { ok: false, error: `devicetree ${path}: ${board.error}` };
  const memory = checkBoardMemory(board.value);
  if (!memory.ok) return { ok: false, error: `devicetree ${path}: ${memory.error}` };
  if (opts.gic !== undefined && board.value.gic.version !== opts.gic) {
    return {
      ok: false,
      error: `--gic ${opts.gic} asked, but ${path} describes a GICv${board.value.gic.version} (the image is built for that board; use --dtb or an image built for xenvm-gicv${opts.gic})`,
    };
  }
  return { ok: true, value: { path, blob: blob.value, board: board.value } };
}

function generatedDtb(gic: 2 | 3, memoryMiB: number, enhanced: boolean, vcpus: number): Result<ResolvedDtb> {
  // An enhanced domU gets Xen's hypervisor node (grant-table region, extended regions, PPI 31).
  const spec: DomUDeviceTreeSpec = { memory: memoryBanks(BigInt(memoryMiB) << 20n), vcpus, gic, vpl011: true, hypervisor: enhanced ? {} : undefined };
  const build: DtbBuilder = (chosen) => {
    const r = tryBuildDomUDeviceTree({ ...spec, bootargs: chosen.bootargs || undefined, initrd: chosen.initrd });
    return r.ok ? ok(r.dtb) : err(`the generated devicetree: ${r.error}`);
  };
  const blob = build({});
  if (!blob.ok) return blob;
  const path = `the devicetree Xen 4.17 builds for a${enhanced ? 'n enhanced' : ''} GICv${gic} domU with ${memoryMiB} MiB${vcpus > 1 ? ` and ${vcpus} vCPUs` : ''}`;
  const board = describeBoard(blob.value);
  if (!board.ok) return { ok: false, error: `${path}: ${board.error}` };
  return { ok: true, value: { path, blob: blob.value, board: board.value, build } };
}

/** One domain as a command line or the library API describes it. */
export interface DomainSource {
  domid: number;
  privileged: boolean;
  /** An ELF64 or arm64 Image: a path, or the bytes. */
  image: string | Uint8Array;
  name?: string;
  /** A devicetree path or blob (else board.dtb beside the image, else the tree Xen builds). */
  dtb?: string | Uint8Array;
  gic?: 2 | 3;
  memoryMiB?: number;
  initrd?: string | Uint8Array;
  cmdline?: string;
  /** Xen's `xen,enhanced`: a hypervisor node in a generated tree, xenstore HVM params. */
  enhanced?: boolean;
  /** vCPUs (default: the devicetree's cpu nodes; 1 for the generated tree). */
  cpus?: number;
}

/** What a domain's own options may set (`--domain dN,...`, the API's DomainConfig). */
export type DomainSettings = Omit<DomainSource, 'domid' | 'privileged' | 'image'>;

/**
 * One domain's source: its own settings over the machine-wide defaults. Shared by runImages and
 * the library API (src/api) so a default is applied the same way by both.
 */
export function domainSource(domid: number, privileged: boolean, image: string | Uint8Array, own: DomainSettings | undefined, defaults: Omit<DomainSettings, 'name'>): DomainSource {
  return {
    domid,
    privileged,
    image,
    name: own?.name,
    dtb: own?.dtb ?? defaults.dtb,
    gic: own?.gic ?? defaults.gic,
    memoryMiB: own?.memoryMiB ?? defaults.memoryMiB,
    initrd: own?.initrd ?? defaults.initrd,
    cmdline: own?.cmdline ?? defaults.cmdline,
    // dom0 is the hardware domain, never a dom0less domU.
    enhanced: privileged ? undefined : (own?.enhanced ?? defaults.enhanced),
    cpus: own?.cpus ?? defaults.cpus,
  };
}

/**
 * Reads and resolves what one domain needs (image, devicetree, memory, initrd) into what
 * Machine.addDomain takes. `initrds` caches ramdisk files shared by several domains. Used by
 * runImages and by the library API (src/api), so both build domains alike.
 */
export function domainSpec(src: DomainSource, initrds: Map<string, Uint8Array>): Result<Parameters<Machine['addDomain']>[0]> {
  const { domid } = src;
  const path = typeof src.image === 'string' ? src.image : undefined;
  let image: Uint8Array;
  if (typeof src.image === 'string') {
    const r = readImageFile(src.image);
    if (!r.ok) return r;
    image = r.value;
  } else {
    if (src.image.length === 0) return err(`d${domid}: the image is empty`);
    image = src.image;
  }
  const dt = deviceTreeOf(path, src);
  if (!dt.ok) return err(`d${domid}: ${dt.error}`);
  let blob = dt.value.blob;
  const bank = dt.value.board.memory[0];
  let memoryBytes = bank.size;
  // A generated tree is built for the domain's memory already.
  if (src.memoryMiB !== undefined && !dt.value.build) {
    memoryBytes = src.memoryMiB * 1024 * 1024;
    if (memoryBytes !== bank.size) {
      const r = resizeMemory(blob, bank.base, bank.size, memoryBytes);
      if (!r.ok) return err(`d${domid}: ${r.error}`);
      blob = r.value;
    }
  }
  let initrd = typeof src.initrd === 'string' ? initrds.get(src.initrd) : src.initrd;
  if (typeof src.initrd === 'string' && !initrd) {
    const r = readImageFile(src.initrd, 'initrd');
    if (!r.ok) return err(`d${domid}: ${r.error}`);
    initrds.set(src.initrd, (initrd = r.value));
  }
  return ok({
    domid,
    name: src.name ?? (path !== undefined ? basename(path) : `d${domid}`),
    privileged: src.privileged,
    image,
    imagePath: path ?? `(d${domid} image bytes)`,
    dtb: dt.value.build ?? blob,
    initrd,
    cmdline: src.cmdline,
    enhanced: src.enhanced,
    board: dt.value.board,
    memoryBytes,
    // A devicetree of the user's (or the firmware's board.dtb) says how many CPUs the guest
    // expects; a generated one was built for `cpus` already.
    vcpus: src.cpus ?? (dt.value.build ? undefined : dt.value.board.cpus),
    symbolSource: path !== undefined ? (loaded) => siblingElfSymbols(path, loaded.entry) : undefined,
  });
}

/** A domain's devicetree given as bytes, or resolved from a path as resolveDtb does. */
function deviceTreeOf(imagePath: string | undefined, src: DomainSource): Result<ResolvedDtb> {
  if (!(src.dtb instanceof Uint8Array)) return resolveDtb(imagePath, { dtb: src.dtb, gic: src.gic, memoryMiB: src.memoryMiB, enhanced: src.enhanced, cpus: src.cpus });
  const board = describeBoard(src.dtb);
  if (!board.ok) return err(`devicetree (bytes): ${board.error}`);
  const memory = checkBoardMemory(board.value);
  if (!memory.ok) return err(`devicetree (bytes): ${memory.error}`);
  if (src.gic !== undefined && board.value.gic.version !== src.gic) {
    return err(`gic ${src.gic} asked, but the devicetree (bytes) describes a GICv${board.value.gic.version}`);
  }
  return ok({ path: '(devicetree bytes)', blob: src.dtb, board: board.value });
}

/**
 * Changes the size of the first memory bank in a devicetree blob, in place in a copy. Our
 * boards write /memory's reg as 2 address + 2 size cells; the bytes are found by value.
 */
export function resizeMemory(blob: Uint8Array, base: number, oldSize: number, newSize: number): Result<Uint8Array> {
  const pat = new Uint8Array(16);
  const v = new DataView(pat.buffer);
  v.setBigUint64(0, BigInt(base));
  v.setBigUint64(8, BigInt(oldSize));
  for (let i = 0; i + 16 <= blob.length; i += 4) {
    let hit = true;
    for (let j = 0; j < 16 && hit; j++) hit = blob[i + j] === pat[j];
    if (hit) {
      const out = blob.slice();
      new DataView(out.buffer).setBigUint64(i + 8, BigInt(newSize));
      return { ok: true, value: out };
    }
  }
  return { ok: false, error: `cannot resize memory: the devicetree's /memory reg is not <${hex(base)} ${hex(oldSize)}> in 2+2 cells; edit the board instead` };
}

/**
 * Symbols for a flat arm64 Image: the firmware build leaves NAME.elf beside NAME.img, and the
 * symbols apply when the ELF's entry is the Image's load address (the Image is its objcopy).
 */
export function siblingElfSymbols(imagePath: string, entry: number): ElfSymbol[] | undefined {
  if (!imagePath.endsWith('.img')) return undefined;
  const elfPath = imagePath.slice(0, -4) + '.elf';
  if (!existsSync(elfPath)) return undefined;
  const bytes = readImageFile(elfPath);
  if (!bytes.ok) return undefined;
  const elf = parseElf64(bytes.value);
  return elf.ok && elf.value.entry === entry ? elf.value.symbols : undefined;
}

const passed = (result: string | undefined) => result === undefined || /^(SUCCESS|SKIP)/.test(result);

/**
 * Whether a domain finished well: its "Test result:" (if any) is SUCCESS or SKIP, and it did not
 * end by a fault, a crash, the debugger or a limit. Shared with the library API (src/api).
 */
export function domainOk(result: string | undefined, end: string | undefined): boolean {
  return passed(result) && !(end !== undefined && /fault|crash|killed by the debugger|limit:/.test(end));
}

/** The run-wide settings runImages and the library API (src/api) both pass to Machine. */
type RunSettings = Pick<RunOptions, 'xsm' | 'maxInstructions' | 'gdb' | 'seed' | 'quantum' | 'maxHostMemoryMiB' | 'maxConsoleBytes'>;

/**
 * Machine options from the run-wide settings, shared by runImages and the library API so both
 * choose the counting mode alike. `counted` is what the caller asks for; other needs of virtual
 * time (several domains, a bound, a debugger, a trace, a seed) turn counting on anyway.
 */
export function machineOptions(o: RunSettings, run: { domains: number; trace: TraceBus; counted: boolean }): Omit<MachineOptions, 'onConsole' | 'onStatus'> {
  return {
    xsm: o.xsm ?? 'dummy',
    trace: run.trace,
    // An instruction bound is promised exactly; block-granular counting could overshoot it.
    // A debugger steps one instruction at a time, which needs per-instruction counting too.
    exactCount: o.maxInstructions !== undefined || o.gdb !== undefined,
    // A lone domain with nothing that needs virtual time may run uncounted, at full engine speed.
    counted: run.domains > 1 || o.maxInstructions !== undefined || o.gdb !== undefined || run.trace.on || o.seed !== undefined || run.counted,
    quantum: o.quantum ?? DEFAULT_QUANTUM,
    seed: o.seed,
    maxHostMemory: o.maxHostMemoryMiB === undefined ? undefined : o.maxHostMemoryMiB * 1024 * 1024,
    maxConsoleBytes: o.maxConsoleBytes,
  };
}

export async function runImages(opts: RunOptions): Promise<RunOutcome> {
  const t0 = performance.now();
  const lines: string[] = [];
  const status: string[] = [];
  const onStatus = (s: string) => {
    status.push(s);
    opts.onStatus?.(s);
  };
  const fail = (exitCode: number, message: string): RunOutcome => ({
    lines,
    status,
    exitCode,
    message,
    domains: [],
    instructions: 0,
    wallMs: performance.now() - t0,
  });
  const specs = [...(opts.dom0 ? [{ domid: 0, path: opts.dom0, privileged: true }] : []), ...opts.images.map((path, i) => ({ domid: i + 1, path, privileged: false }))];
  if (specs.length === 0) return fail(2, 'no images given');

  const overrides = collectDomainOptions(opts.domainOptions ?? [], specs.map((s) => s.domid));
  if (!overrides.ok) return fail(2, overrides.error);
  const per = overrides.value;

  const trace = opts.trace ?? new TraceBus();
  const machine = new Machine({
    ...machineOptions(opts, { domains: specs.length, trace, counted: opts.counted === true }),
    onConsole: (domid, text) => {
      const line = consolePrefix(domid, per.get(domid)) + text;
      lines.push(line);
      opts.onLine?.(line);
    },
    onStatus,
  });
  const initrds = new Map<string, Uint8Array>();
  try {
    for (const s of specs) {
      const spec = domainSpec(domainSource(s.domid, s.privileged, s.path, per.get(s.domid), opts), initrds);
      if (!spec.ok) return fail(2, spec.error);
      const d = machine.addDomain(spec.value);
      if (!d.ok) return fail(2, d.error);
    }
    const limits = { timeoutMs: opts.timeoutMs, maxInstructions: opts.maxInstructions };
    let end: RunEnd;
    if (opts.gdb) {
      // Loaded only when asked for: a plain run does not pay for the debugger's code.
      const { GdbController } = await import('../gdb/controller.ts');
      const g = await GdbController.start(machine, { port: opts.gdb.port, wait: opts.gdb.wait, log: (t) => opts.onStatus?.(t) });
      if (!g.ok) return fail(2, g.error);
      opts.gdb.onListening?.(g.gdb.ports());
      try {
        end = await machine.runAsync(limits, g.gdb);
        g.gdb.finish(end);
      } finally {
        await g.gdb.close();
      }
    } else {
      end = machine.run(limits);
    }
    const domains: DomainSummary[] = machine.domains.map((d) => ({
      domid: d.domid,
      name: d.name,
      result: d.result,
      end: d.state.kind === 'done' ? d.state.reason : undefined,
      ok: domainOk(d.result, d.state.kind === 'done' ? d.state.reason : undefined),
    }));
    for (const d of machine.domains) {
      if (d.pl011.partial) onStatus(`d${d.domid} left an unterminated console line: ${JSON.stringify(d.pl011.partial)}`);
    }
    const { exitCode, message } = summarizeRun(end, domains);
    return { lines, status, exitCode, message, end, domains, instructions: machine.now(), wallMs: performance.now() - t0 };
  } finally {
    machine.close();
  }
}

/**
 * The exit status and closing message of a run (shared with the library API, src/api): 0 every
 * domain finished well, 1 a domain failed, 3 a time or instruction limit, 4 deadlock.
 */
export function summarizeRun(end: RunEnd, domains: readonly Pick<DomainSummary, 'domid' | 'result' | 'end' | 'ok'>[]): { exitCode: number; message?: string } {
  let exitCode = domains.every((d) => d.ok) ? 0 : 1;
  let message: string | undefined;
  switch (end.kind) {
    case 'timeout':
      exitCode = 3;
      message = `timeout: the run did not finish within ${end.seconds} s (${describeWaiting(domains)})`;
      break;
    case 'instruction-limit':
      exitCode = 3;
      message = `instruction limit: ${end.limit} guest instructions executed before every domain finished (${describeWaiting(domains)})`;
      break;
    case 'deadlock':
      exitCode = 4;
      message = `deadlock: ${end.report}`;
      break;
    case 'finished':
      // Faults and shutdowns were reported as they happened; a failing result line was not.
      if (exitCode !== 0) {
        const failed = domains.filter((d) => !d.ok && d.result !== undefined && !passed(d.result));
        if (failed.length) message = failed.map((d) => `d${d.domid} reported Test result: ${d.result}`).join('; ');
      }
      break;
  }
  return { exitCode, message };
}

export function describeWaiting(domains: readonly Pick<DomainSummary, 'domid' | 'result' | 'end'>[]): string {
  const waiting = domains.filter((d) => d.result === undefined && d.end === undefined).map((d) => `d${d.domid}`);
  return waiting.length ? `still running: ${waiting.join(', ')}` : 'every domain had reported';
}
