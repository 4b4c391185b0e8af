/**
 * The native instruction counter (native/xenvm-count.c): exact retired-instruction counts and
 * instruction budgets for counted runs. Loaded once; built on first use if needed.
 */
import koffi from 'koffi';
// @ts-ignore -- plain ESM helper shared with the setup script
import { buildCounter } from '../../scripts/native.mjs';

type Install = (uc: unknown, counter: unknown, perInstruction: number) => number;
type InstallExc = (uc: unknown, block: unknown) => number;
let install: Install | undefined;
let installExc: InstallExc | undefined;
let failure: string | undefined;

/** The exception hook of native/xenvm-count.c (see ExceptionBlock). */
export function loadExceptionHook(): { ok: true; install: InstallExc } | { ok: false; error: string } {
  const r = loadCounter();
  if (!r.ok) return r;
  return { ok: true, install: installExc! };
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
