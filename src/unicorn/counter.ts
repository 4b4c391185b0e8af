/**
 * The native instruction counter (native/xenvm-count.c): exact retired-instruction counts and
 * instruction budgets for counted runs. Loaded once; built on first use if needed.
 */
import koffi from 'koffi';
// @ts-ignore -- plain ESM helper shared with the setup script
import { buildCounter } from '../../scripts/native.mjs';

type Install = (uc: unknown, counter: unknown, perInstruction: number) => number;
let install: Install | undefined;
let failure: string | undefined;

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
