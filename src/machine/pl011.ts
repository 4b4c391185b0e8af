/**
 * The console UART Xen gives a dom0less domU (`vpl011`): an SBSA/PL011 at 0x22000000 with only
 * what output needs. Arm PL011 TRM (DDI 0183): UARTDR at 0x000, UARTFR at 0x018 with TXFE
 * (bit 7) and RXFE (bit 4); the transmit FIFO is never full, so a polling guest never waits.
 */
import type { MmioDevice } from '../cpu/vcpu.ts';

const UARTDR = 0x000;
const UARTFR = 0x018;
const UARTFR_RXFE = 1 << 4;
const UARTFR_TXFE = 1 << 7;
/** PrimeCell identification (UARTPeriphID0..3, UARTPCellID0..3) so probing drivers accept it. */
const ID_REGS: Record<number, number> = {
  0xfe0: 0x11, 0xfe4: 0x10, 0xfe8: 0x14, 0xfec: 0x00,
  0xff0: 0x0d, 0xff4: 0xf0, 0xff8: 0x05, 0xffc: 0xb1,
};

export const PL011_SIZE = 0x1000;

/** Collects bytes into lines; `onLine` gets each line without its newline (and without a CR before it). */
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
    }
  }

  /** Text after the last newline (Xen never prints it; callers decide). */
  get partial(): string {
    return this.pending;
  }
}

export class Pl011 implements MmioDevice {
  constructor(private readonly out: LineBuffer) {}

  read(offset: number): number {
    if (offset === UARTFR) return UARTFR_TXFE | UARTFR_RXFE;
    return ID_REGS[offset] ?? 0;
  }

  write(offset: number, _size: number, value: number | bigint): void {
    if (offset === UARTDR) this.out.putc(Number(BigInt(value) & 0xffn));
  }
}
