/**
 * The AArch64 register file as GDB sees it: the order of the `g` packet and the target
 * description that names it (GDB manual, "Target Descriptions", "AArch64 Features": the
 * `org.gnu.gdb.aarch64.core` feature must hold x0-x30, sp, pc and cpsr). We describe only
 * the core registers; without an FPU feature GDB neither shows nor asks for v0-v31.
 */

/** GDB register numbers (the order of `g`). */
export const GdbReg = { X0: 0, X30: 30, SP: 31, PC: 32, CPSR: 33 } as const;
export const GDB_REG_COUNT = 34;

/** Size in bytes of GDB register `n`, or undefined when there is no such register. */
export function regSize(n: number): number | undefined {
  if (!Number.isInteger(n) || n < 0 || n >= GDB_REG_COUNT) return undefined;
  return n === GdbReg.CPSR ? 4 : 8;
}

/** Little-endian hex of a register value, as `g`/`p` carry it (the target's byte order). */
export function regToHex(value: bigint, size: number): string {
  let s = '';
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    s += Number(v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return s;
}

/** Parses `size` little-endian bytes of hex; undefined when malformed. */
export function regFromHex(text: string, size: number): bigint | undefined {
  if (text.length !== size * 2 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(parseInt(text.slice(2 * i, 2 * i + 2), 16));
  return v;
}

function reg(name: string, num: number, bits: number, type: string): string {
  return `  <reg name="${name}" bitsize="${bits}" regnum="${num}" type="${type}" group="general"/>`;
}

/** The target description served through qXfer:features:read:target.xml. */
export const TARGET_XML = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
  '<target version="1.0">',
  '<architecture>aarch64</architecture>',
  '<feature name="org.gnu.gdb.aarch64.core">',
  ...Array.from({ length: 31 }, (_, i) => reg(`x${i}`, i, 64, 'int')),
  reg('sp', GdbReg.SP, 64, 'data_ptr'),
  reg('pc', GdbReg.PC, 64, 'code_ptr'),
  // PSTATE as SPSR lays it out (NZCV, DAIF, mode); 32 bits in GDB's AArch64 layout.
  reg('cpsr', GdbReg.CPSR, 32, 'int'),
  '</feature>',
  '</target>',
  '',
].join('\n');
