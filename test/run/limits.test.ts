// Resource limits (issue 14): host memory per domain, console output per domain, trace file
// size. Each is configurable, has a default, and ends only what passed it, with one clear line.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImages } from '../../src/machine/run.ts';
import { parseRunArgs, runMain, RUN_USAGE } from '../../src/cli/run.ts';
import { parseJsonl } from '../../src/trace/jsonl.ts';
import { residentBytes } from '../../src/mem/resident.ts';
import { image } from '../helpers/firmware.ts';
import { inProcess } from '../helpers/cli-inprocess.ts';

const hello = image('xenvm-gicv2', 'hello');
const memTouch = image('xenvm-gicv2', 'mem-touch');
const canMeasure = residentBytes(new Uint8Array(1 << 20)) !== undefined;
const noMeasure = canMeasure ? '' : ' [skipped: this host cannot tell the resident pages of a buffer (no /proc/self/pagemap)]';

describe('host memory per domain (--max-host-memory)', () => {
  it.skipIf(!canMeasure)(`counts only the pages written${noMeasure}`, () => {
    const b = new Uint8Array(64 << 20);
    expect(residentBytes(b)!).toBeLessThanOrEqual(8192);
    for (let i = 0; i < 8 << 20; i += 4096) b[i] = 1;
    const r = residentBytes(b)!;
    expect(r).toBeGreaterThanOrEqual(8 << 20);
    expect(r).toBeLessThanOrEqual((8 << 20) + 8192);
  });

  it.skipIf(!canMeasure)(`ends the domain that passes it with one report; the others go on${noMeasure}`, async () => {
    const r = await runImages({ images: [memTouch, hello], memoryMiB: 256, maxHostMemoryMiB: 64, timeoutMs: 30_000 });
    expect(r.exitCode).toBe(1);
    const reports = r.status.filter((s) => s.includes('host memory limit'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^d1v0 host memory limit: its RAM uses [\d.]+ MiB of host memory, over the limit of 64 MiB \(--max-host-memory\); the domain ends at pc 0x[0-9a-f]+ \(main\+0x[0-9a-f]+\)$/);
    expect(r.lines).not.toContain('d1: Test result: SUCCESS');
    expect(r.lines).toContain('d2: Test result: SUCCESS');
    expect(r.domains.map((d) => [d.domid, d.ok, d.end])).toEqual([
      [1, false, 'limit: host memory'],
      [2, true, 'shutdown: poweroff'],
    ]);
  });

  it('0 turns it off: the same guest finishes', async () => {
    const r = await runImages({ images: [memTouch], memoryMiB: 256, maxHostMemoryMiB: 0, timeoutMs: 30_000 });
    expect(r.exitCode, r.message).toBe(0);
    expect(r.lines).toContain('d1: touched 49152 pages');
  });

  it('the default (2048 MiB) leaves a domain with less RAM alone', async () => {
    const r = await runImages({ images: [memTouch], memoryMiB: 256, timeoutMs: 30_000 });
    expect(r.exitCode, r.message).toBe(0);
  });
});

describe('console output per domain (--max-console-bytes)', () => {
  it('keeps what fits, then one truncation notice; the domain still finishes', async () => {
    const r = await runImages({ images: [hello, hello], maxConsoleBytes: 60 });
    expect(r.exitCode, r.message).toBe(0);
    // "hello from xenvm guest" (23) + "xen_version: 4.17" (18) fit in 60 bytes; the next does not.
    expect(r.lines.filter((l) => l.startsWith('d1: '))).toEqual(['d1: hello from xenvm guest', 'd1: xen_version: 4.17']);
    expect(r.lines.filter((l) => l.startsWith('d2: '))).toHaveLength(2);
    const notices = r.status.filter((s) => s.includes('console output truncated'));
    expect(notices).toEqual([
      'd1: console output truncated: more than 60 bytes printed (--max-console-bytes); the rest of its output is dropped',
      'd2: console output truncated: more than 60 bytes printed (--max-console-bytes); the rest of its output is dropped',
    ]);
    expect(r.domains.every((d) => d.result === 'SUCCESS')).toBe(true);
  });
});

describe('trace files (--trace-max-bytes)', () => {
  it('stops each file at the limit, at an event boundary, and says so once per file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenvm-limits-'));
    const full = join(dir, 'full.jsonl');
    const jsonl = join(dir, 't.jsonl');
    const perfetto = join(dir, 't.json');
    expect((await inProcess(runMain, ['--trace-file', full, hello])).status).toBe(0);
    const r = await inProcess(runMain, ['--trace-file', jsonl, '--perfetto', perfetto, '--trace-max-bytes', '1024', hello]);
    expect(r.threw).toBeUndefined();
    expect(r.status).toBe(0);
    for (const f of [jsonl, perfetto]) {
      expect(statSync(f).size).toBeLessThanOrEqual(1024);
      expect(r.stderr.split('\n').filter((l) => l.includes(`trace file ${f} truncated at 1024 bytes`))).toHaveLength(1);
    }
    // The capped JSONL is the full trace's first lines: as many as fit, the next would not.
    const whole = readFileSync(full, 'utf8');
    const capped = readFileSync(jsonl, 'utf8');
    expect(whole.startsWith(capped)).toBe(true);
    const next = whole.slice(capped.length).split('\n')[0];
    expect(Buffer.byteLength(capped) + Buffer.byteLength(next) + 1).toBeGreaterThan(1024);
    const parsed = parseJsonl(capped);
    expect(parsed.ok && parsed.events.length).toBeGreaterThan(3);
    // The Perfetto file is still one valid JSON document.
    const doc = JSON.parse(readFileSync(perfetto, 'utf8'));
    expect(doc.traceEvents.length).toBeGreaterThan(2);
  });

  it('needs a trace file to apply to', () => {
    expect(parseRunArgs(['--trace-max-bytes', '5000', 'x.img'])).toEqual({ ok: false, error: '--trace-max-bytes needs --trace-file or --perfetto' });
  });
});

describe('the options', () => {
  it('parse, and are documented', () => {
    const p = parseRunArgs(['--max-host-memory', '512', '--max-console-bytes', '1000', '--trace-file', 'a', '--trace-max-bytes', '1_000_000', 'x.img']);
    expect(p.ok && p.opts).toMatchObject({ maxHostMemoryMiB: 512, maxConsoleBytes: 1000, traceMaxBytes: 1_000_000 });
    for (const o of ['--max-host-memory', '--max-console-bytes', '--trace-max-bytes']) expect(RUN_USAGE).toContain(o);
  });
});
