// `xenvm-emu diff` end to end: the emulator and the real Xen on the same image.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';
import { noOracle } from '../helpers/oracle-live.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'xenvm-emu.mjs'), 'diff', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('xenvm-emu diff', () => {
  it.skipIf(noOracle !== '')(`says equal and exits 0 when the emulator prints what the real Xen prints${noOracle}`, () => {
    const r = cli('--gic', '3', image('xenvm-gicv3', 'hello'));
    expect(r.stdout).toContain('transcripts are equal');
    expect(r.status).toBe(0);
  });

  it.skipIf(noOracle !== '')(`passes --cpus to both sides: the devicetree with two cpu nodes and the SMP guest${noOracle}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'diff-cli-'));
    const lone = join(dir, 'dtb-dump.img');
    copyFileSync(image('xenvm-gicv3', 'dtb-dump'), lone);
    const dtb = cli('--gic', '3', '--cpus', '2', lone);
    rmSync(dir, { recursive: true, force: true });
    expect(dtb.stdout).toContain('transcripts are equal');
    expect(dtb.status).toBe(0);
    const smp = cli('--gic', '2', '--cpus', '2', image('xenvm-gicv2', 'smp-events'));
    expect(smp.stdout).toContain('transcripts are equal');
    expect(smp.status).toBe(0);
  });

  it.skipIf(noOracle !== '')(`passes --memory and --cmdline to both sides${noOracle}`, () => {
    // dtb-dump alone in a directory: both sides give it the devicetree Xen builds, which shows
    // the memory size and the command line.
    const dir = mkdtempSync(join(tmpdir(), 'diff-cli-'));
    const lone = join(dir, 'dtb-dump.img');
    copyFileSync(image('xenvm-gicv2', 'dtb-dump'), lone);
    const r = cli('--memory', '128', '--cmdline', 'console=ttyAMA0', lone);
    rmSync(dir, { recursive: true, force: true });
    expect(r.stdout).toContain('transcripts are equal');
    expect(r.status).toBe(0);
  });

  it('rejects bad options with exit 2 before running anything', () => {
    const r = cli('--gic', '7', 'x.img');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--gic takes 2 or 3');
  });
});
