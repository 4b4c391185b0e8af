// The Linux boot comparison, checked on the real Xen's own transcripts (test/golden).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareLinuxBoot,
  kernelText,
  linuxLinesThatMatter,
  linuxProblems,
  normaliseLine,
} from '../../src/linux/boot-compare.ts';

const golden = (gic: 2 | 3) =>
  readFileSync(join(import.meta.dirname, '..', 'golden', `linux-cloud.gicv${gic}.txt`), 'utf8').trimEnd().split('\n');
const v2 = golden(2);
const v3 = golden(3);

describe('linuxLinesThatMatter on the real Xen goldens', () => {
  it('keeps PSCI, GIC, timer, console, the hand-over to /init, init\'s lines and the power-off, in order', () => {
    const m = linuxLinesThatMatter(v3);
    const want = [
      'Booting Linux on physical CPU 0x0000000000 [0x411fd070]',
      'psci: PSCIv1.1 detected in firmware.',
      'psci: SMC Calling Convention v1.1',
      'Kernel command line: console=ttyAMA0 earlycon=pl011,0x22000000',
      'GICv3: 224 SPIs implemented',
      'arch_timer: cp15 timer(s) running at 62.50MHz (virt).',
      'printk: console [ttyAMA0] enabled',
      'Run /init as init process',
      'init: hello from /init',
      'init: running as pid 1',
      'init: uname sysname=Linux machine=aarch64',
      'init: uname release=<release>',
      'init: powering off',
      'reboot: Power down',
    ];
    let from = 0;
    for (const w of want) {
      const at = m.indexOf(w, from);
      expect(at, `"${w}" after position ${from} in\n${m.join('\n')}`).toBeGreaterThanOrEqual(from);
      from = at + 1;
    }
    expect(m.at(-1)).toBe('reboot: Power down');
  });

  it('drops what varies: timestamps, measured times, memory totals, hash tables', () => {
    const m = linuxLinesThatMatter(v2).join('\n');
    expect(m).not.toMatch(/\[\s*\d+\.\d+\]/);
    expect(m).not.toMatch(/deferred pages|audit\(|^Memory: |hash table|BogoMIPS/m);
    expect(m).not.toMatch(/6\.1\.0-\d+-cloud-arm64/);
  });

  it('the goldens report no kernel problem', () => {
    expect(linuxProblems(v2)).toEqual([]);
    expect(linuxProblems(v3)).toEqual([]);
  });
});

describe('compareLinuxBoot', () => {
  it('finds a golden equal to itself, and to itself with other timestamps and measurements', () => {
    expect(compareLinuxBoot(v2, v2)).toMatchObject({ ok: true });
    const retimed = v2.map((l) => l.replace(/\[\s*(\d+)\.(\d+)\]/, (_, s, us) => `[${String(Number(s) * 3 + 1).padStart(5)}.${us}]`))
      .map((l) => l.replace(/audit\([\d.]+:/, 'audit(9.999:').replace(/initialised in \d+ms/, 'initialised in 7ms'));
    expect(retimed).not.toEqual(v2);
    expect(compareLinuxBoot(v2, retimed)).toMatchObject({ ok: true });
  });

  it('tells GICv2 from GICv3 by the GIC lines', () => {
    const c = compareLinuxBoot(v2, v3);
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.missing).toEqual([]);
    expect(c.unexpected).toContain('GICv3: 224 SPIs implemented');
    expect(c.unexpected.every((l) => /GIC/.test(l))).toBe(true);
  });

  it('fails when /init never ran or printed something else', () => {
    const noInit = v2.filter((l) => !kernelText(l).startsWith('init: '));
    const c = compareLinuxBoot(v2, noInit);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.missing).toContain('init: hello from /init');
    const other = v2.map((l) => l.replace('init: running as pid 1', 'init: running as pid 2'));
    expect(compareLinuxBoot(v2, other).ok).toBe(false);
  });

  it('fails on reordered lines that matter', () => {
    const i = v2.findIndex((l) => l.includes('psci: PSCIv1.1'));
    const swapped = [...v2];
    [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
    const c = compareLinuxBoot(v2, swapped);
    expect(c.ok).toBe(false);
    if (!c.ok) expect([c.missing, c.unexpected]).toEqual([[], []]);
  });

  it('flags WARNING, Oops, BUG: and Call trace: even when everything else matches', () => {
    for (const bad of ['WARNING: CPU: 0 PID: 1 at kernel/x.c:1 f+0x0/0x4', 'Internal error: Oops: 96000004 [#1] SMP', 'BUG: scheduling while atomic', 'Call trace:']) {
      const withBad = [...v2.slice(0, 60), `d1: [    0.100000] ${bad}`, ...v2.slice(60)];
      const c = compareLinuxBoot(v2, withBad);
      expect(c.ok, bad).toBe(false);
      if (!c.ok) expect(c.problems).toEqual([bad]);
    }
  });

  it('accepts a newer kernel release from the same metapackage', () => {
    const newer = v2.map((l) =>
      l.replace(/6\.1\.0-57-cloud-arm64/g, '6.1.0-58-cloud-arm64').replace(/#1 SMP Debian [^\n]*/, '#1 SMP Debian 6.1.193-1 (2027-01-02)'),
    );
    expect(newer).not.toEqual(v2);
    expect(compareLinuxBoot(v2, newer)).toMatchObject({ ok: true });
    expect(normaliseLine('init: uname release=6.1.0-57-cloud-arm64')).toBe('init: uname release=<release>');
  });
});
