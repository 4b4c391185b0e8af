/**
 * The native helper (native/xenvm-count.c): the instruction counter, the exception hook, the
 * system-register hook and the interrupt-entry watch. Loaded once; built on first use if needed.
 */
import koffi from 'koffi';
// @ts-ignore -- plain ESM helper shared with the setup script
import { buildCounter } from '../../scripts/native.mjs';

type Install = (uc: unknown, counter: unknown, perInstruction: number) => number;
type InstallExc = (uc: unknown, block: unknown) => number;
type InstallSys = (uc: unknown, block: unknown) => number;
type MapMmio = (uc: unknown, address: number, size: number, block: unknown) => number;
type MapUart = (uc: unknown, address: number, size: number, window: unknown) => number;
type Run = (uc: number, deferred: number, begin: bigint, timeoutUs: number, pcAfter: number) => number;
export interface NativeHelper {
  install: Install;
  installExc: InstallExc;
  installSys: InstallSys;
  installMaint: InstallSys;
  /** The MMIO trampoline (see MmioBlock). */
  mapMmio: MapMmio;
  /** The vpl011's window: the transmit fast path around an MMIO window (see UartBlock). */
  mapUart: MapUart;
  /** xenvm_run: deferred register write, uc_emu_start and PC read in one call. */
  run: Run;
}
let helper: NativeHelper | undefined;
let failure: string | undefined;

/** Builds (when needed) and loads the native helper, linked against the engine at `enginePath`. */
export function loadCounter(enginePath: string): ({ ok: true } & NativeHelper) | { ok: false; error: string } {
  if (helper) return { ok: true, ...helper };
  if (failure) return { ok: false, error: failure };
  const built = buildCounter(enginePath) as { ok: true; path: string } | { ok: false; error: string };
  if (!built.ok) {
    failure = built.error;
    return { ok: false, error: failure };
  }
  try {
    const lib = koffi.load(built.path);
    helper = {
      install: lib.func('int xenvm_counter_install(void *uc, void *counter, int per_instruction)') as Install,
      installExc: lib.func('int xenvm_exc_install(void *uc, void *block)') as InstallExc,
      installSys: lib.func('int xenvm_sys_install(void *uc, void *counter)') as InstallSys,
      installMaint: lib.func('int xenvm_maint_install(void *uc, void *counter)') as InstallSys,
      run: lib.func('int xenvm_run(uintptr_t uc, uintptr_t deferred, uint64_t begin, uint64_t timeout, uintptr_t pc_after)') as Run,
      mapMmio: lib.func('int xenvm_mmio_map(void *uc, uint64_t address, size_t size, void *block)') as MapMmio,
      mapUart: lib.func('int xenvm_uart_map(void *uc, uint64_t address, size_t size, void *window)') as MapUart,
    };
    return { ok: true, ...helper };
  } catch (e) {
    failure = `cannot load ${built.path}: ${(e as Error).message}`;
    return { ok: false, error: failure };
  }
}

/** Size of struct xenvm_counter, the per-vCPU block the counter, watch and sysreg hooks share. */
export const VCPU_BLOCK_SIZE = 168;

/**
 * The block hook's one compare (u64 fast_limit @160): `limit` (u64 @8), or 0 while il_armed
 * (u32 @96) or watch (u32 @32) is set, so that those send every block to the slow path. The C
 * side applies the same rule when the sysreg hook arms or disarms il_armed.
 */
function refreshFastLimit(words: Uint32Array, big: BigUint64Array): void {
  big[20] = words[24] !== 0 || words[8] !== 0 ? 0n : big[1];
}

/**
 * A native struct seen from JavaScript: its bytes as 32-bit words and as 64-bit slots. Offsets
 * below are byte offsets, as the C comments give them.
 */
