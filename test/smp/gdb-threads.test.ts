/**
 * GDB threads are vCPUs: smp-events (2 vCPUs) under --gdb, driven by a raw RSP client. A
 * breakpoint that only vCPU 1 reaches stops the domain in thread 2; registers follow Hg; a
 * step runs the thread it names; and the run ends with the real Xen's transcript.
 */
import { execFile, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { golden, image, elfSymbol } from '../helpers/firmware.ts';
import { RspClient } from '../gdb/rsp-client.ts';

const ELF = image('xenvm-gicv3', 'smp-events', 'elf');

const symbol = (name: string): number => elfSymbol(ELF, name);

const reg64 = (hex: string) => Number(Buffer.from(hex, 'hex').readBigUInt64LE());

describe('GDB stub with two vCPUs', () => {
  it('lists both vCPUs, stops in the one that hit the breakpoint, and steps it', async () => {
    let ready!: (p: number) => void;
    const port = new Promise<number>((r) => (ready = r));
    const done = runImages({ images: [ELF], cpus: 2, timeoutMs: 30_000, gdb: { port: 0, wait: true, onListening: (p) => ready(p.get(1)!) } });
    const c = await RspClient.open(await port);
    const entry = symbol('secondary_entry');

    expect(await c.ask('qfThreadInfo')).toBe('m1,2');
    expect(await c.ask('qsThreadInfo')).toBe('l');
    expect(await c.ask('T2')).toBe('OK');
    expect(await c.ask('T3')).toBe('E01');
    expect(Buffer.from((await c.ask('qThreadExtraInfo,2'))!, 'hex').toString()).toMatch(/^d1 vcpu1 .*down\)$/);

    // Stepping a vCPU that is down ends at once, where it is.
    expect(await c.ask('vCont;s:2')).toBe('T05thread:2;');
    expect(await c.ask('Hg1')).toBe('OK');
    expect(await c.ask(`Z0,${entry.toString(16)},4`)).toBe('OK');
    expect(await c.ask('c')).toBe('T05thread:2;');
    expect(await c.ask('qC')).toBe('QC2');
    // Thread 2's registers: at its entry, x0 = the context id vCPU 0 passed to CPU_ON.
    expect(reg64((await c.ask('p20'))!)).toBe(entry);
    expect(reg64((await c.ask('p0'))!)).toBe(0x5eed);
    // Thread 1 is elsewhere (waiting for vCPU 1 to come up).
    expect(await c.ask('Hg1')).toBe('OK');
    expect(reg64((await c.ask('p20'))!)).not.toBe(entry);
    expect(await c.ask('Hg2')).toBe('OK');
    // A step of thread 2 leaves the breakpoint and stops in thread 2.
    expect(await c.ask('vCont;s:2;c')).toBe('T05thread:2;');
    expect(reg64((await c.ask('p20'))!)).toBe(entry + 4);

    expect(await c.ask(`z0,${entry.toString(16)},4`)).toBe('OK');
    expect(await c.ask('c')).toBe('W00');
    const r = await done;
    expect(r.exitCode, r.message).toBe(0);
    expect(r.lines).toEqual(golden('smp-events.gicv3.txt'));
    c.close();
  });
});

const haveGdb = spawnSync('gdb-multiarch', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!haveGdb)('gdb-multiarch with two vCPUs (skipped without gdb-multiarch)', () => {
  it('shows both threads, stops vCPU 1 at its entry with its context id, and switches threads', async () => {
    let ready!: (p: number) => void;
    const port = new Promise<number>((r) => (ready = r));
    const done = runImages({ images: [ELF], cpus: 2, timeoutMs: 30_000, gdb: { port: 0, wait: true, onListening: (p) => ready(p.get(1)!) } });
    const p = await port;
    const args = ['-batch', '-nx', '-ex', 'set pagination off', '-ex', `target remote 127.0.0.1:${p}`];
    for (const c of ['info threads', 'break secondary_main', 'continue', 'info threads', 'print/x context', 'thread 1', 'delete', 'continue']) args.push('-ex', c);
    args.push(ELF);
    const out = await new Promise<string>((resolve) => execFile('gdb-multiarch', args, { timeout: 20_000 }, (_e, so, se) => resolve(so + se)));
    expect(out).toMatch(/2 +Thread 2 \(d1 vcpu1 \(smp-events\.elf, down\)\)/);
    expect(out).toMatch(/Thread 2 hit Breakpoint 1, secondary_main/);
    expect(out).toContain('$1 = 0x5eed');
    expect(out).toMatch(/Switching to thread 1/);
    const r = await done;
    expect(r.exitCode, r.message).toBe(0);
    expect(r.lines).toEqual(golden('smp-events.gicv3.txt'));
  });
});
