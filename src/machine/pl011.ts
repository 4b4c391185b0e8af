/**
 * The console UART Xen gives a dom0less domU: `vpl011`, an SBSA generic UART (a subset of the
 * Arm PL011, DDI 0183) at GUEST_PL011_BASE 0x22000000 whose interrupt is GUEST_VPL011_SPI 32
 * (xen/include/public/arch-arm.h), with Xen itself as the console back end. Linux's
 * `arm,sbsa-uart` driver and the pl011 earlycon drive it.
 *
 * What a guest sees, as read back from the real Xen 4.17 by firmware/apps/vpl011-probe
 * (test/golden/vpl011-probe.*):
 * - Registers: DR, RSR (reads 0, writes ignored), FR, IMSC (all 32 bits stored), RIS,
 *   MIS = RIS & IMSC, ICR (write-1-to-clear RIS; reading it is refused). Writes to FR, RIS and
 *   MIS are ignored. Every other offset (CR, LCR_H, IBRD, the PrimeCell ID registers, ...) and
 *   every 64-bit access is refused: Xen logs it and injects a data abort.
 * - FR reads TXFE|RXFE (0x90) until the first character, then RXFE (0x10) for good: the Xen
 *   back end never drains a FIFO, so TXFE stays clear, while TXFF and BUSY are never set and a
 *   polling writer never waits.
 * - Each character sets RIS.TX. The SPI is raised when RIS & IMSC gains a bit it did not have at
 *   the previous update (Xen injects an edge on each new bit, not a level): unmasking TX while
 *   RIS.TX is set raises it once, more characters do not, an ICR write of TX followed by a
 *   character raises it again.
 * - Nothing is ever received: DR reads 0 (Xen logs "Unexpected IN ring buffer empty").
 */
import type { MmioDevice } from '../cpu/vcpu.ts';

/** Register offsets (PL011 TRM, SBSA generic UART). */
export const UART = {
  DR: 0x000,
  RSR: 0x004,
  FR: 0x018,
  IMSC: 0x038,
  RIS: 0x03c,
  MIS: 0x040,
  ICR: 0x044,
} as const;

/** UARTFR bits. */
export const FR = { BUSY: 1 << 3, RXFE: 1 << 4, TXFF: 1 << 5, RXFF: 1 << 6, TXFE: 1 << 7 } as const;
/** Interrupt bits of IMSC/RIS/MIS/ICR: RX, TX, RX timeout. */
export const INT = { RX: 1 << 4, TX: 1 << 5, RT: 1 << 6 } as const;

export const PL011_SIZE = 0x1000;
/** GUEST_VPL011_SPI: the vpl011's interrupt in every domU (one definition, with Xen's guest layout). */
export { GUEST_VPL011_SPI } from './fdt/domu.ts';

/** Collects bytes into lines; `onLine` gets each line without its newline (and without a CR before it). */
/** Longest console line kept whole (bytes). */
const MAX_LINE = 65536;

export class LineBuffer {
  private pending = '';
  constructor(private readonly onLine: (text: string) => void) {}

  putc(byte: number): void {
    if (byte === 0x0a) {
      const line = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
      this.pending = '';
      this.onLine(line);
    } else {
      this.pending += String.fromCharCode(byte);
      // A guest that never prints a newline must not grow this without bound: a very long
      // line goes out in pieces (console output as a whole is capped by the machine).
      if (this.pending.length >= MAX_LINE) {
        const line = this.pending;
        this.pending = '';
        this.onLine(line);
      }
    }
  }

  /** Text after the last newline (Xen never prints it; callers decide). */
  get partial(): string {
    return this.pending;
  }
}

/** One register access: its value, or why Xen refuses it (a data abort for the guest). */
export type UartAccess = { ok: true; value: number } | { ok: false; error: string };

export interface Vpl011Config {
  out: LineBuffer;
  /** Raises the vpl011's SPI (one edge). */
  raiseIrq(): void;
  /** A line Xen would log for this access ("vpl011: unhandled read offset 0x30"). */
  log?(text: string): void;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * A native transmit fast path (src/unicorn/counter.ts UartBlock): while `fast` is set, the
 * engine's window answers FR reads from `fr` and queues DR bytes (clearing TXFE in `fr`), which
 * `take()` hands over.
 */
export interface UartFastPath {
  fr: number;
  fast: boolean;
  take(): Uint8Array | undefined;
}

export class Vpl011 implements MmioDevice {
  private fr = FR.TXFE | FR.RXFE;
  private ris = 0;
  private imsc = 0;
  /** RIS & IMSC at the last update: the SPI is raised only for bits new since then. */
  private shadowMis = 0;
  private readonly cfg: Vpl011Config;
  private native: UartFastPath | undefined;
  private nativeAllowed = false;

