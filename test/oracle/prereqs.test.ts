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
    // Plays apt-get download + dpkg-deb -x of the hypervisor package on the file system.
    fetchPackage: ({ pkg, arch, destDir }) => {
      ran.push(`fetch ${pkg}:${arch}`);
      mkdirSync(join(destDir, 'boot'), { recursive: true });
      writeFileSync(join(destDir, 'boot', 'xen-4.17-arm64'), 'xen');
      return { ok: true };
    },
    cacheDir,
    ran,
    ...over,
  };
}

describe('ensureOraclePrereqs', () => {
  it('without root, fetches Xen (no root needed) and names the system packages to install', async () => {
    const deps = fakeDeps({ which: (p) => (p === 'dtc' ? '/usr/bin/dtc' : undefined) });
    const r = await ensureOraclePrereqs({ install: true }, deps);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('needs root');
    expect(r.error).toContain('apt-get install -y --no-install-recommends qemu-system-arm');
    expect(r.error).not.toContain('device-tree-compiler');
    expect(r.error).not.toContain('dpkg --add-architecture');
    // The hypervisor came through the private apt directory; no system command ran.
    expect(deps.ran).toEqual(['fetch xen-hypervisor-4.17-arm64:arm64']);
  });

  it('as root, fetches Xen through the private apt directory and never adds an architecture', async () => {
    const deps = fakeDeps({ getuid: () => 0, which: (p) => (p === 'qemu-system-aarch64' ? undefined : `/usr/bin/${p}`) });
    let installed = false;
    const run = deps.run;
    deps.run = async (cmd, args, cwd) => {
      if (cmd === 'apt-get' && args[0] === 'install') installed = true;
      return run(cmd, args, cwd);
    };
    deps.which = (p) => (p === 'qemu-system-aarch64' && !installed ? undefined : `/usr/bin/${p}`);
    const r = await ensureOraclePrereqs({ install: true }, deps);
    expect(r).toEqual({ ok: true, xen: cachedXenPath(deps.cacheDir), qemu: '/usr/bin/qemu-system-aarch64' });
    expect(deps.ran).toEqual([
      'fetch xen-hypervisor-4.17-arm64:arm64',
      'apt-get update',
      'apt-get install -y --no-install-recommends qemu-system-arm',
    ]);
  });

  it('without install, names npm run setup for the hypervisor', async () => {
    const deps = fakeDeps({});
    const r = await ensureOraclePrereqs({ install: false }, deps);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('npm run setup');
    expect(deps.ran).toEqual([]);
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