abstract class NativeView {
  protected readonly words: Uint32Array;
  protected readonly big: BigUint64Array;
  constructor(
    readonly native: unknown,
    size: number,
  ) {
    const buf = koffi.view(native, size);
    this.words = new Uint32Array(buf);
    this.big = new BigUint64Array(buf);
  }
  /** The u64 at `off` as a number (exact below 2^53). */
  protected u64(off: number): number {
    return this.words[off / 4] + this.words[off / 4 + 1] * 0x1_0000_0000;
  }
  protected setU64(off: number, v: number): void {
    this.words[off / 4] = v >>> 0;
    this.words[off / 4 + 1] = Math.floor(v / 0x1_0000_0000);
  }
  /** The function pointer (or any address) at `off`. */
  protected setPointer(off: number, p: bigint): void {
    this.big[off / 8] = p;
  }
}

/** The counter part of struct xenvm_counter: u64 executed @0; u64 limit @8. */
export class InstructionCounter extends NativeView {
  constructor(native: unknown) {
    super(native, VCPU_BLOCK_SIZE);
  }
  get executed(): number {
    return this.u64(0);
  }
  set executed(v: number) {
    this.setU64(0, v);
  }
  set limit(v: number) {
    this.setU64(8, v);
    refreshFastLimit(this.words, this.big);
  }
  /** The translation block (per-instruction counting: the instruction) that last started (u64 block_pc @128). */
  get blockPc(): bigint {
    return this.big[16];
  }
  /**
   * The counter-read shortcut (u64 clock_base @136, u64 clock_due @144, u32 clock_tick_ns @152):
   * while `clock_base + executed < clock_due`, the sysreg hook answers CNTVCT_EL0/CNTPCT_EL0
   * reads itself with that sum divided by `tickNs`; `tickNs` 0 sends every read to the handler.
   */
  setClock(base: number | bigint, due: number | bigint, tickNs: number): void {
    if (typeof base === 'number') this.setU64(136, base);
    else this.big[17] = base;
    if (typeof due === 'number') this.setU64(144, due);
    else this.big[18] = due;
    this.words[38] = tickNs;
  }
}

export const WATCH_TAKEN = 1;
export const WATCH_RETURNED = 2;

/**
 * The interrupt-entry watch of struct xenvm_counter: u64 vbar @16, u64 ret_addr @24,
 * u32 watch @32, u32 event @36, u64 event_pc @40, handler @48. Needs the counter's block hook.
 */
export class IrqWatch extends NativeView {
  constructor(native: unknown) {
    super(native, VCPU_BLOCK_SIZE);
  }
  /** VBAR_EL1 as the guest last wrote it, bits [10:0] cleared (0 until it does). */
  get vbar(): bigint {
    return this.big[2];
  }
  /** The address whose next block start reports WATCH_RETURNED (0 = none). */
  set returnAddress(v: bigint) {
    this.big[3] = BigInt.asUintN(64, v);
  }
  set enabled(on: boolean) {
    this.words[8] = on ? 1 : 0;
    refreshFastLimit(this.words, this.big);
  }
  get event(): number {
    return this.words[9];
  }
  get eventPc(): bigint {
    return this.big[5];
  }
  setHandler(fn: bigint): void {
    this.setPointer(48, fn);
  }
}

/**
 * The system-register trap of struct xenvm_counter: u64 value @56, u32 op @64 (op0 << 14 |
 * op1 << 11 | CRn << 7 | CRm << 3 | op2), u32 rt @68, u32 read @72, u32 handled @76, handler @80,
 * u64 sctlr @88 (SCTLR_EL1 as the guest last wrote it with MSR), u32 il_armed @96 (the guest
 * wrote an SPSR_EL1 an ERET cannot legally return to), u64 sys_pc @104, u32 pfr0_gic @112,
 * u32 maint_tlbi @116, u32 maint_ic @120.
 */
