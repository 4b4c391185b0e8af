// The command line itself: options, help, exit codes, output streams.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunArgs, RUN_USAGE } from '../../src/cli/run.ts';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'xenvm-emu.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('parseRunArgs', () => {
  it('takes every documented option', () => {
    const p = parseRunArgs(['--gic', '3', '--xsm=silo', '--memory', '32', '--timeout', '5', '--max-instructions', '1_000', '--seed', '7', '--trace', 'a.img', 'b.img']);
    expect(p.ok && p.opts).toMatchObject({ gic: 3, xsm: 'silo', memoryMiB: 32, timeoutMs: 5000, maxInstructions: 1000, seed: 7, traceText: true, images: ['a.img', 'b.img'] });
  });
  it('defaults to a 60 s timeout; 0 turns it off', () => {
    const a = parseRunArgs(['x.img']);
    expect(a.ok && a.opts.timeoutMs).toBe(60_000);
    const b = parseRunArgs(['--timeout', '0', 'x.img']);
    expect(b.ok && b.opts.timeoutMs).toBeUndefined();
  });
  it.each([
    [['--gic', '4', 'x'], "--gic takes 2 or 3, not '4'"],
    [['--xsm', 'flask', 'x'], "--xsm takes dummy or silo, not 'flask'"],
    [['--memory', 'lots', 'x'], "--memory takes a whole number from 1 to 3072, not 'lots'"],
    [['--frobnicate', 'x'], "unknown option '--frobnicate'"],
    [['--timeout'], '--timeout needs a value'],
    [[], 'no IMAGE given'],
  ])('%j -> %s', (argv, error) => {
    expect(parseRunArgs(argv)).toEqual({ ok: false, error });
  });
  it('documents every option it accepts', () => {
    for (const o of ['--dom0', '--gic', '--dtb', '--memory', '--xsm', '--timeout', '--max-instructions', '--seed', '--quantum', '--trace', '--domain']) {
      expect(RUN_USAGE).toContain(o);
    }
  });
});

describe('xenvm-emu (the installed command)', () => {
  it('runs an image: transcript on stdout, status on stderr, exit 0', () => {
    const r = cli('run', image('xenvm-gicv2', 'hello'));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toContain('d1: Test result: SUCCESS');
    expect(r.stdout).not.toContain('xenvm-emu:');
    expect(r.stderr).toContain('xenvm-emu: d1 shut down (poweroff)');
  });
  it('--trace prints one line per hypercall on stderr', () => {
    const r = cli('run', '--trace', image('xenvm-gicv2', 'hello'));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/d1v0 hypercall_63\(x0=0, x1=0, x2=0\) = -38 -ENOSYS {2}@0x4000[0-9a-f]{4} <xen_hypercall\+0x[0-9a-f]+>/);
  });
  it('usage errors exit 2 with the usage text', () => {
    const r = cli('run', '--gic', '9', 'x.img');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--gic takes 2 or 3, not '9'");
    expect(r.stderr).toContain('usage: xenvm-emu run');
  });
  it('--help documents the commands', () => {
    const top = cli('--help');
    expect(top.status).toBe(0);
    for (const c of ['run', 'demo', 'reference', 'diff', 'trace']) expect(top.stdout).toContain(`  ${c}`);
    const run = cli('run', '--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(RUN_USAGE + '\n');
  });
  it('an unknown command exits 2', () => {
    const r = cli('frob');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frob'");
  });
});
