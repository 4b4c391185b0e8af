/**
 * A thin, typed binding to the system libunicorn.so.2 through koffi.
 *
 * This is the only module that knows the engine is native: everything above it talks to the
 * `Engine` class. Errors are returned as codes (`UcErr`) rather than thrown, except when the
 * library itself cannot be loaded, which is reported once with the package to install.
 */
import koffi from 'koffi';
import { ctlWrite, UC_ARCH_ARM64, UC_CPU_ARM64_A57, UC_MODE_ARM, UcCtl, UcErr, UcHook, Reg } from './constants.ts';
// @ts-ignore -- plain ESM shared with scripts/setup.mjs, which runs before npm dependencies exist
import { engineCandidates, ENGINE_MIN, ENGINE_PACKAGE } from '../../scripts/engine.mjs';
import { allocVcpuBlock, DeferredCpWrite, ExceptionBlock, InstructionCounter, IrqWatch, loadCounter, MmioBlock, SysregBlock, type NativeHelper, type UartBlock } from './counter.ts';

export type UcHandle = unknown;

interface Api {
  uc_open: (arch: number, mode: number, out: unknown[]) => number;
  uc_close: (uc: UcHandle) => number;
  uc_strerror: (code: number) => string;
  uc_mem_map: (uc: UcHandle, addr: number | bigint, size: number, perms: number) => number;
  uc_mem_map_ptr: (uc: UcHandle, addr: number | bigint, size: number, perms: number, ptr: Uint8Array) => number;
  uc_mem_unmap: (uc: UcHandle, addr: number | bigint, size: number) => number;
  uc_reg_read: (uc: UcHandle, reg: number, buf: Uint8Array) => number;
  uc_reg_write: (uc: UcHandle, reg: number, buf: Uint8Array) => number;
  uc_emu_start: (uc: UcHandle, begin: number | bigint, until: number | bigint, timeout: number | bigint, count: number) => number;
  uc_emu_stop: (uc: UcHandle) => number;
  uc_hook_add: (uc: UcHandle, out: unknown[], type: number, cb: unknown, ud: null, begin: number | bigint, end: number | bigint, ...extra: unknown[]) => number;
  uc_ctl: (uc: UcHandle, control: number, ...extra: unknown[]) => number;
}

export const Proto = {
  eventMem: koffi.proto('bool uc_cb_eventmem_t(uintptr_t uc, int type, uint64_t address, int size, int64_t value, uintptr_t user_data)'),
  excHandler: koffi.proto('void xenvm_exc_handler(void)'),
  hookMem: koffi.proto('void uc_cb_hookmem_t(uintptr_t uc, int type, uint64_t address, int size, int64_t value, uintptr_t user_data)'),
};

let api: Api | undefined;
let loaded: EngineInfo | undefined;
let loadError: string | undefined;

/** The engine's translation cache size (see Engine.open). */
const TCG_BUFFER_BYTES = 64 << 20;

/** uc_version's packed value: major << 24 | minor << 16 | patch << 8 (unicorn.h UC_MAKE_VERSION). */
export function unpackVersion(packed: number): EngineInfo['version'] {
  return { major: (packed >>> 24) & 0xff, minor: (packed >>> 16) & 0xff, patch: (packed >>> 8) & 0xff };
}

/** Why an engine of this version cannot be used, or undefined when it can. */
export function engineVersionProblem(v: EngineInfo['version']): string | undefined {
  if (v.major > ENGINE_MIN.major || (v.major === ENGINE_MIN.major && v.minor >= ENGINE_MIN.minor)) return undefined;
  return (
    `is Unicorn ${v.major}.${v.minor}.${v.patch}: ` +
    `2.0.x checks memory permissions on the virtual address before the guest's MMU translates it ` +
    `(Unicorn issue 1718, fixed in 2.1), so no guest with the MMU on can run on it`
  );
}

/** Which engine was loaded: its path, where that came from and its version. */
export interface EngineInfo {
  path: string;
  source: string;
  version: { major: number; minor: number; patch: number };
}

/**
 * Loads libunicorn once: the first of `engineCandidates()` (scripts/engine.mjs) that loads, checked
 * to be version 2.1 or later. Returns an error message that says what to do otherwise.
 */
