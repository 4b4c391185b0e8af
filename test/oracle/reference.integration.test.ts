// Runs real guests under the real Xen 4.17 in QEMU. Skipped (with the reason in the test
// name) when the oracle's prerequisites or the guest images are not on this machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureOraclePrereqs } from '../../src/oracle/prereqs.ts';
import { runReference } from '../../src/oracle/reference.ts';
import { REPO_ROOT } from '../../src/oracle/prereqs.ts';

const pre = await ensureOraclePrereqs({ install: false });
const noOracle = pre.ok ? '' : ' [skipped: Xen/QEMU/dtc not available; run `xenvm-emu reference` as root once]';
const hello = join(REPO_ROOT, 'firmware/build/xenvm-gicv2/hello.img');
const noHello = existsSync(hello) ? '' : ' [skipped: firmware/build/xenvm-gicv2/hello.img not built; make -C firmware]';

let probeDir: string | undefined;
function assembleProbe(): string | undefined {
  try {
    probeDir = mkdtempSync(join(tmpdir(), 'oracle-probe-'));
    const src = join(import.meta.dirname, 'fixtures', 'shutdown-probe.S');
    const [o, elf, img] = ['o', 'elf', 'img'].map((e) => join(probeDir!, `probe.${e}`));
    execFileSync('aarch64-linux-gnu-as', ['-o', o, src]);
    execFileSync('aarch64-linux-gnu-ld', ['-Ttext=0x40000000', '-o', elf, o]);
    execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', elf, img]);
    return img;
  } catch {
    return undefined;
  }
}
const probe = pre.ok ? assembleProbe() : undefined;
const noProbe = probe ? '' : ' [skipped: aarch64-linux-gnu binutils missing]';
afterAll(() => {
  if (probeDir) rmSync(probeDir, { recursive: true, force: true });
});

/** Our child processes, from /proc: QEMU must be gone when a run returns. */
function childPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('runReference under the real Xen', () => {
  it.skipIf(!!noOracle || !!noHello)(`runs hello.img to its result line (GICv2, dummy)${noOracle || noHello}`, async () => {
    const r = await runReference({ images: [hello], gic: 2, xsm: 'dummy', timeoutMs: 30_000 });
    expect(r.ok ? '' : r.error).toBe('');
    if (!r.ok) return;
    expect(r.ended).toBe('all-results');
    expect(r.lines[0]).toBe('d1: hello from xenvm guest');
    expect(r.lines).toContain('d1: Test result: SUCCESS');
    expect(r.raw).toContain('(XEN) DOM1: hello from xenvm guest');
    expect(childPids()).toEqual([]);
  });

  it.skipIf(!!noOracle || !!noProbe)(`sees two domUs shut down without a result line (GICv3, silo)${noOracle || noProbe}`, async () => {
    const r = await runReference({ images: [probe!, probe!], gic: 3, xsm: 'silo', timeoutMs: 30_000 });
    expect(r.ok ? '' : r.error).toBe('');
    if (!r.ok) return;
    expect(r.ended).toBe('all-shutdown');
    for (const d of ['d1', 'd2']) {
      expect(r.lines.filter((l) => l.startsWith(`${d}: `))).toEqual([
        `${d}: probe up`,
        `${d}: probe done`,
        `${d}: probe console_io`,
      ]);
    }
    expect(r.raw).toMatch(/\(d1\) probe console_io/);
    expect(childPids()).toEqual([]);
  });

  it.skipIf(!!noOracle || !!noProbe)(`times out with the lines seen so far and kills QEMU${noOracle || noProbe}`, async () => {
    const r = await runReference({ images: [probe!], gic: 2, xsm: 'silo', timeoutMs: 150 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(/^timeout after 150 ms: d1 /);
    expect(childPids()).toEqual([]);
  });

  it('refuses a file that is not an arm64 Image before starting anything', async () => {
    const r = await runReference({ images: [join(import.meta.dirname, 'fixtures', 'shutdown-probe.S')], gic: 2, xsm: 'dummy' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/not an arm64 Image/);
  });
});
