/**
 * One GDB connection: acknowledgements, retransmission, and the commands of the remote
 * serial protocol (GDB manual, "Remote Protocol", "Packets" and "General Query Packets"),
 * carried out on a `DebugTarget`. It knows nothing of sockets (see server.ts) or of the
 * machine (see controller.ts), so it is tested against a fake target.
 *
 * Threads are the domain's vCPUs: vCPU n is thread n+1 (GDB reserves 0 and -1), in GDB's
 * all-stop mode. `Hg` picks the thread whose registers g/G/p/P reach, `Hc` (or a vCont action's
 * thread) the one a step runs; a stop reply names the thread that stopped.
 */
import { GDB_REG_COUNT, regFromHex, regSize, regToHex, TARGET_XML } from './aarch64.ts';
import { escapeBinary, frame, fromHex, PacketDecoder, toHex, unescapeBinary, type Incoming } from './packet.ts';

/** Why the target is not running, as a stop reply names it. */
export type StopReason =
  /** Stopped with a signal (5 = SIGTRAP: breakpoint or step; 2 = SIGINT: interrupted), in
   *  `thread` (default 1). */
  | { kind: 'signal'; signal: number; thread?: number }
  /** The domain ended normally (shutdown) with this exit code. */
  | { kind: 'exited'; code: number }
  /** The domain ended abnormally (a fault, a kill) "by" this signal. */
  | { kind: 'terminated'; signal: number };

export const SIGINT = 2;
export const SIGTRAP = 5;
export const SIGKILL = 9;
export const SIGSEGV = 11;

/** What the session needs from the thing being debugged. */
export interface DebugTarget {
  /** Thread ids (vCPU n = thread n+1); a target without it has the one thread 1. */
  threads?(): number[];
  /** Whose registers the register calls reach from now on (Hg). */
  selectThread?(thread: number): void;
  /** GDB register `n` (see aarch64.ts), or undefined when unavailable. */
  readRegister(n: number): bigint | undefined;
  writeRegister(n: number, value: bigint): boolean;
  /**
   * Bytes at [addr, addr+len) as the debugged CPU addresses them (virtual addresses when its
   * MMU is on); may return fewer bytes (the readable prefix) or undefined. Addresses are full
   * 64-bit values: a Linux kernel runs at 0xffff8000_0000_0000 and above.
   */
  readMemory(addr: bigint, len: number): Uint8Array | undefined;
  writeMemory(addr: bigint, data: Uint8Array): boolean;
  insertBreakpoint(addr: bigint): boolean;
  removeBreakpoint(addr: bigint): boolean;
  /** Lets the target go; it reports back with `GdbSession.stopped` (possibly at once). A step
   *  runs `thread` (default: the thread that last stopped). */
  resume(how: 'continue' | 'step', thread?: number): void;
  /** Asks a running target to stop; it reports back with `GdbSession.stopped`. */
  interrupt(): void;
  /** The debugger leaves: remove its breakpoints and let the target run freely. */
  detach(): void;
  /** The debugger ends the target. */
  kill(): void;
  /** One line about the thread, for `info threads`. */
  describe(thread?: number): string;
}

/** Largest payload we send or accept (advertised as PacketSize). */
export const PACKET_SIZE = 0x4000;
/** Longest memory read per `m` packet: two hex digits a byte must fit in a packet. */
const MAX_READ = (PACKET_SIZE - 16) / 2;

export interface SessionOptions {
  /** Bytes to the debugger. */
  send(data: string): void;
  /** The session is over (detach, kill): close the connection after what was sent. */
  close(): void;
  /** Protocol notes (malformed packets...), for the user's log. */
  log?(text: string): void;
}

export function stopReply(r: StopReason): string {
  const two = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
  switch (r.kind) {
    case 'signal':
      return `T${two(r.signal)}thread:${(r.thread ?? 1).toString(16)};`;
    case 'exited':
      return `W${two(r.code)}`;
    case 'terminated':
      return `X${two(r.signal)}`;
  }
}

export class GdbSession {
  private readonly target: DebugTarget;
  private readonly opts: SessionOptions;
  private readonly decoder = new PacketDecoder();
  private noAck = false;
  /** Last packet sent, kept until acknowledged, for retransmission on '-'. */
  private unacked: string | undefined;
  private isRunning = false;
  private lastStop: StopReason;
  private finished = false;
  /** Hc: the thread a step runs (0 or -1: whichever stopped last). */
  private stepThread = 0;

  constructor(target: DebugTarget, initial: StopReason, opts: SessionOptions) {
    this.target = target;
    this.lastStop = initial;
    this.opts = opts;
  }

  /** True between a resume and the stop reply. */
  get running(): boolean {
    return this.isRunning;
  }

  /** True when a disconnect now would cut a packet in half. */
  get midPacket(): boolean {
    return this.decoder.midPacket;
  }

  /** Bytes from the debugger. */
  receive(chunk: Uint8Array | string): void {
    for (const item of this.decoder.feed(chunk)) {
      if (this.finished) return;
      this.handle(item);
    }
  }