export class SysregBlock extends NativeView {
  constructor(native: unknown) {
    super(native, VCPU_BLOCK_SIZE);
  }
  get op0(): number {
    return (this.words[16] >>> 14) & 3;
  }
  get op1(): number {
    return (this.words[16] >>> 11) & 7;
  }
  get crn(): number {
    return (this.words[16] >>> 7) & 0xf;
  }
  get crm(): number {
    return (this.words[16] >>> 3) & 0xf;
  }
  get op2(): number {
    return this.words[16] & 7;
  }
  get rt(): number {
    return this.words[17];
  }
  get read(): boolean {
    return this.words[18] !== 0;
  }
  /** MSR: the value written. */
  get value(): bigint {
    return this.big[7];
  }
  /** Emulated: for an MRS, `v` goes to Rt; the engine skips the access either way. */
  answer(v: bigint): void {
    this.big[7] = BigInt.asUintN(64, v);
    this.words[19] = 1;
  }
  setHandler(fn: bigint): void {
    this.setPointer(80, fn);
  }
  /** SCTLR_EL1.M as the guest last wrote it: one memory read, no engine call. */
  get mmuOn(): boolean {
    return (this.words[22] & 1) !== 0;
  }
  /** For writes made by the hypervisor rather than the guest's MSR. */
  set sctlr(v: bigint) {
    this.big[11] = BigInt.asUintN(64, v);
  }
  get ilArmed(): boolean {
    return this.words[24] !== 0;
  }
  set ilArmed(on: boolean) {
    this.words[24] = on ? 1 : 0;
    refreshFastLimit(this.words, this.big);
  }
  /**
   * Address of the MRS/MSR at which a run was stopped from inside the hook (u64 sys_pc @104):
   * written natively for an illegal SPSR_EL1, by the vCPU for a stop its handler asked for.
   */
  get pc(): bigint {
    return this.big[13];
  }
  set pc(v: bigint) {
    this.big[13] = BigInt.asUintN(64, v);
  }
  /** ID_AA64PFR0_EL1.GIC as the guest reads it (u32 pfr0_gic @112; the native hook answers the MRS). */
  set pfr0Gic(v: number) {
    this.words[28] = v;
  }
  /** TLBI instructions the guest executed (u32 maint_tlbi @116; counted once hookMaintenance ran). */
  get tlbiCount(): number {
    return this.words[29];
  }
  /** IC IALLU / IALLUIS / IVAU executed (u32 maint_ic @120). */
  get icCount(): number {
    return this.words[30];
  }
}

/** A fresh, zeroed struct xenvm_counter in native memory. */
export function allocVcpuBlock(): unknown {
  const mem = koffi.alloc('uint8_t', VCPU_BLOCK_SIZE);
  new Uint8Array(koffi.view(mem, VCPU_BLOCK_SIZE)).fill(0);
  return mem;
}

/**
 * struct xenvm_exc in native memory: the registers of the HVC being handled and the value to
 * leave in x0, so a hypercall costs one JavaScript<->native crossing instead of three.
 *   u64 regs[7] (x16, x0..x4, pc) @0; u64 ret @56; u32 intno @64; u32 write_x0 @68; fn @72
 */
export class ExceptionBlock extends NativeView {
  static readonly SIZE = 80;
  constructor(native: unknown) {
    super(native, ExceptionBlock.SIZE);
  }
  get intno(): number {
    return this.words[16];
  }
  /** Register i of x16, x0..x4, pc as a number (exact below 2^53). */
  num(i: number): number {
    return this.u64(8 * i);
  }
  /** The HVC's PC (past the HVC), exact. */
  get pc(): bigint {
    const hi = this.words[13];
    return hi === 0 ? BigInt(this.words[12]) : this.big[6];
  }
  bigint(i: number): bigint {
    const hi = this.words[2 * i + 1];
    return hi === 0 ? BigInt(this.words[2 * i]) : this.big[i];
  }
  /** Leaves `v` (sign-extended) in x0 when the handler returns. */
  setReturn(v: number | bigint): void {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= -0x8000_0000 && v <= 0xffff_ffff) {
      this.words[14] = v >>> 0;
      this.words[15] = v < 0 ? 0xffffffff : 0;
    } else {
      this.big[7] = BigInt.asUintN(64, BigInt(v));
    }
    this.words[17] = 1;
  }
  setHandler(fn: bigint): void {
    this.setPointer(72, fn);
  }
}

