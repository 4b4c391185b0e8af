// GDB protocol commands against a fake target: no CPU, no sockets.
import { describe, expect, it } from 'vitest';
import { TARGET_XML } from '../../src/gdb/aarch64.ts';
import { frame, PacketDecoder, unescapeBinary } from '../../src/gdb/packet.ts';
import { GdbSession, SIGINT, SIGTRAP, type DebugTarget, type StopReason } from '../../src/gdb/session.ts';

const MEM_BASE = 0x1000;

class FakeTarget implements DebugTarget {
  regs: bigint[] = Array.from({ length: 34 }, (_, i) => BigInt(i) * 0x0101010101n);
  mem = new Uint8Array(256).map((_, i) => i);
  breakpoints = new Set<bigint>();
  resumed: string[] = [];
  detached = 0;
  killed = 0;
  session!: GdbSession;
  readRegister(n: number) {
    return this.regs[n];
  }
  writeRegister(n: number, v: bigint) {
    if (n < 0 || n >= 34) return false;
    this.regs[n] = v;
    return true;
  }
  /** Addresses seen, to check they arrive whole (64-bit). */
  addrs: bigint[] = [];
  readMemory(addr: bigint, len: number) {
    this.addrs.push(addr);
    const off = Number(addr) - MEM_BASE;
    if (off < 0 || off >= this.mem.length) return undefined;
    return this.mem.slice(off, Math.min(off + len, this.mem.length));
  }
  writeMemory(addr: bigint, data: Uint8Array) {
    this.addrs.push(addr);
    const off = Number(addr) - MEM_BASE;
    if (off < 0 || off + data.length > this.mem.length) return false;
    this.mem.set(data, off);
    return true;
  }
  insertBreakpoint(addr: bigint) {
    if (addr % 4n) return false;
    this.breakpoints.add(addr);
    return true;
  }
  removeBreakpoint(addr: bigint) {
    this.breakpoints.delete(addr);
    return true;
  }
  resume(how: 'continue' | 'step') {
    this.resumed.push(how);
  }
  interrupt() {
    this.session.stopped({ kind: 'signal', signal: SIGINT });
  }
  detach() {
    this.detached++;
  }
  kill() {
    this.killed++;
  }
  describe() {
    return 'd1 vcpu0';
  }
}

function setup(initial: StopReason = { kind: 'signal', signal: SIGTRAP }) {
  const target = new FakeTarget();
  const wire: string[] = [];
  let closed = 0;
  const session = new GdbSession(target, initial, { send: (d) => wire.push(d), close: () => closed++ });
  target.session = session;
  /** Sends one packet; returns the raw bytes the stub wrote back. */
  const ask = (payload: string) => {
    wire.length = 0;
    session.receive(frame(payload));
    return wire.join('');
  };
  /** The reply payloads in what the stub wrote (acks dropped). */
  const replies = (raw: string) =>
    new PacketDecoder()
      .feed(raw)
      .flatMap((i) => (i.kind === 'packet' ? [i.payload] : []));
  const q = (payload: string) => {
    const r = replies(ask(payload));
    expect(r.length).toBeLessThanOrEqual(1);
    return r[0];
  };
  return { target, session, wire, ask, q, replies, closed: () => closed };
}

