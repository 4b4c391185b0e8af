import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedXenPath, ensureOraclePrereqs, type PrereqDeps } from '../../src/oracle/prereqs.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeDeps(over: Partial<PrereqDeps>): PrereqDeps & { ran: string[] } {
  const cacheDir = mkdtempSync(join(tmpdir(), 'oracle-cache-'));
  dirs.push(cacheDir);
  const ran: string[] = [];
  return {
    getuid: () => 1000,
    which: (p) => `/usr/bin/${p}`,
    run: async (cmd, args) => {
      ran.push([cmd, ...args].join(' '));
      return { ok: true };
    },
    cacheDir,
    ran,
    ...over,
  };
}

describe('ensureOraclePrereqs', () => {
  it('without root, names the exact commands and runs nothing', async () => {
    const deps = fakeDeps({ which: (p) => (p === 'dtc' ? '/usr/bin/dtc' : undefined) });
    const r = await ensureOraclePrereqs({ install: true }, deps);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('needs root');
    expect(r.error).toContain('dpkg --add-architecture arm64');
    expect(r.error).toContain('apt-get download xen-hypervisor-4.17-arm64:arm64');
    expect(r.error).toContain(`dpkg-deb -x ${deps.cacheDir}/deb/xen-hypervisor-4.17-arm64_*_arm64.deb ${deps.cacheDir}/xen`);
    expect(r.error).toContain('apt-get install -y --no-install-recommends qemu-system-arm');
    expect(r.error).not.toContain('device-tree-compiler');
    expect(deps.ran).toEqual([]);
  });

  it('as root, fetches Xen through apt only', async () => {
    const deps = fakeDeps({ getuid: () => 0 });
    deps.run = async (cmd, args, cwd) => {
      deps.ran.push([cmd, ...args].join(' '));
      // Play apt-get download and dpkg-deb -x on the file system.
      if (cmd === 'apt-get' && args[0] === 'download') writeFileSync(join(cwd!, 'xen-hypervisor-4.17-arm64_4.17.7_arm64.deb'), '');
      if (cmd === 'dpkg-deb') {
        mkdirSync(join(args[2], 'boot'), { recursive: true });
        writeFileSync(join(args[2], 'boot', 'xen-4.17-arm64'), 'xen');
      }
      return { ok: true };
    };
    const r = await ensureOraclePrereqs({ install: true }, deps);
    expect(r).toEqual({ ok: true, xen: cachedXenPath(deps.cacheDir), qemu: '/usr/bin/qemu-system-aarch64' });
    expect(deps.ran.map((c) => c.split(' /')[0])).toEqual([
      'dpkg --add-architecture arm64',
      'apt-get update',
      'apt-get download xen-hypervisor-4.17-arm64:arm64',
      'dpkg-deb -x',
    ]);
  });

  it('with everything present, installs nothing', async () => {
    const deps = fakeDeps({});
    mkdirSync(join(deps.cacheDir, 'xen', 'boot'), { recursive: true });
    writeFileSync(cachedXenPath(deps.cacheDir), 'xen');
    const r = await ensureOraclePrereqs({ install: false }, deps);
    expect(r.ok).toBe(true);
    expect(deps.ran).toEqual([]);
  });

  it('without install, reports what is missing', async () => {
    const deps = fakeDeps({ getuid: () => 0 });
    const r = await ensureOraclePrereqs({ install: false }, deps);
    expect(r.ok).toBe(false);
    expect(deps.ran).toEqual([]);
  });
});
