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
export interface NativeHelper {
  install: Install;
  installExc: InstallExc;
  installSys: InstallSys;
}
let helper: NativeHelper | undefined;
let failure: string | undefined;

export function loadCounter(): ({ ok: true } & NativeHelper) | { ok: false; error: string } {
  if (helper) return { ok: true, ...helper };
  if (failure) return { ok: false, error: failure };
  const built = buildCounter() as { ok: true; path: string } | { ok: false; error: string };
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
    };
    return { ok: true, ...helper };
  } catch (e) {
    failure = `cannot load ${built.path}: ${(e as Error).message}`;
    return { ok: false, error: failure };
  }
}

/** Size of struct xenvm_counter, the per-vCPU block the counter, watch and sysreg hooks share. */
export const VCPU_BLOCK_SIZE = 88;

/** A u64 at byte offset `off` of a Uint32Array view, as a number (exact below 2^53). */
function u64(w: Uint32Array, off: number): number {
  return w[off / 4] + w[off / 4 + 1] * 0x1_0000_0000;
}
function setU64(w: Uint32Array, off: number, v: number): void {
  w[off / 4] = v >>> 0;
  w[off / 4 + 1] = Math.floor(v / 0x1_0000_0000);
}

/** The counter part of struct xenvm_counter: u64 executed @0; u64 limit @8. */
export class InstructionCounter {
  private readonly words: Uint32Array;
  constructor(readonly native: unknown) {
    this.words = new Uint32Array(koffi.view(native, VCPU_BLOCK_SIZE));
  }
  get executed(): number {
    return u64(this.words, 0);
  }
  set executed(v: number) {
    setU64(this.words, 0, v);
  }
  set limit(v: number) {
    setU64(this.words, 8, v);
  }
}

export const WATCH_TAKEN = 1;
export const WATCH_RETURNED = 2;

/**
 * The interrupt-entry watch of struct xenvm_counter: u64 vbar @16, u64 ret_addr @24,
 * u32 watch @32, u32 event @36, u64 event_pc @40, handler @48. Needs the counter's block hook.
 */
export class IrqWatch {
  private readonly words: Uint32Array;
  private readonly big: BigUint64Array;
  constructor(readonly native: unknown) {
    const buf = koffi.view(native, VCPU_BLOCK_SIZE);
    this.words = new Uint32Array(buf);
    this.big = new BigUint64Array(buf);
  }
  /** VBAR_EL1 as the guest last wrote it (0 until it does). */
  get vbar(): number {
    return u64(this.words, 16);
  }
  /** The address whose next block start reports WATCH_RETURNED (0 = none). */
  set returnAddress(v: number) {
    setU64(this.words, 24, v);
  }
  get returnAddress(): number {
    return u64(this.words, 24);
  }
  set enabled(on: boolean) {
    this.words[8] = on ? 1 : 0;
  }
  get event(): number {
    return this.words[9];
  }
  get eventPc(): number {
    return u64(this.words, 40);
  }
  setHandler(fn: bigint): void {
    this.big[6] = fn;
  }
}

/**
 * The system-register trap of struct xenvm_counter: u64 value @56, u32 op @64, u32 rt @68,
 * u32 read @72, u32 handled @76, handler @80.
 */
export class SysregBlock {
  private readonly words: Uint32Array;
  private readonly big: BigUint64Array;
  constructor(readonly native: unknown) {
    const buf = koffi.view(native, VCPU_BLOCK_SIZE);
    this.words = new Uint32Array(buf);
    this.big = new BigUint64Array(buf);
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
    this.big[10] = fn;
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