describe('GdbSession', () => {
  it('acknowledges each good packet and answers it; retransmits on "-"', () => {
    const { ask, session, wire } = setup();
    expect(ask('?')).toBe('+' + frame('T05thread:1;'));
    wire.length = 0;
    session.receive('-');
    expect(wire).toEqual([frame('T05thread:1;')]);
  });

  it('asks for a resend of a packet with a bad checksum and does not act on it', () => {
    const { session, wire, target } = setup();
    session.receive('$c#00');
    expect(wire).toEqual(['-']);
    expect(target.resumed).toEqual([]);
  });

  it('answers unknown packets with the empty reply', () => {
    const { q } = setup();
    expect(q('qFrobnicate')).toBe('');
    expect(q('!')).toBe('');
    expect(q('Z2,1000,4')).toBe(''); // watchpoints: unsupported, so GDB falls back
  });

  it('advertises packet size, target.xml and no-ack mode; no acks after QStartNoAckMode', () => {
    const { q, ask } = setup();
    expect(q('qSupported:multiprocess+;swbreak+;xmlRegisters=i386')).toBe('PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;vContSupported+');
    expect(ask('QStartNoAckMode')).toBe('+' + frame('OK'));
    expect(ask('qC')).toBe(frame('QC1'));
  });

  it('serves target.xml in pieces that reassemble to the aarch64 core description', () => {
    const { q } = setup();
    let xml = '';
    for (let off = 0; ; off += 100) {
      const r = q(`qXfer:features:read:target.xml:${off.toString(16)},64`)!;
      xml += Buffer.from(unescapeBinary(r.slice(1))!).toString('latin1');
      if (r[0] === 'l') break;
      expect(r[0]).toBe('m');
    }
    expect(xml).toBe(TARGET_XML);
    expect(xml).toContain('org.gnu.gdb.aarch64.core');
    expect(xml).toContain('<reg name="cpsr" bitsize="32"');
    expect(q('qXfer:features:read:other.xml:0,100')).toBe('E00');
  });

  it('reads all registers as x0..x30, sp, pc (8 bytes each) and cpsr (4 bytes), little-endian', () => {
    const { q, target } = setup();
    target.regs[32] = 0x40002080n;
    target.regs[33] = 0x600003c5n;
    const g = q('g')!;
    expect(g.length).toBe(33 * 16 + 8);
    expect(g.slice(0, 16)).toBe('0000000000000000');
    expect(g.slice(16, 32)).toBe('0101010101000000');
    expect(g.slice(32 * 16, 33 * 16)).toBe('8020004000000000');
    expect(g.slice(33 * 16)).toBe('c5030060');
    expect(q('p20')).toBe('8020004000000000');
    expect(q('p21')).toBe('c5030060');
    expect(q('p22')).toBe('E01');
  });

  it('writes one register (P) and all registers (G), rejecting malformed values', () => {
    const { q, target } = setup();
    expect(q('P1f=1000000000000000')).toBe('OK');
    expect(target.regs[31]).toBe(0x10n);
    expect(q('P21=01020304')).toBe('OK');
    expect(target.regs[33]).toBe(0x04030201n);
    expect(q('P21=0102')).toBe('E01');
    const g = q('g')!;
    const changed = 'ff' + g.slice(2);
    expect(q('G' + changed)).toBe('OK');
    expect(target.regs[0]).toBe(0xffn);
    expect(q('G' + changed.slice(0, 20))).toBe('E01');
  });

  it('reads and writes memory with m, M and X (binary, escaped); unreachable memory is E14, a bad packet E01', () => {
    const { q, target } = setup();
    expect(q('m1004,4')).toBe('04050607');
    expect(q('m10fe,8')).toBe('feff'); // a short read: the readable prefix
    expect(q('m0,4')).toBe('E14');
    expect(q('mzz')).toBe('E01');
    expect(q('M1000,2:abcd')).toBe('OK');
    expect(Array.from(target.mem.slice(0, 2))).toEqual([0xab, 0xcd]);
    expect(q('M1000,2:ab')).toBe('E01');
    expect(q('X1010,0:')).toBe('OK');
    expect(q('X1010,3:' + '}\x03}\x04a')).toBe('OK');
    expect(Array.from(target.mem.slice(0x10, 0x13))).toEqual([0x23, 0x24, 0x61]);
    expect(q('X0,1:a')).toBe('E14');
  });

  it('passes kernel virtual addresses (above 2^53) to the target exactly', () => {
    const { q, target } = setup();
    expect(q('mffff800008010004,4')).toBe('E14');
    expect(q('Mffff800008010008,1:00')).toBe('E14');
    expect(target.addrs).toEqual([0xffff800008010004n, 0xffff800008010008n]);
    expect(q('Z0,ffff800008010000,4')).toBe('OK');
    expect(target.breakpoints.has(0xffff800008010000n)).toBe(true);
  });

  it('inserts and removes software breakpoints only (Z0/z0)', () => {
    const { q, target } = setup();
    expect(q('Z0,40002080,4')).toBe('OK');
    expect(target.breakpoints.has(0x40002080n)).toBe(true);
    expect(q('Z0,40002082,4')).toBe('E01');
    expect(q('z0,40002080,4')).toBe('OK');
    expect(target.breakpoints.size).toBe(0);
    expect(q('Z1,40002080,4')).toBe('');
  });

  it('resumes without replying, then sends the stop reply when the target stops', () => {
    const { q, ask, session, target, wire } = setup();
    expect(q('vCont?')).toBe('vCont;c;C;s;S');
    expect(ask('vCont;c')).toBe('+');
    expect(session.running).toBe(true);
    wire.length = 0;
    session.stopped({ kind: 'signal', signal: SIGTRAP });
    expect(wire).toEqual([frame('T05thread:1;')]);
    expect(ask('vCont;s:1;c')).toBe('+');
    expect(ask('s')).toBe('+');
    expect(ask('c40001000')).toBe('+');
    expect(target.regs[32]).toBe(0x40001000n);
    expect(target.resumed).toEqual(['continue', 'step', 'step', 'continue']);
  });

  it('stops a running target on Ctrl-C (0x03) with SIGINT', () => {
    const { ask, session, wire } = setup();
    ask('c');
    wire.length = 0;
    session.receive('\x03');
    expect(wire).toEqual([frame(`T0${SIGINT}thread:1;`)]);
    // Ctrl-C while stopped does nothing.
    wire.length = 0;
    session.receive('\x03');
    expect(wire).toEqual([]);
  });

  it('reports an ended domain as W (exit code) or X (signal), and again on every resume', () => {
    const { ask, q, session, wire, target } = setup();
    ask('c');
    wire.length = 0;
    session.stopped({ kind: 'exited', code: 0 });
    expect(wire).toEqual([frame('W00')]);
    expect(q('c')).toBe('W00');
    expect(q('?')).toBe('W00');
    expect(target.resumed).toEqual(['continue']);
    const x = setup({ kind: 'terminated', signal: 11 });
    expect(x.q('?')).toBe('X0b');
  });

  it('detaches with OK and closes; kill closes without a reply', () => {
    const a = setup();
    expect(a.q('D;1')).toBe('OK');
    expect(a.target.detached).toBe(1);
    expect(a.closed()).toBe(1);
    // Nothing more is processed once the session ended.
    expect(a.ask('g')).toBe('');
    const b = setup();
    expect(b.ask('k')).toBe('+');
    expect(b.target.killed).toBe(1);
    expect(b.closed()).toBe(1);
  });

  it('answers the thread queries GDB makes on connect', () => {
    const { q } = setup();
    expect(q('qAttached')).toBe('1');
    expect(q('qfThreadInfo')).toBe('m1');
    expect(q('qsThreadInfo')).toBe('l');
    expect(q('Hg0')).toBe('OK');
    expect(q('T1')).toBe('OK');
    expect(Buffer.from(q('qThreadExtraInfo,1')!, 'hex').toString()).toBe('d1 vcpu0');
    expect(q('vMustReplyEmpty')).toBe('');
  });
});
