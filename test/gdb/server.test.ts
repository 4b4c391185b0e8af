// The GDB stub on a real machine running real firmware, driven by a raw RSP client:
// breakpoints, steps, memory, the stop replies, malformed input and extra clients.
import { describe, expect, it } from 'vitest';
import { runImages, type RunOutcome } from '../../src/machine/run.ts';
import { frame } from '../../src/gdb/packet.ts';
import { image, elfSymbol } from '../helpers/firmware.ts';
import { RspClient } from './rsp-client.ts';

const HELLO = image('xenvm-gicv2', 'hello', 'elf');

const symbol = (name: string): number => elfSymbol(HELLO, name);

/** Starts hello.elf under --gdb 0 --gdb-wait; resolves the port once the server listens. */
function startDebugged(): { port: Promise<number>; done: Promise<RunOutcome>; status: string[] } {
  const status: string[] = [];
  let ready!: (p: number) => void;
  const port = new Promise<number>((r) => (ready = r));
  const done = runImages({
    images: [HELLO],
    timeoutMs: 20_000,
    gdb: { port: 0, wait: true, onListening: (ports) => ready(ports.get(1)!) },
    onStatus: (s) => status.push(s),
  });
  return { port, done, status };
}

const reg64 = (hex: string) => Number(Buffer.from(hex, 'hex').readBigUInt64LE());

