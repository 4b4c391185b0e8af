// Booting firmware under the emulator: transcripts against the real Xen's, the hypercall trace,
// guest faults, run bounds.
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import type { TraceEvent } from '../../src/trace/events.ts';
import { formatEvent } from '../../src/trace/text.ts';
import { golden, image } from '../helpers/firmware.ts';

describe.each([2, 3] as const)('GICv%i board', (gic) => {
  const board = gic === 2 ? 'xenvm-gicv2' : 'xenvm-gicv3';

  it('hello prints what it prints under the real Xen 4.17', async () => {
    const r = await runImages({ images: [image(board, 'hello')] });
    expect(r.lines).toEqual(golden(`hello.gicv${gic}.txt`));
    expect(r.exitCode).toBe(0);
    expect(r.status).toContain('d1 shut down (poweroff)');
  });

  it('the ELF boots the same as the Image', async () => {
    const r = await runImages({ images: [image(board, 'hello', 'elf')] });
    expect(r.lines).toEqual(golden(`hello.gicv${gic}.txt`));
  });
});

describe('hypercall trace', () => {
  it('records every hypercall with domain, PC, decoded arguments and errno-named result', async () => {
    const events: TraceEvent[] = [];
    const trace = new TraceBus();
    trace.attach((e) => events.push(e));
    const r = await runImages({ images: [image('xenvm-gicv2', 'hello', 'elf')], trace });
    expect(r.exitCode).toBe(0);
    const calls = events.filter((e): e is Extract<TraceEvent, { kind: 'hypercall' }> => e.kind === 'hypercall');
    const names = calls.map((c) => `${c.name}:${c.op ?? ''}:${c.result}`);
    expect(names).toContain('xen_version:XENVER_version:262161'); // (4 << 16) | 17
    expect(names).toContain('hypercall_63::-38');
    const unknown = calls.find((c) => c.name === 'hypercall_63')!;
    expect(unknown.errno).toBe('-ENOSYS');
    expect(unknown.domid).toBe(1);
    expect(unknown.pc).toBeGreaterThanOrEqual(0x40000000);
    const line = formatEvent(unknown);
    expect(line).toMatch(/d1v0 hypercall_63\(.*\) = -38 -ENOSYS {2}@0x4000[0-9a-f]{4}/);
    const shutdown = calls.at(-1)!;
    expect(shutdown.name).toBe('sched_op');
    expect(shutdown.op).toBe('SCHEDOP_shutdown');
    // Sequence numbers are dense and virtual time never goes backwards.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    for (let i = 1; i < events.length; i++) expect(events[i].time).toBeGreaterThanOrEqual(events[i - 1].time);
  });

  it('is identical on every run (virtual time in guest instructions)', async () => {
    const once = async () => {
      const out: string[] = [];
      const trace = new TraceBus();
      trace.attach((e) => out.push(formatEvent(e)));
      await runImages({ images: [image('xenvm-gicv3', 'irq-selftest')], trace });
      return out;
    };
    const a = await once();
    expect(a.length).toBeGreaterThan(10);
    expect(await once()).toEqual(a);
  });
});

describe('guest faults end the domain with a report, never the emulator', () => {
  it('a load from unmapped memory with no vector installed', async () => {
    const r = await runImages({ images: [image('xenvm-gicv2', 'fault-unmapped')] });
    expect(r.lines).toEqual(['d1: fault-unmapped: load from 0x10000000']);
    expect(r.exitCode).toBe(1);
    const report = r.status.find((s) => s.startsWith('d1 fault:'))!;
    expect(report).toContain('data abort with no vector (VBAR_EL1=0x0)');
    expect(report).toContain('address 0x10000000');
    expect(report).toMatch(/at pc 0x4000[0-9a-f]{4} \(main\+0x[0-9a-f]+\)/);
    expect(report).toContain('ESR 0x96000000');
  });

  it('the same fault reports the exact faulting instruction with block and per-instruction counting', async () => {
    // maxInstructions switches to per-instruction counting, where the engine knows the PC itself.
    const fast = await runImages({ images: [image('xenvm-gicv2', 'fault-unmapped', 'elf')] });
    const counted = await runImages({ images: [image('xenvm-gicv2', 'fault-unmapped', 'elf')], maxInstructions: 10_000_000 });
    const pc = (s: string[]) => s.find((x) => x.startsWith('d1 fault:'))!.match(/at pc (0x[0-9a-f]+)/)![1];
    expect(pc(fast.status)).toBe(pc(counted.status));
    expect(fast.status.join('\n')).not.toContain('start of the faulting block');
  });

  it('a jump to nowhere is an instruction abort the guest takes, as under Xen', async () => {
    const r = await runImages({ images: [image('xenvm-gicv3', 'fault-vector')] });
    expect(r.lines).toEqual(['d1: fault-vector: jump to 0x8', 'd1: unhandled exception: ESR=0x86000000 ELR=0x8 FAR=0x8']);
    expect(r.status).toContain('d1 shut down (crash)');
    expect(r.exitCode).toBe(1);
  });
});

describe('a lone domain runs uncounted', () => {
  it('prints the same as a counted run of the same image, without virtual time', async () => {
    const fast = await runImages({ images: [image('xenvm-gicv3', 'irq-selftest')] });
    const counted = await runImages({ images: [image('xenvm-gicv3', 'irq-selftest')], counted: true });
    expect(fast.lines).toEqual(counted.lines);
    expect(fast.exitCode).toBe(0);
    expect(fast.instructions).toBe(0);
    expect(counted.instructions).toBeGreaterThan(1000);
  });

  it('loses no hypercall in a long loop (the engine is never stopped from another thread)', async () => {
    const r = await runImages({ images: [image('xenvm-gicv2', 'bench-hypercall')] });
    expect(r.lines).toEqual(['d1: hypercalls: 1000000', 'd1: Test result: SUCCESS']);
  });
});

describe('run bounds', () => {
  it('--timeout ends a guest that never finishes', async () => {
    const r = await runImages({ images: [image('xenvm-gicv2', 'spin')], timeoutMs: 300 });
    expect(r.lines).toEqual(['d1: spin: looping forever']);
    expect(r.exitCode).toBe(3);
    expect(r.message).toBe('timeout: the run did not finish within 0.3 s (still running: d1)');
  });

  it('--max-instructions ends it after exactly that many instructions', async () => {
    const r = await runImages({ images: [image('xenvm-gicv2', 'spin')], maxInstructions: 2_000_000 });
    expect(r.exitCode).toBe(3);
    expect(r.instructions).toBe(2_000_000);
    expect(r.message).toMatch(/^instruction limit: 2000000 guest instructions executed/);
  });

  it('--max-instructions bounds the instructions run, not the idle time skipped', async () => {
    // time-jump idles its way past 2^62 ns of virtual time with a few thousand instructions of
    // its own: a bound of 200,000 instructions must let it finish.
    const r = await runImages({ images: [image('xenvm-gicv2', 'time-jump')], maxInstructions: 200_000 });
    expect(r.message).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.domains.map((d) => d.ok)).toEqual([true]);
    expect(BigInt(r.instructions)).toBeGreaterThan(1n << 62n); // the idle time is in virtual time
  });
});
