/**
 * The native instruction counter (native/xenvm-count.c): exact retired-instruction counts and
 * instruction budgets for counted runs. Loaded once; built on first use if needed.
 */
import koffi from 'koffi';
// @ts-ignore -- plain ESM helper shared with the setup script
import { buildCounter } from '../../scripts/native.mjs';

type Install = (uc: unknown, counter: unknown, perInstruction: number) => number;
type InstallExc = (uc: unknown, block: unknown) => number;
type MapMmio = (uc: unknown, address: number, size: number, block: unknown) => number;
let install: Install | undefined;
let installExc: InstallExc | undefined;
let mapMmio: MapMmio | undefined;
type Run = (uc: number, deferred: number, begin: number, timeoutUs: number, pcAfter: number) => number;
let runVcpu: Run | undefined;
let failure: string | undefined;

/** The exception hook of native/xenvm-count.c (see ExceptionBlock). */
export function loadExceptionHook(): { ok: true; install: InstallExc } | { ok: false; error: string } {
  const r = loadCounter();
  if (!r.ok) return r;
  return { ok: true, install: installExc! };
}

/** The MMIO trampoline of native/xenvm-count.c (see MmioBlock). */
export function loadMmioTrampoline(): { ok: true; map: MapMmio } | { ok: false; error: string } {
  const r = loadCounter();
  if (!r.ok) return r;
  return { ok: true, map: mapMmio! };
}

/** xenvm_run of native/xenvm-count.c: deferred register write, uc_emu_start and PC read in one call. */
export function loadRunner(): { ok: true; run: Run } | { ok: false; error: string } {
  const r = loadCounter();
  if (!r.ok) return r;
  return { ok: true, run: runVcpu! };
}

export function loadCounter(): { ok: true; install: Install } | { ok: false; error: string } {
  if (install) return { ok: true, install };
  if (failure) return { ok: false, error: failure };
  const built = buildCounter() as { ok: true; path: string } | { ok: false; error: string };
  if (!built.ok) {
    failure = built.error;
    return { ok: false, error: failure };
  }
  try {
    const lib = koffi.load(built.path);
    install = lib.func('int xenvm_counter_install(void *uc, void *counter, int per_instruction)') as Install;
    installExc = lib.func('int xenvm_exc_install(void *uc, void *block)') as InstallExc;
    runVcpu = lib.func('int xenvm_run(uintptr_t uc, uintptr_t deferred, uint64_t begin, uint64_t timeout, uintptr_t pc_after)') as Run;
    mapMmio = lib.func('int xenvm_mmio_map(void *uc, uint64_t address, size_t size, void *block)') as MapMmio;
    return { ok: true, install };
  } catch (e) {
    failure = `cannot load ${built.path}: ${(e as Error).message}`;
    return { ok: false, error: failure };
  }
}

/** struct xenvm_counter { u64 executed; u64 limit; } in native memory, viewed from JS. */
export class InstructionCounter {
  private readonly words: Uint32Array;
  constructor(readonly native: unknown) {
    this.words = new Uint32Array(koffi.view(native, 16));
  }
  get executed(): number {
    return this.words[0] + this.words[1] * 0x1_0000_0000;
  }
  set executed(v: number) {
    this.words[0] = v >>> 0;
    this.words[1] = Math.floor(v / 0x1_0000_0000);
  }
  set limit(v: number) {
    this.words[2] = v >>> 0;
    this.words[3] = Math.floor(v / 0x1_0000_0000);
  }
}

/**
 * struct xenvm_exc in native memory: the registers of the HVC being handled and the value to
 * leave in x0, so a hypercall costs one JavaScript<->native crossing instead of three.
 *   u64 regs[7] (x16, x0..x4, pc) @0; u64 ret @56; u32 intno @64; u32 write_x0 @68; fn @72
 */
export class ExceptionBlock {
  static readonly SIZE = 80;
  private readonly words: Uint32Array;
  private readonly big: BigUint64Array;
  constructor(readonly native: unknown) {
    const buf = koffi.view(native, ExceptionBlock.SIZE);
    this.words = new Uint32Array(buf);
    this.big = new BigUint64Array(buf);
  }
  get intno(): number {
    return this.words[16];
  }
  /** Register i of x16, x0..x4, pc as a number (exact below 2^53). */
  num(i: number): number {
    return this.words[2 * i] + this.words[2 * i + 1] * 0x1_0000_0000;
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
    this.big[9] = fn;
  }
}

/**
 * struct xenvm_mmio in native memory: one access to an MMIO window, handed to a void(void)
 * JavaScript handler by the native trampoline.
 *   u64 offset @0; u64 value @8; u32 size @16; u32 write @20; fn @24; deferred @32
 */
export class MmioBlock {
  static readonly SIZE = 40;
  private readonly words: Uint32Array;
  private readonly big: BigUint64Array;
  constructor(readonly native: unknown) {
    const buf = koffi.view(native, MmioBlock.SIZE);
    this.words = new Uint32Array(buf);
    this.big = new BigUint64Array(buf);
  }
  get offset(): number {
    return this.words[0] + this.words[1] * 0x1_0000_0000;
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
    return hi < 0x20_0000 ? this.words[2] + hi * 0x1_0000_0000 : this.big[1];
  }
  /** A read's result (a negative number or any bigint is taken modulo 2^64). */
  setValue(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      this.words[2] = v >>> 0;
      this.words[3] = Math.floor(v / 0x1_0000_0000);
    } else {
      this.big[1] = BigInt.asUintN(64, BigInt(v));
    }
  }
  setHandler(fn: bigint): void {
    this.big[3] = fn;
  }
  setDeferred(block: bigint): void {
    this.big[4] = block;
  }
}

/**
 * struct xenvm_cp_write in native memory: a system-register write the MMIO trampoline makes
 * once the JavaScript handler has returned.
 *   u32 pending @0; uc_arm64_cp_reg { u32 crn, crm, op0, op1, op2; (pad) u64 val } @8
 */
export class DeferredCpWrite {
  static readonly SIZE = 40;
  private readonly words: Uint32Array;
  private readonly big: BigUint64Array;
  /** The register last stored (its address fields are still in place). */
  reg: { crn: number; crm: number; op0: number; op1: number; op2: number } | undefined;
  constructor(readonly native: unknown) {
    const buf = koffi.view(native, DeferredCpWrite.SIZE);
    this.words = new Uint32Array(buf);
    this.big = new BigUint64Array(buf);
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
