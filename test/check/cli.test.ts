// `run --check` as a user sees it: the report line on stderr, the exit status, and the `check`
// event in every trace view (text, JSONL, Perfetto).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { parseJsonl } from '../../src/trace/jsonl.ts';
import { image } from '../helpers/firmware.ts';

const CLI = join(REPO_ROOT, 'bin', 'xenvm-emu.mjs');
const dir = mkdtempSync(join(tmpdir(), 'xenvm-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run --check', () => {
  it('prints each report with domain, vCPU, PC, symbol, port and rule, then the events before it, and exits 1', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', '--check', '--cmdline', 'rule=local-unmask', image('xenvm-gicv2', 'check-rules')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    const i = lines.findIndex((l) => l.startsWith('xenvm-emu: check: d1'));
    expect(lines[i]).toMatch(/^xenvm-emu: check: d1 v0 pc=0x[0-9a-f]+ <(main|break_rule)\+0x[0-9a-f]+> at apps\/check-rules\/main\.c:\d+ port=2 rule=local-unmask: mask bit of port 2 cleared by the guest's own store while the port is pending/);
    expect(lines[i + 1]).toMatch(/^xenvm-emu: {3}before: \[ +\d+\] d1v0 /);
    expect(lines).toContain('xenvm-emu: check: 1 violation of the event-channel ABI (docs/check.md)');
    expect(r.stdout).toContain('d1: Test result: SUCCESS');
  });

  it('puts a check event into the text, JSONL and Perfetto traces', () => {
    const jsonl = join(dir, 't.jsonl');
    const perfetto = join(dir, 't.json');
    const r = spawnSync(process.execPath, [CLI, 'run', '--check', '--trace', '--trace-file', jsonl, '--perfetto', perfetto, '--cmdline', 'rule=notify-unowned', image('xenvm-gicv2', 'check-rules')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\] d1v0 check notify-unowned port=7: EVTCHNOP_send on port 7, .* @0x[0-9a-f]+ <main\+0x[0-9a-f]+>/);
    const parsed = parseJsonl(readFileSync(jsonl, 'utf8'));
    expect(parsed.ok).toBe(true);
    const checks = parsed.ok ? parsed.events.filter((e) => e.kind === 'check') : [];
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ kind: 'check', domid: 1, vcpu: 0, rule: 'notify-unowned', port: 7 });
    expect(readFileSync(perfetto, 'utf8')).toContain('"check notify-unowned"');
  });

  it('without a violation: exit 0 and no check line', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', '--check', image('xenvm-gicv2', 'check-rules')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/check:/);
  });
});