/**
 * struct xenvm_mmio in native memory: one access to an MMIO window, handed to a void(void)
 * JavaScript handler by the native trampoline.
 *   u64 offset @0; u64 value @8; u32 size @16; u32 write @20; fn @24; deferred @32
 */
export class MmioBlock extends NativeView {
  static readonly SIZE = 40;
  constructor(native: unknown) {
    super(native, MmioBlock.SIZE);
  }
  get offset(): number {
    return this.u64(0);
  }
  get size(): number {
    return this.words[4];
  }
  get write(): boolean {
    return this.words[5] !== 0;
  }
  /** A write's value: a number below 2^53, a bigint above (as koffi passes a uint64_t). */
  get value(): number | bigint {
    const hi = this.words[3];
    return hi < 0x20_0000 ? this.u64(8) : this.big[1];
  }
  /** A read's result (a negative number or any bigint is taken modulo 2^64). */
  setValue(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) this.setU64(8, v);
    else this.big[1] = BigInt.asUintN(64, BigInt(v));
  }
  setHandler(fn: bigint): void {
    this.setPointer(24, fn);
  }
  setDeferred(block: bigint): void {
    this.setPointer(32, block);
  }
}

/**
 * struct xenvm_uart in native memory, one per domain: the vpl011's transmit fast path.
 *   u32 fr @0 (UARTFR as the guest reads it), u32 fast @4, u32 len @8, u8 buf[4096] @16.
 * While `fast` is set the native window answers FR reads from `fr` and queues DR writes in `buf`
 * (clearing TXFE in `fr`); the owner takes them with `take()`.
 */
export class UartBlock extends NativeView {
  static readonly BUF = 4096;
  static readonly SIZE = 16 + UartBlock.BUF;
  private readonly bytes: Uint8Array;
  constructor() {
    const mem = koffi.alloc('uint8_t', UartBlock.SIZE);
    super(mem, UartBlock.SIZE);
    this.bytes = new Uint8Array(koffi.view(mem, UartBlock.SIZE));
    this.bytes.fill(0);
  }
  get fr(): number {
    return this.words[0];
  }
  set fr(v: number) {
    this.words[0] = v;
  }
  set fast(on: boolean) {
    this.words[1] = on ? 1 : 0;
  }
  /** The characters queued since the last call (a copy), emptying the queue. */
  take(): Uint8Array | undefined {
    const n = this.words[2];
    if (n === 0) return undefined;
    const out = this.bytes.slice(16, 16 + n);
    this.words[2] = 0;
    return out;
  }
  /** Releases the native memory (the owner's engines must be closed first). */
  free(): void {
    koffi.free(this.native);
  }
}

/**
 * struct xenvm_cp_write in native memory: a system-register write the MMIO trampoline makes
 * once the JavaScript handler has returned.
 *   u32 pending @0; uc_arm64_cp_reg { u32 crn, crm, op0, op1, op2; (pad) u64 val } @8
 */
export class DeferredCpWrite extends NativeView {
  static readonly SIZE = 40;
  /** The register last stored (its address fields are still in place). */
  reg: { crn: number; crm: number; op0: number; op1: number; op2: number } | undefined;
  constructor(native: unknown) {
    super(native, DeferredCpWrite.SIZE);
  }
  get pending(): boolean {
    return this.words[0] !== 0;
  }
  clear(): void {
    this.words[0] = 0;
  }
  get value(): bigint {
    return this.big[4];
  }
  set(r: { crn: number; crm: number; op0: number; op1: number; op2: number }, v: bigint): void {
    if (r !== this.reg) {
      this.reg = r;
      this.words[2] = r.crn;
      this.words[3] = r.crm;
      this.words[4] = r.op0;
      this.words[5] = r.op1;
      this.words[6] = r.op2;
    }
    this.big[4] = BigInt.asUintN(64, v);
    this.words[0] = 1;
  }
}