  /** The target stopped or ended: send the stop reply if the debugger is waiting for one. */
  stopped(reason: StopReason): void {
    this.lastStop = reason;
    // GDB makes the stopped thread current again (its registers are what 'g' reads next).
    if (reason.kind === 'signal') this.target.selectThread?.(reason.thread ?? 1);
    if (!this.isRunning) return;
    this.isRunning = false;
    this.reply(stopReply(reason));
  }

  private handle(item: Incoming): void {
    switch (item.kind) {
      case 'ack':
        this.unacked = undefined;
        return;
      case 'nak':
        // The debugger got our packet garbled: send it again.
        if (this.unacked !== undefined) this.opts.send(this.unacked);
        return;
      case 'interrupt':
        if (this.isRunning) this.target.interrupt();
        return;
      case 'bad-checksum':
        this.opts.log?.(`dropped a packet with a bad checksum (${JSON.stringify(item.payload.slice(0, 40))})`);
        if (!this.noAck) this.opts.send('-');
        return;
      case 'packet':
        if (!this.noAck) this.opts.send('+');
        this.command(item.payload);
        return;
    }
  }

  private reply(payload: string): void {
    const f = frame(payload);
    if (!this.noAck) this.unacked = f;
    this.opts.send(f);
  }

  private end(): void {
    this.finished = true;
    this.opts.close();
  }

  /** Carries out one command; every branch replies exactly once, except resumption and `k`. */
  private command(p: string): void {
    const t = this.target;
    const head = p[0];
    switch (head) {
      case '?':
        return this.reply(stopReply(this.lastStop));
      case 'g': {
        let s = '';
        for (let n = 0; n < GDB_REG_COUNT; n++) s += regToHex(t.readRegister(n) ?? 0n, regSize(n)!);
        return this.reply(s);
      }
      case 'G': {
        const vals: bigint[] = [];
        let at = 1;
        for (let n = 0; n < GDB_REG_COUNT; n++) {
          const size = regSize(n)!;
          const v = regFromHex(p.slice(at, at + 2 * size), size);
          if (v === undefined) return this.reply('E01');
          vals.push(v);
          at += 2 * size;
        }
        vals.forEach((v, n) => t.writeRegister(n, v));
        return this.reply('OK');
      }
      case 'p': {
        const n = parseInt(p.slice(1), 16);
        const size = regSize(n);
        const v = size === undefined ? undefined : t.readRegister(n);
        return this.reply(v === undefined || size === undefined ? 'E01' : regToHex(v, size));
      }
      case 'P': {
        const m = /^P([0-9a-fA-F]+)=([0-9a-fA-F]+)$/.exec(p);
        const n = m ? parseInt(m[1], 16) : -1;
        const size = regSize(n);
        const v = m && size !== undefined ? regFromHex(m[2], size) : undefined;
        return this.reply(v !== undefined && t.writeRegister(n, v) ? 'OK' : 'E01');
      }
      // A malformed packet is E01; memory the target cannot reach (an address that does not
      // translate, or is not RAM) is E14, errno EFAULT (GDB prints "Cannot access memory").
      case 'm': {
        const a = parseAddrLen(p.slice(1));
        if (!a) return this.reply('E01');
        const data = t.readMemory(a.addr, Math.min(a.len, MAX_READ));
        return this.reply(data === undefined || (data.length === 0 && a.len > 0) ? E_FAULT : toHex(data));
      }
      case 'M': {
        const colon = p.indexOf(':');
        const a = colon < 0 ? undefined : parseAddrLen(p.slice(1, colon));
        const data = a ? fromHex(p.slice(colon + 1)) : undefined;
        if (!a || !data || data.length !== a.len) return this.reply('E01');
        return this.reply(t.writeMemory(a.addr, data) ? 'OK' : E_FAULT);
      }
      case 'X': {
        const colon = p.indexOf(':');
        const a = colon < 0 ? undefined : parseAddrLen(p.slice(1, colon));
        const data = a ? unescapeBinary(p.slice(colon + 1)) : undefined;
        if (!a || !data || data.length !== a.len) return this.reply('E01');
        return this.reply(a.len === 0 || t.writeMemory(a.addr, data) ? 'OK' : E_FAULT);
      }
      case 'Z':
      case 'z': {
        // Only software breakpoints (type 0); an empty reply tells GDB the rest is unsupported.
        const m = /^[Zz]([0-9]),([0-9a-fA-F]{1,16}),([0-9a-fA-F]+)/.exec(p);
        if (!m || m[1] !== '0') return this.reply('');
        const addr = BigInt('0x' + m[2]);
        const ok = head === 'Z' ? t.insertBreakpoint(addr) : t.removeBreakpoint(addr);
        return this.reply(ok ? 'OK' : 'E01');
      }
      case 'c':
      case 's':
      case 'C':
      case 'S': {
        // c [addr], s [addr], C sig[;addr], S sig[;addr]; the signal is not delivered (a domain has none).
        const rest = head === 'c' || head === 's' ? p.slice(1) : (p.split(';')[1] ?? '');
        if (rest && !this.setPc(rest)) return this.reply('E01');
        return this.resume(head === 'c' || head === 'C' ? 'continue' : 'step');
      }
      case 'H': {
        // Hg<id> / Hc<id>: 0 is "any thread", -1 "all threads".
        const m = /^H([gc])(-1|[0-9a-fA-F]+)$/.exec(p);
        if (!m) return this.reply('E01');
        const id = m[2] === '-1' ? -1 : parseInt(m[2], 16);
        if (id > 0 && !this.threadIds().includes(id)) return this.reply('E01');
        if (m[1] === 'g') this.target.selectThread?.(id > 0 ? id : this.stoppedThread());
        else this.stepThread = id;
        return this.reply('OK');
      }
      case 'T': {
        const id = parseInt(p.slice(1), 16);
        return this.reply(this.threadIds().includes(id) ? 'OK' : 'E01');
      }
      case 'D':
        this.reply('OK');
        t.detach();
        return this.end();
      case 'k':
        // No reply (GDB manual): the connection just ends.
        t.kill();
        return this.end();
      case 'q':
      case 'Q':
        return this.query(p);
      case 'v':
        return this.vPacket(p);
      default:
        // Unknown command: the empty reply (GDB manual, "Packets").
        return this.reply('');
    }
  }

