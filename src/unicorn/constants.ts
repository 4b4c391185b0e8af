/**
 * Numeric constants of the Unicorn 2.1 C API (unicorn/unicorn.h, unicorn/arm64.h), read off the
 * headers of Debian trixie's libunicorn-dev 2.1.1 (every value this project used from 2.0.1 is
 * unchanged in 2.1; 2.1 adds the CPU-model control and more system registers). Only what this
 * project uses. This module and binding.ts are the only places that know these numbers.
 */
export const UC_ARCH_ARM64 = 2;
export const UC_MODE_ARM = 0;
/** enum uc_cpu_arm64: the CPU model chosen with UC_CTL_CPU_MODEL. */
export const UC_CPU_ARM64_A57 = 0;

/** enum uc_control_type (the low bits of a uc_ctl request). */
export const UcCtl = {
  CPU_MODEL: 7,
  TB_REMOVE_CACHE: 9,
  TB_FLUSH: 10,
  TLB_FLUSH: 11,
  TCG_BUFFER_SIZE: 13,
} as const;

/** UC_CTL_WRITE(type, nr): a request that passes `nr` arguments in (UC_CTL_IO_WRITE = 1 in bits 31:30). */
export function ctlWrite(type: number, nr: number): number {
  return type | (nr << 26) | (1 << 30);
}

export const UcErr = {
  OK: 0,
  NOMEM: 1,
  ARCH: 2,
  HANDLE: 3,
  MODE: 4,
  VERSION: 5,
  READ_UNMAPPED: 6,
  WRITE_UNMAPPED: 7,
  FETCH_UNMAPPED: 8,
  HOOK: 9,
  INSN_INVALID: 10,
  MAP: 11,
  WRITE_PROT: 12,
  READ_PROT: 13,
  FETCH_PROT: 14,
  ARG: 15,
  READ_UNALIGNED: 16,
  WRITE_UNALIGNED: 17,
  FETCH_UNALIGNED: 18,
  HOOK_EXIST: 19,
  RESOURCE: 20,
  EXCEPTION: 21,
} as const;

export const UcHook = {
  INTR: 1,
  INSN: 2,
  CODE: 4,
  BLOCK: 8,
  MEM_READ_UNMAPPED: 16,
  MEM_WRITE_UNMAPPED: 32,
  MEM_FETCH_UNMAPPED: 64,
  MEM_UNMAPPED: 112,
  MEM_READ_PROT: 128,
  MEM_WRITE_PROT: 256,
  MEM_FETCH_PROT: 512,
  MEM_INVALID: 1008,
  MEM_READ: 1024,
  MEM_WRITE: 2048,
  INSN_INVALID: 16384,
} as const;

export const UcMemType = {
  READ: 16,
  WRITE: 17,
  FETCH: 18,
  READ_UNMAPPED: 19,
  WRITE_UNMAPPED: 20,
  FETCH_UNMAPPED: 21,
  WRITE_PROT: 22,
  READ_PROT: 23,
  FETCH_PROT: 24,
} as const;

export const UcProt = { NONE: 0, READ: 1, WRITE: 2, EXEC: 4, ALL: 7 } as const;

/** Register ids (enum uc_arm64_reg). X0..X28 are consecutive from 199; X29/X30 are aliases FP/LR. */
export const Reg = {
  X29: 1,
  X30: 2,
  NZCV: 3,
  SP: 4,
  X0: 199,
  X16: 215,
  X28: 227,
  PC: 260,
  CPACR_EL1: 261,
  PSTATE: 265,
  ELR_EL1: 267,
  SP_EL0: 270,
  SP_EL1: 271,
  TTBR0_EL1: 274,
  TTBR1_EL1: 275,
  ESR_EL1: 277,
  FAR_EL1: 281,
  VBAR_EL1: 287,
  CP_REG: 290,
} as const;

/** Register id of Xn for n in 0..30. */
export function xreg(n: number): number {
  if (n < 29) return Reg.X0 + n;
  return n === 29 ? Reg.X29 : Reg.X30;
}

/**
 * QEMU/Unicorn exception numbers reported to UC_HOOK_INTR on Arm (target/arm/cpu.h EXCP_*).
 * Synchronous exceptions are handed to the hook instead of the guest's vectors.
 */
export const Excp = {
  UDEF: 1,
  SWI: 2,
  PREFETCH_ABORT: 3,
  DATA_ABORT: 4,
  IRQ: 5,
  FIQ: 6,
  BKPT: 7,
  EXCEPTION_EXIT: 8,
  KERNEL_TRAP: 9,
  HVC: 11,
  HYP_TRAP: 12,
  SMC: 13,
  VIRQ: 14,
  VFIQ: 15,
  SEMIHOST: 16,
  NOCP: 17,
  INVSTATE: 18,
  STKOF: 19,
  LAZYFP: 20,
  LSERR: 21,
  UNALIGNED: 22,
} as const;