  constructor(cfg: Vpl011Config) {
    this.cfg = cfg;
  }

  /**
   * Lets the engine's window take FR reads and DR writes itself while that changes nothing but
   * FR and the output (see `sync`); `allowed` false (a trace wants each character as it comes)
   * keeps every access here.
   */
  attachNative(native: UartFastPath, allowed: boolean): void {
    this.native = native;
    this.nativeAllowed = allowed;
    this.sync();
  }

  /**
   * Takes the characters the native path queued, as if each had been written here, in order.
   * The hypervisor calls this after every run and before it handles anything else of the
   * domain (a hypercall, a device access), so output keeps its place among everything else.
   */
  drain(): void {
    const n = this.native;
    if (!n) return;
    const bytes = n.take();
    if (!bytes) return;
    for (let i = 0; i < bytes.length; i++) this.cfg.out.putc(bytes[i]);
    this.transmitted();
    this.sync();
  }

  /**
   * The native path may take DR writes only when one cannot raise the SPI: RIS.TX set by the
   * character must not add a bit to RIS & IMSC that the last update did not see (Xen's edge).
   */
  private sync(): void {
    const n = this.native;
    if (!n) return;
    n.fr = this.fr;
    n.fast = this.nativeAllowed && ((this.ris | INT.TX) & this.imsc & ~this.shadowMis) === 0;
  }

  /** A guest read of `size` bytes at `offset`. */
  readReg(offset: number, size: number): UartAccess {
    if (size === 8) return this.refuse(`bad read width ${size} offset ${hex(offset)}`);
    switch (offset) {
      case UART.DR:
        this.cfg.log?.('vpl011: Unexpected IN ring buffer empty');
        this.fr &= ~FR.RXFF;
        return { ok: true, value: 0 };
      case UART.RSR:
        return { ok: true, value: 0 };
      case UART.FR:
        return { ok: true, value: narrow(this.fr, size) };
      case UART.RIS:
        return { ok: true, value: narrow(this.ris, size) };
      case UART.MIS:
        return { ok: true, value: narrow(this.ris & this.imsc, size) };
      case UART.IMSC:
        return { ok: true, value: narrow(this.imsc, size) };
      case UART.ICR:
        return this.refuse(`read of the write-only ICR`); // Xen refuses it without a log line
      default:
        return this.refuse(`unhandled read offset ${hex(offset)}`);
    }
  }

  /** A guest write of `size` bytes at `offset`. */
  writeReg(offset: number, size: number, value: number): UartAccess {
    if (size === 8) return this.refuse(`bad write width ${size} offset ${hex(offset)}`);
    const v = narrow(value, size);
    switch (offset) {
      case UART.DR:
        this.cfg.out.putc(v & 0xff);
        this.transmitted();
        return { ok: true, value: 0 };
      case UART.RSR: // nothing to clear
      case UART.FR:
      case UART.RIS:
      case UART.MIS:
        return { ok: true, value: 0 };
      case UART.IMSC:
        this.imsc = size === 4 ? v : ((this.imsc & ~lowMask(size)) | v) >>> 0;
        this.update();
        return { ok: true, value: 0 };
      case UART.ICR:
        this.ris &= ~v;
        this.update();
        return { ok: true, value: 0 };
      default:
        return this.refuse(`unhandled write offset ${hex(offset)}`);
    }
  }

  // MmioDevice. A refused access cannot abort here (the engine's MMIO callback has no way to
  // fault the instruction), so it reads as zero and the write is dropped, and the log says so.
  read(offset: number, size: number): number {
    this.drain();
    const r = this.readReg(offset, size);
    this.sync();
    return r.ok ? r.value : 0;
  }

  write(offset: number, size: number, value: number | bigint): void {
    this.drain();
    // Every console byte comes here without the native path: no bigint unless the engine handed one.
    this.writeReg(offset, size, typeof value === 'number' ? value >>> 0 : Number(BigInt.asUintN(32, value)));
    this.sync();
  }

  /** What sending characters does to the registers: RIS.TX set, TXFE clear for good, the SPI's edge. */
  private transmitted(): void {
    this.ris |= INT.TX;
    this.fr &= ~FR.TXFE;
    this.update();
  }

  private update(): void {
    const mis = this.ris & this.imsc;
    if (mis & ~this.shadowMis) this.cfg.raiseIrq();
    this.shadowMis = mis;
  }

  private refuse(what: string): UartAccess {
    const error = `vpl011: ${what} (Xen injects a data abort)`;
    this.cfg.log?.(error);
    return { ok: false, error };
  }
}

function lowMask(size: number): number {
  return size >= 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
}

/** The low `size` bytes of a 32-bit register, as a narrow access at its offset sees them. */
function narrow(v: number, size: number): number {
  return (v & lowMask(size)) >>> 0;
}