  private query(p: string): void {
    if (p.startsWith('qSupported')) {
      return this.reply(`PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;QStartNoAckMode+;vContSupported+`);
    }
    if (p === 'QStartNoAckMode') {
      this.reply('OK');
      // The OK above still travels with an acknowledgement; everything after does not.
      this.noAck = true;
      this.unacked = undefined;
      return;
    }
    const xfer = /^qXfer:features:read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
    if (xfer) {
      if (xfer[1] !== 'target.xml') return this.reply('E00');
      const off = parseInt(xfer[2], 16);
      const len = parseInt(xfer[3], 16);
      const chunk = TARGET_XML.slice(off, off + len);
      return this.reply((off + len >= TARGET_XML.length ? 'l' : 'm') + escapeBinary(chunk));
    }
    if (p === 'qAttached' || p.startsWith('qAttached:')) return this.reply('1'); // quitting GDB detaches, never kills
    if (p === 'qC') return this.reply(`QC${this.stoppedThread().toString(16)}`);
    if (p === 'qfThreadInfo') return this.reply(`m${this.threadIds().map((t) => t.toString(16)).join(',')}`);
    if (p === 'qsThreadInfo') return this.reply('l');
    if (p.startsWith('qThreadExtraInfo,')) {
      const id = parseInt(p.slice('qThreadExtraInfo,'.length), 16);
      return this.reply(toHex(new TextEncoder().encode(this.target.describe(Number.isNaN(id) ? undefined : id))));
    }
    if (p.startsWith('qSymbol')) return this.reply('OK'); // no symbols wanted
    return this.reply('');
  }

  private vPacket(p: string): void {
    if (p === 'vCont?') return this.reply('vCont;c;C;s;S');
    if (p.startsWith('vCont;')) {
      // All-stop: a step action (with its thread) wins over a continue of the others.
      const actions = p.slice(6).split(';').map((a) => a.split(':'));
      const step = actions.find(([a]) => a === 's' || a[0] === 'S');
      if (step) return this.resume('step', step[1] !== undefined ? parseInt(step[1], 16) : undefined);
      const action = actions[0][0];
      if (action === 'c' || action[0] === 'C') return this.resume('continue');
      return this.reply('E01');
    }
    if (p.startsWith('vKill')) {
      this.reply('OK');
      this.target.kill();
      return this.end();
    }
    // vMustReplyEmpty, vFile, vRun, vAttach...: not for a domain that already runs.
    return this.reply('');
  }

  private setPc(hexAddr: string): boolean {
    if (!/^[0-9a-fA-F]{1,16}$/.test(hexAddr)) return false;
    return this.target.writeRegister(32, BigInt('0x' + hexAddr));
  }

  private resume(how: 'continue' | 'step', thread?: number): void {
    if (this.lastStop.kind !== 'signal') {
      // The domain has ended: say so again rather than pretend it runs.
      return this.reply(stopReply(this.lastStop));
    }
    this.isRunning = true;
    const t = thread !== undefined && thread > 0 ? thread : this.stepThread > 0 ? this.stepThread : undefined;
    this.target.resume(how, how === 'step' ? t : undefined);
  }

  private threadIds(): number[] {
    return this.target.threads?.() ?? [1];
  }

  /** The thread of the last stop (1 when it was not a signal stop). */
  private stoppedThread(): number {
    return this.lastStop.kind === 'signal' ? (this.lastStop.thread ?? 1) : 1;
  }
}

/** EFAULT (14): the reply for memory the target cannot read or write. */
const E_FAULT = 'E14';

/** "addr,len" of m/M/X: a 64-bit address (exact, as a bigint) and a length. */
function parseAddrLen(text: string): { addr: bigint; len: number } | undefined {
  const m = /^([0-9a-fA-F]{1,16}),([0-9a-fA-F]{1,8})$/.exec(text);
  if (!m) return undefined;
  return { addr: BigInt('0x' + m[1]), len: parseInt(m[2], 16) };
}