export function loadUnicorn(): { ok: true; api: Api; engine: EngineInfo } | { ok: false; error: string } {
  if (api && loaded) return { ok: true, api, engine: loaded };
  if (loadError) return { ok: false, error: loadError };
  const tried: string[] = [];
  for (const c of engineCandidates() as { path: string; source: string }[]) {
    let lib: ReturnType<typeof koffi.load>;
    try {
      lib = koffi.load(c.path);
    } catch (e) {
      tried.push(`${c.path} (${c.source}): ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const packed = (lib.func('unsigned int uc_version(_Out_ unsigned int *major, _Out_ unsigned int *minor)') as (a: null, b: null) => number)(null, null);
    const version = unpackVersion(packed);
    const problem = engineVersionProblem(version);
    if (problem) {
      tried.push(`${c.path} (${c.source}) ${problem}`);
      continue;
    }
    api = bind(lib);
    loaded = { path: c.path, source: c.source, version };
    return { ok: true, api, engine: loaded };
  }
  loadError =
    `no usable Unicorn engine (xenvm-emu needs ${ENGINE_MIN.major}.${ENGINE_MIN.minor} or later)` +
    (tried.length ? `:\n  ${tried.join('\n  ')}` : ': none found') +
    `\nRun: npm run setup in a checkout, or xenvm-emu fetch-engine for an installed package (either fetches Debian trixie's ${ENGINE_PACKAGE}\n` +
    `with a private apt directory, without changing the system's apt set-up),\n` +
    `or point XENVM_EMU_UNICORN at a libunicorn.so.2 of version ${ENGINE_MIN.major}.${ENGINE_MIN.minor} or later.`;
  return { ok: false, error: loadError };
}

function bind(lib: ReturnType<typeof koffi.load>): Api {
  const f = (sig: string) => lib.func(sig);
  return {
    uc_open: f('int uc_open(int arch, int mode, _Out_ void **uc)'),
    uc_close: f('int uc_close(void *uc)'),
    uc_strerror: f('const char *uc_strerror(int code)'),
    uc_mem_map: f('int uc_mem_map(void *uc, uint64_t address, size_t size, uint32_t perms)'),
    uc_mem_map_ptr: f('int uc_mem_map_ptr(void *uc, uint64_t address, size_t size, uint32_t perms, void *ptr)'),
    uc_mem_unmap: f('int uc_mem_unmap(void *uc, uint64_t address, size_t size)'),
    uc_reg_read: f('int uc_reg_read(uintptr_t uc, int regid, _Out_ void *value)'),
    uc_reg_write: f('int uc_reg_write(uintptr_t uc, int regid, const void *value)'),
    uc_emu_start: f('int uc_emu_start(uintptr_t uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
    uc_emu_stop: f('int uc_emu_stop(uintptr_t uc)'),
    uc_hook_add: f('int uc_hook_add(void *uc, _Out_ size_t *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)'),
    uc_ctl: f('int uc_ctl(void *uc, int control, ...)'),
  } as unknown as Api;
}

/** A system (coprocessor) register address: op0, op1, CRn, CRm, op2. */
export interface CpReg {
  op0: number;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
}

/**
 * One Unicorn AArch64 instance. Holds the scratch buffers used for register access so the
 * hot path (hypercalls) allocates nothing.
 */
export class Engine {
  private readonly uc: UcHandle;
  /** The engine handle as an integer: hot-path functions take it so koffi need not check a pointer object per call. */
  private readonly ucAddr: number;
  private readonly api: Api;
  private readonly reg8 = new Uint8Array(8);
  private readonly reg8v = new DataView(this.reg8.buffer);
  /** struct uc_arm64_cp_reg { u32 crn, crm, op0, op1, op2; (pad) u64 val } — 32 bytes. */
  private readonly cp = new Uint8Array(32);
  private readonly cpv = new DataView(this.cp.buffer);
  /** The register whose address `cp` holds (the engine only writes the value field back). */
  private cpFilled: CpReg | undefined;
  /** Keeps callbacks registered with koffi alive and lets close() unregister them. */
  private readonly callbacks: unknown[] = [];
  /** Native scratch memory (koffi.alloc) freed on close(). */
  private readonly allocations: unknown[] = [];
  /** Keeps host buffers mapped into the guest alive as long as the engine. */
  private readonly pinned: Uint8Array[] = [];
  private closed = false;
  /** native/xenvm-count.c: the hooks, the MMIO trampoline and the one-call run. */
  private readonly native: NativeHelper;
  /** The per-vCPU native block (struct xenvm_counter) the counter, watch and sysreg hooks share. */
  private readonly block: unknown;
  /** >0 while one of this engine's MMIO handlers runs (see mmioMap). */
  private mmioDepth = 0;
  /** The system-register write made natively after an MMIO handler returns, or when the next run starts. */
  private readonly deferred: DeferredCpWrite;
  /** Addresses handed to xenvm_run, and the PC it leaves after a run (see run()). */
  private readonly deferredAddr: number;
  private readonly pcAfterAddr: number;
  private readonly pcAfter: BigUint64Array;

  private constructor(api: Api, uc: UcHandle, native: NativeHelper) {
    this.api = api;
    this.uc = uc;
    this.ucAddr = Number(koffi.address(uc));
    this.native = native;
    this.block = allocVcpuBlock();
    const d = koffi.alloc('uint8_t', DeferredCpWrite.SIZE);
    const pc = koffi.alloc('uint64_t', 1);
    this.allocations.push(this.block, d, pc);
    this.deferred = new DeferredCpWrite(d);
    this.deferred.clear();
    this.deferredAddr = Number(koffi.address(d));
    this.pcAfterAddr = Number(koffi.address(pc));
    this.pcAfter = new BigUint64Array(koffi.view(pc, 8));
  }

  /** A new engine; needs libunicorn and the native helper (built on first use). */
  static open(): { ok: true; engine: Engine } | { ok: false; error: string } {
    const r = loadUnicorn();
    if (!r.ok) return r;
    const n = loadCounter(r.engine.path);
    if (!n.ok) return n;
    const out: unknown[] = [null];
    const err = r.api.uc_open(UC_ARCH_ARM64, UC_MODE_ARM, out);
    if (err !== UcErr.OK) return { ok: false, error: `uc_open failed: ${r.api.uc_strerror(err)}` };
    // The oracle runs Xen on QEMU's cortex-a57, so the guest sees that CPU's ID registers
    // (MIDR, features, cache geometry) there; choose the same model before anything else.
    const model = r.api.uc_ctl(out[0], ctlWrite(UcCtl.CPU_MODEL, 1), 'int', UC_CPU_ARM64_A57);
    if (model !== UcErr.OK) {
      r.api.uc_close(out[0]);
      return { ok: false, error: `cannot select the Cortex-A57 CPU model: ${r.api.uc_strerror(model)}` };
    }
    // The translation cache. Unicorn 2.1 reserves 1 GiB by default, and dropping it (an
    // uncounted vCPU's switch to counting flushes every translation) then took 0.2-2.7 s here,
    // growing with the buffer (measured: 5-8 ms at 32 MiB, ~10 ms at 64, ~30 ms at 128).
    // Debian's 6.1 kernel boots to its init as fast with 32 MiB as with 1 GiB (measured); 64 MiB
    // leaves room for guests with more code at about 10 ms a flush.
    const tcg = r.api.uc_ctl(out[0], ctlWrite(UcCtl.TCG_BUFFER_SIZE, 1), 'uint32_t', TCG_BUFFER_BYTES);
    if (tcg !== UcErr.OK) {
      r.api.uc_close(out[0]);
      return { ok: false, error: `cannot size the engine's translation cache: ${r.api.uc_strerror(tcg)}` };
    }
    return { ok: true, engine: new Engine(r.api, out[0], n) };
  }

  /** Registers a void(void) callback the native helper calls; returns its address. */
  private handler(fn: () => void): bigint {
    const cb = koffi.register(fn, koffi.pointer(Proto.excHandler));
    this.callbacks.push(cb);
    return BigInt(koffi.address(cb));
  }

  strerror(code: number): string {
    return this.api.uc_strerror(code);
  }

  /** Maps host memory into the guest physical space (no copies later on either side). */
  mapPtr(addr: number | bigint, buf: Uint8Array, perms: number): number {
    this.pinned.push(buf);
    return this.api.uc_mem_map_ptr(this.uc, addr, buf.length, perms, buf);
  }

  /** Removes a mapping made with mapPtr or map (whole pages). */
  unmap(addr: number | bigint, size: number): number {
    return this.api.uc_mem_unmap(this.uc, addr, size);
  }

  map(addr: number, size: number, perms: number): number {
    return this.api.uc_mem_map(this.uc, addr, size, perms);
  }

  /**
   * An MMIO window: reads/writes in it call back with the offset into the window, through the
   * native trampoline (native/xenvm-count.c): one void(void) callback per access, and a
   * system-register write the handler makes on this engine (writeCp) is made natively after
   * the handler returns rather than as a native call from inside the callback, which costs ~3x
   * (measured +0.3 us vs +0.1 us per call).
   */
  mmioMap(
    addr: number,
    size: number,
    read: (offset: number, size: number) => number | bigint,
    write: (offset: number, size: number, value: number | bigint) => void,
    uart?: UartBlock,
  ): number {
    // The vpl011's window is a struct xenvm_uart_window: the usual block, then the UART state.
    const bytes = uart ? MmioBlock.SIZE + 8 : MmioBlock.SIZE;
    const mem = koffi.alloc('uint8_t', bytes);
    this.allocations.push(mem);
    const block = new MmioBlock(mem);
    block.setHandler(
      this.handler(() => {
        this.mmioDepth++;
        try {
          if (block.write) write(block.offset, block.size, block.value);
          else block.setValue(read(block.offset, block.size));
        } finally {
          this.mmioDepth--;
        }
      }),
    );
    block.setDeferred(BigInt(this.deferredAddr));
    if (!uart) return this.native.mapMmio(this.uc, addr, size, mem);
    new BigUint64Array(koffi.view(mem, bytes))[MmioBlock.SIZE / 8] = BigInt(koffi.address(uart.native));
    return this.native.mapUart(this.uc, addr, size, mem);
  }

  readReg(id: number): bigint {
    this.api.uc_reg_read(this.ucAddr, id, this.reg8);
    return this.reg8v.getBigUint64(0, true);
  }

  /** Register value as a JS number; exact below 2^53, which covers every guest address we use. */
  readRegN(id: number): number {
    this.api.uc_reg_read(this.ucAddr, id, this.reg8);
    return this.reg8v.getUint32(0, true) + this.reg8v.getUint32(4, true) * 0x1_0000_0000;
  }

  /** Writes a JS number (negative values are sign-extended to 64 bits, as Xen returns -errno). */
  writeRegN(id: number, v: number): number {
    this.reg8v.setUint32(0, v >>> 0, true);
    this.reg8v.setUint32(4, v < 0 ? (v >= -0x1_0000_0000 ? 0xffffffff : Math.floor(v / 0x1_0000_0000) >>> 0) : Math.floor(v / 0x1_0000_0000) >>> 0, true);
    return this.api.uc_reg_write(this.ucAddr, id, this.reg8);
  }

  /** A 32-bit register (PSTATE, NZCV): the engine writes only 4 bytes of the value buffer. */
  readReg32(id: number): number {
    this.reg8v.setUint32(0, 0, true);
    this.api.uc_reg_read(this.ucAddr, id, this.reg8);
    return this.reg8v.getUint32(0, true);
  }

  writeReg(id: number, v: bigint | number): number {
    this.reg8v.setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    return this.api.uc_reg_write(this.ucAddr, id, this.reg8);
  }

  readCp(r: CpReg): bigint {
    if (this.deferred.pending) this.flushDeferred();
    this.fillCp(r);
    this.api.uc_reg_read(this.ucAddr, Reg.CP_REG, this.cp);
    return this.cpv.getBigUint64(24, true);
  }

  writeCp(r: CpReg, v: bigint): number {
    const d = this.deferred;
    if (this.mmioDepth > 0) {
      // Inside this engine's own MMIO handler: the trampoline writes it once the handler returns.
      if (d.pending && d.reg !== r) this.flushDeferred();
      d.set(r, v);
      return UcErr.OK;
    }
    if (d.pending) this.flushDeferred();
    this.fillCp(r);
    this.cpv.setBigUint64(24, BigInt.asUintN(64, v), true);
    return this.api.uc_reg_write(this.ucAddr, Reg.CP_REG, this.cp);
  }

  /**
   * A system-register write for the start of the next run (run() makes it in the same native
   * call as uc_emu_start). Reads and other writes in between see it made first.
   */
  writeCpBeforeRun(r: CpReg, v: bigint): void {
    const d = this.deferred;
    if (d.pending && d.reg !== r) this.flushDeferred();
    d.set(r, v);
  }

  /** Makes a deferred write now (a read or a write of another register must come after it). */
  private flushDeferred(): void {
    const d = this.deferred;
    d.clear();
    this.fillCp(d.reg!);
    this.cpv.setBigUint64(24, d.value, true);
    this.api.uc_reg_write(this.ucAddr, Reg.CP_REG, this.cp);
  }

  private fillCp(r: CpReg): void {
    // Most accesses repeat the last register (HCR_EL2 for the IRQ line): its address is still there.
    if (r === this.cpFilled) return;
    this.cpFilled = r;
    this.cpv.setUint32(0, r.crn, true);
    this.cpv.setUint32(4, r.crm, true);
    this.cpv.setUint32(8, r.op0, true);
    this.cpv.setUint32(12, r.op1, true);
    this.cpv.setUint32(16, r.op2, true);
  }

  /**
   * The native exception hook (native/xenvm-count.c): `fn` runs for every exception, with an
   * HVC's registers already read into the returned block.
   */
  hookExceptions(fn: () => void): { ok: true; block: ExceptionBlock } | { ok: false; error: string } {
    const mem = koffi.alloc('uint8_t', ExceptionBlock.SIZE);
    this.allocations.push(mem);
    const block = new ExceptionBlock(mem);
    block.setHandler(this.handler(fn));
    const err = this.native.installExc(this.uc, mem);
    if (err !== UcErr.OK) return { ok: false, error: `cannot install the exception hook: ${this.strerror(err)}` };
    return { ok: true, block };
  }

  /** Unmapped/invalid memory hooks: return true to retry the access (after mapping), false to fault. */
  hookMemInvalid(type: number, fn: (type: number, address: bigint, size: number, value: bigint) => boolean): number {
    const cb = koffi.register(
      (_uc: unknown, t: number, addr: number | bigint, size: number, value: number | bigint) => fn(t, BigInt(addr), size, BigInt(value)),
      koffi.pointer(Proto.eventMem),
    );
    return this.addHook(type, cb);
  }

  /**
   * Calls `fn` before every guest store to [begin, end] (inclusive), with the address, size and
   * value; memory still holds the old bytes then, and the X registers are those before the
   * storing instruction (PC is not: see InstructionCounter.blockPc). Blocks translated before
   * the hook was added do not call it: add it between runs and flush translations.
   */
  hookMemWrite(begin: bigint, end: bigint, fn: (address: bigint, size: number, value: bigint) => void): number {
    const cb = koffi.register(
      (_uc: unknown, _t: number, addr: number | bigint, size: number, value: number | bigint) => fn(BigInt(addr), size, BigInt.asUintN(64, BigInt(value))),
      koffi.pointer(Proto.hookMem),
    );
    this.callbacks.push(cb);
    const out: unknown[] = [0];
    return this.api.uc_hook_add(this.uc, out, UcHook.MEM_WRITE, cb, null, begin, end);
  }

  private addHook(type: number, cb: unknown): number {
    this.callbacks.push(cb);
    const out: unknown[] = [0];
    return this.api.uc_hook_add(this.uc, out, type, cb, null, 1, 0);
  }

  /**
   * Installs the native instruction counter. The engine decides at translation time which hooks
   * a block calls, so a counter attached after the first run needs `flushTranslations()`.
   */
  attachCounter(perInstruction: boolean): { ok: true; counter: InstructionCounter } | { ok: false; error: string } {
    const err = this.native.install(this.uc, this.block, perInstruction ? 1 : 0);
    if (err !== UcErr.OK) return { ok: false, error: `cannot install the instruction counter: ${this.strerror(err)}` };
    return { ok: true, counter: new InstructionCounter(this.block) };
  }

  /**
   * The native MRS/MSR hook: `fn` runs for accesses to the generic timer block (op0 3, op1 3,
   * CRn 14) and answers through the returned block; it also keeps VBAR_EL1 for `irqWatch`.
   */
  hookSysregs(fn: () => void): { ok: true; block: SysregBlock } | { ok: false; error: string } {
    const block = new SysregBlock(this.block);
    block.setHandler(this.handler(fn));
    const err = this.native.installSys(this.uc, this.block);
    if (err !== UcErr.OK) return { ok: false, error: `cannot install the system-register hook: ${this.strerror(err)}` };
    return { ok: true, block };
  }

  /**
   * The interrupt-entry watch, driven by the counter's block hook (attachCounter first): `fn`
   * runs when a block starts at an IRQ vector or at the watched return address. Off until
   * `enabled` is set. Without `fn`, only a view (e.g. of the VBAR_EL1 the sysreg hook keeps).
   */
  irqWatch(fn?: () => void): IrqWatch {
    const w = new IrqWatch(this.block);
    if (fn) w.setHandler(this.handler(fn));
    return w;
  }

  /** Counts the guest's TLBI and IC instructions in the sysreg block (SysregBlock.tlbiCount/icCount). */
  hookMaintenance(): number {
    return this.native.installMaint(this.uc, this.block);
  }

  /** Drops every cached translation of guest addresses (uc_ctl UC_CTL_TLB_FLUSH = 11, no arguments). Between runs only. */
  flushTlb(): number {
    return this.api.uc_ctl(this.uc, ctlWrite(UcCtl.TLB_FLUSH, 0));
  }

  /** Drops every translated block (uc_ctl UC_CTL_TB_FLUSH = 10, no arguments). Between runs only. */
  flushTranslations(): number {
    return this.api.uc_ctl(this.uc, ctlWrite(UcCtl.TB_FLUSH, 0));
  }

  /** Runs from `begin` until `until`, `timeoutUs` (0 = none) or `count` instructions (0 = no limit). */
  start(begin: number | bigint, until: number | bigint, timeoutUs: number, count: number): number {
    return this.api.uc_emu_start(this.ucAddr, begin, until, timeoutUs, count);
  }

  /** PC where the last run() stopped (all 64 bits: a kernel runs at 0xffff8000_xxxx_xxxx). */
  get pcAfterRun(): bigint {
    return this.pcAfter[0];
  }

  /**
   * A vCPU run: the write left by writeCpBeforeRun, uc_emu_start from `begin` (no end address,
   * no instruction count) and a read of PC afterwards (pcAfterRun), in one native call.
   */
  run(begin: bigint, timeoutUs: number): number {
    return this.native.run(this.ucAddr, this.deferredAddr, begin, timeoutUs, this.pcAfterAddr);
  }

  stop(): number {
    return this.api.uc_emu_stop(this.uc);
  }

  /**
   * Drops the engine's translated blocks for guest code in [begin, end): needed after the host
   * writes guest code behind the engine's back (RAM is the host buffer mapped with
   * uc_mem_map_ptr, and neither those writes nor uc_mem_write invalidate translations).
   * uc_ctl(UC_CTL_TB_REMOVE_CACHE, 2 arguments, write direction).
   */
  removeCache(begin: number | bigint, end: number | bigint): number {
    return this.api.uc_ctl(this.uc, ctlWrite(UcCtl.TB_REMOVE_CACHE, 2), 'uint64_t', begin, 'uint64_t', end);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.api.uc_close(this.uc);
    for (const cb of this.callbacks) koffi.unregister(cb as bigint);
    for (const a of this.allocations) koffi.free(a);
    this.allocations.length = 0;
    this.callbacks.length = 0;
    this.pinned.length = 0;
  }
}
