// A64 instruction words the CPU tests write into guest memory by hand (Arm ARM DDI0487, C6).
// Only encodings several tests share; a test's one-off instructions stay beside it.

/** MOVZ Xd, #imm16{, LSL #shift} (shift 0, 16, 32 or 48). */
export const MOVZ = (rd: number, imm: number, shift = 0) => (0xd2800000 | ((shift / 16) << 21) | ((imm & 0xffff) << 5) | rd) >>> 0;
/** MOVK Xd, #imm16, LSL #shift: keeps the other 16-bit fields (builds a 64-bit address with MOVZ). */
export const MOVK = (rd: number, imm: number, shift: number) => (0xf2800000 | ((shift / 16) << 21) | ((imm & 0xffff) << 5) | rd) >>> 0;
/** HVC #imm16 */
export const HVC = (imm: number) => (0xd4000002 | (imm << 5)) >>> 0;
/** ERET */
export const ERET = 0xd69f03e0;
/** WFI: the vCPU waits for an interrupt (a test's usual end of program). */
export const WFI = 0xd503207f;
export const NOP = 0xd503201f;
/** UDF #0: always undefined, an exception with EC 0 (unknown reason). */
export const UDF = 0x00000000;
/** LDR X1, [X2] */
export const LDR_X1_X2 = 0xf9400041;