describe('GDB stub on a running machine', () => {
  it('stops at a breakpoint, steps, shows original code, and runs to the end with an unchanged transcript and virtual time', async () => {
    const plain = await runImages({ images: [HELLO], maxInstructions: 1e9 });
    const { port, done } = startDebugged();
    const c = await RspClient.open(await port);
    const main = symbol('main');

    expect(await c.ask('?')).toBe('T05thread:1;');
    expect(await c.ask('qC')).toBe('QC1');
    // Before the first instruction: PC is the entry point.
    expect(reg64((await c.ask('p20'))!)).toBe(symbol('_start'));
    const original = await c.ask(`m${main.toString(16)},4`);
    expect(await c.ask(`Z0,${main.toString(16)},4`)).toBe('OK');
    // The guest's RAM holds a BRK now, but the debugger still sees the real instruction.
    expect(await c.ask(`m${main.toString(16)},4`)).toBe(original);

    expect(await c.ask('c')).toBe('T05thread:1;');
    expect(reg64((await c.ask('p20'))!)).toBe(main);
    // Step with the breakpoint still planted at PC: the stub steps off it by itself.
    expect(await c.ask('s')).toBe('T05thread:1;');
    expect(reg64((await c.ask('p20'))!)).toBe(main + 4);
    expect(await c.ask('vCont;s:1')).toBe('T05thread:1;');
    expect(reg64((await c.ask('p20'))!)).toBe(main + 8);

    expect(await c.ask('c')).toBe('W00');
    const r = await done;
    expect(r.exitCode).toBe(0);
    expect(r.lines).toEqual(plain.lines);
    // Breakpoints and steps cost no virtual time.
    expect(r.instructions).toBe(plain.instructions);
    c.close();
  });

  it('answers a bad checksum with "-" and an unknown packet with the empty reply, then keeps working', async () => {
    const { port, done } = startDebugged();
    const c = await RspClient.open(await port);
    c.write('$g#00');
    expect(await c.next()).toEqual({ kind: 'nak' });
    expect(await c.ask('qNoSuchThing')).toBe('');
    c.write('garbage without a dollar');
    expect(await c.ask('vCont;c')).toBe('W00');
    expect((await done).exitCode).toBe(0);
    c.close();
  });

  it('refuses a second client with an error and keeps serving the first', async () => {
    const { port, done, status } = startDebugged();
    const p = await port;
    const first = await RspClient.open(p);
    expect(await first.ask('?')).toBe('T05thread:1;');
    const second = await RspClient.open(p);
    second.write(frame('qSupported:multiprocess+'));
    expect(await second.reply()).toMatch(/^E\.xenvm-emu: d1 already has a debugger attached/);
    expect(await second.next()).toBeUndefined(); // then the connection closes
    expect(status.some((s) => /refused a second debugger/.test(s))).toBe(true);
    expect(await first.ask('qC')).toBe('QC1');
    expect(await first.ask('c')).toBe('W00');
    expect((await done).exitCode).toBe(0);
    first.close();
  });

  it('treats a client that disconnects mid-packet as a detach: breakpoints go, the guest runs on', async () => {
    const { port, done, status } = startDebugged();
    const p = await port;
    const c = await RspClient.open(p);
    expect(await c.ask(`Z0,${symbol('main').toString(16)},4`)).toBe('OK');
    c.write('$m4000');
    c.close();
    const r = await done;
    expect(r.exitCode).toBe(0);
    expect(r.lines.at(-1)).toBe('d1: Test result: SUCCESS');
    expect(status.some((s) => /disconnected in the middle of a packet/.test(s))).toBe(true);
  });

  it('interrupts a running guest on Ctrl-C and kills the domain on k', async () => {
    // spin runs forever, so only the debugger ends it.
    const status: string[] = [];
    let ready!: (p: number) => void;
    const portP = new Promise<number>((r) => (ready = r));
    const done = runImages({
      images: [image('xenvm-gicv2', 'spin', 'elf')],
      timeoutMs: 20_000,
      gdb: { port: 0, wait: false, onListening: (ports) => ready(ports.get(1)!) },
      onStatus: (s) => status.push(s),
    });
    const c = await RspClient.open(await portP);
    expect(await c.ask('?')).toBe('T05thread:1;');
    c.write(frame('c'));
    await new Promise((r) => setTimeout(r, 100));
    c.write('\x03');
    expect(await c.reply()).toBe('T02thread:1;');
    const pc = reg64((await c.ask('p20'))!);
    expect(pc).toBeGreaterThanOrEqual(0x40000000);
    c.write(frame('k'));
    const r = await done;
    expect(r.domains[0].end).toBe('killed by the debugger');
    expect(r.exitCode).toBe(1); // a killed domain did not finish well
    c.close();
  });

  it("is all-stop across domains: while d1 is stopped, d2 does not move, even when d2's debugger continues", async () => {
    const spin = image('xenvm-gicv2', 'spin', 'elf');
    let ready!: (p: Map<number, number>) => void;
    const portsP = new Promise<Map<number, number>>((r) => (ready = r));
    const done = runImages({ images: [spin, spin], timeoutMs: 20_000, gdb: { port: 0, wait: false, onListening: ready } });
    const ports = await portsP;
    expect([...ports.keys()]).toEqual([1, 2]);
    expect(ports.get(1)).not.toBe(ports.get(2));
    const pause = () => new Promise((r) => setTimeout(r, 150));
    await pause(); // let both domains reach their loops
    const d1 = await RspClient.open(ports.get(1)!);
    expect(await d1.ask('?')).toBe('T05thread:1;');
    const d2 = await RspClient.open(ports.get(2)!);
    expect(await d2.ask('?')).toBe('T05thread:1;');
    const x = async (c: RspClient) => (await c.ask('g'))!;
    const before = await x(d2);
    // d2's debugger lets go, but d1's still holds the machine: d2's registers stay put.
    d2.write(frame('c'));
    await pause();
    expect(await x(d2)).toBe(before);
    // Once d1 lets go too, d2 runs (its loop counter changes registers).
    d1.write(frame('c'));
    await pause();
    expect(await x(d2)).not.toBe(before);
    d1.write('\x03');
    expect(await d1.reply()).toBe('T02thread:1;');
    d2.write('\x03');
    expect(await d2.reply()).toBe('T02thread:1;');
    d1.write(frame('k'));
    d2.write(frame('k'));
    const r = await done;
    expect(r.domains.map((d) => d.end)).toEqual(['killed by the debugger', 'killed by the debugger']);
    d1.close();
    d2.close();
  });
});
