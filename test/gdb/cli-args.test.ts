// `run --gdb PORT [--gdb-wait]` option parsing.
import { describe, expect, it } from 'vitest';
import { parseRunArgs, RUN_USAGE } from '../../src/cli/run.ts';

describe('run --gdb', () => {
  it('takes a port (0 = free ports), --gdb-wait, and drops the default timeout', () => {
    const r = parseRunArgs(['--gdb', '1234', '--gdb-wait', 'a.elf']);
    expect(r.ok && r.opts.gdb).toEqual({ port: 1234, wait: true });
    expect(r.ok && r.opts.timeoutMs).toBeUndefined();
    const z = parseRunArgs(['--gdb', '0', '--timeout', '5', 'a.elf']);
    expect(z.ok && z.opts.gdb).toEqual({ port: 0, wait: false });
    expect(z.ok && z.opts.timeoutMs).toBe(5000);
    const plain = parseRunArgs(['a.elf']);
    expect(plain.ok && plain.opts.gdb).toBeUndefined();
    expect(plain.ok && plain.opts.timeoutMs).toBe(60_000);
  });

  it('rejects a bad port and --gdb-wait without --gdb', () => {
    expect(parseRunArgs(['--gdb', 'x', 'a.elf'])).toEqual({ ok: false, error: "--gdb takes a whole number from 0 to 65535, not 'x'" });
    expect(parseRunArgs(['--gdb', '70000', 'a.elf']).ok).toBe(false);
    expect(parseRunArgs(['--gdb-wait', 'a.elf'])).toEqual({ ok: false, error: '--gdb-wait needs --gdb PORT' });
  });

  it('documents both options in the help text', () => {
    expect(RUN_USAGE).toMatch(/--gdb PORT/);
    expect(RUN_USAGE).toMatch(/--gdb-wait/);
  });
});
