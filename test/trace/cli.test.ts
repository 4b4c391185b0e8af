// The trace options of `run` and the `trace` command, through the installed command.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { parseRunArgs } from '../../src/cli/run.ts';
import { image } from '../helpers/firmware.ts';
import { perfettoProblems } from './helpers.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'xenvm-emu.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });

const dir = mkdtempSync(join(tmpdir(), 'xenvm-trace-'));
const jsonl = join(dir, 'demo.jsonl');
const perfetto = join(dir, 'demo.json');
let run: ReturnType<typeof cli>;
const traceLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('['));

beforeAll(() => {
  run = cli('run', '--trace', '--trace-file', jsonl, '--perfetto', perfetto, image('xenvm-gicv2', 'demo-offer'), image('xenvm-gicv2', 'demo-bind'));
});

describe('run with trace outputs', () => {
  it('parses the options; a filter implies --trace', () => {
    const p = parseRunArgs(['--trace-filter', 'd1', '--trace-filter=kind=irq', '--trace-file', 'a.jsonl', '--perfetto', 'b.json', 'x.img']);
    expect(p.ok && p.opts).toMatchObject({ traceText: true, traceFile: 'a.jsonl', perfetto: 'b.json' });
    expect(p.ok && [...p.opts.traceFilter!.domains]).toEqual([1]);
    expect(parseRunArgs(['--trace-filter', 'port=x', 'x.img'])).toEqual({ ok: false, error: "--trace-filter term 'port=x': a port is a non-negative number" });
  });

  it('writes the same events as text, JSONL and Perfetto', () => {
    expect(run.status).toBe(0);
    const text = traceLines(run.stderr);
    expect(text.length).toBeGreaterThan(50);
    const lines = readFileSync(jsonl, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(text.length);
    const doc = JSON.parse(readFileSync(perfetto, 'utf8'));
    expect(perfettoProblems(doc)).toEqual([]);
  });

  it('an unwritable trace file is bad input (exit 2)', () => {
    const r = cli('run', '--trace-file', join(dir, 'no', 'such', 'dir.jsonl'), image('xenvm-gicv2', 'hello'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot write');
  });
});

describe('xenvm-emu trace FILE.jsonl', () => {
  it('re-renders exactly the lines --trace printed, then the summary', () => {
    const r = cli('trace', jsonl);
    expect(r.status).toBe(0);
    const [events, summary] = r.stdout.split('\n\nsummary: ');
    expect(events.split('\n')).toEqual(traceLines(run.stderr));
    expect(summary).toMatch(/event_channel_op EVTCHNOP_send +11 += 0: 11/);
    expect(summary).toMatch(/11 sends in 11 notifications: min \d+, median \d+, max \d+/);
  });

  it('applies the same filters as run --trace-filter', () => {
    const live = cli('run', '--trace-filter', 'd2,port=1', image('xenvm-gicv2', 'demo-offer'), image('xenvm-gicv2', 'demo-bind'));
    const saved = cli('trace', '--no-summary', '--trace-filter', 'd2,port=1', jsonl);
    expect(saved.status).toBe(0);
    const want = traceLines(live.stderr);
    expect(want.length).toBeGreaterThan(5);
    expect(want.every((l) => /\] d2/.test(l))).toBe(true);
    expect(saved.stdout.trimEnd().split('\n')).toEqual(want);
  });

  it('--summary-only prints only the summary', () => {
    const r = cli('trace', '--summary-only', jsonl);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('summary: ')).toBe(true);
    expect(r.stdout).not.toMatch(/^\[/m);
  });

  it('a malformed file names the line and exits 2', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, readFileSync(jsonl, 'utf8').split('\n').slice(0, 3).join('\n') + '\n{"seq": 3, "time": "soon"}\n');
    const r = cli('trace', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:4: seq and time must be integers`);
  });

  it('usage errors exit 2', () => {
    expect(cli('trace').status).toBe(2);
    expect(cli('trace', '--trace-filter', 'colour=red', jsonl).status).toBe(2);
    expect(cli('trace', join(dir, 'missing.jsonl')).stderr).toContain('cannot read');
  });
});
