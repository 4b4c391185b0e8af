// Where the engine comes from: the private-apt mirror list, the candidate order, and the
// version check that refuses Unicorn 2.0.x (which cannot run guests with the MMU on).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-ignore -- plain ESM shared with scripts/setup.mjs
import { fetchDebianPackage, sourcesFor, systemDebianSources } from '../../scripts/debian-fetch.mjs';
// @ts-ignore -- plain ESM shared with scripts/setup.mjs
import { engineCandidates } from '../../scripts/engine.mjs';
import { engineVersionProblem, loadUnicorn, unpackVersion } from '../../src/unicorn/binding.ts';
import { REPO_ROOT } from '../../src/machine/run.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeEtc(files: Record<string, string>): string {
  const etc = mkdtempSync(join(tmpdir(), 'apt-etc-'));
  dirs.push(etc);
  mkdirSync(join(etc, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(etc, name), text);
  return etc;
}

describe('systemDebianSources', () => {
  it('reads deb822 stanzas and one-line entries, skipping disabled ones and deb-src', () => {
    const etc = fakeEtc({
      'sources.list.d/debian.sources': [
        'Types: deb',
        '# http://snapshot.example/archive',
        'URIs: http://deb.debian.org/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
        'Types: deb',
        'URIs: http://deb.debian.org/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb-src',
        'URIs: http://src.debian.example/debian',
        'Suites: bookworm',
        '',
        'Enabled: no',
        'Types: deb',
        'URIs: http://off.debian.example/debian',
        'Suites: bookworm',
      ].join('\n'),
      'sources.list': '# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n',
    });
    const sources = systemDebianSources(etc);
    expect(sources).toEqual([
      { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
      { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
      { uri: 'http://mirror.example/debian', suites: ['bookworm'], signedBy: '/k.gpg' },
    ]);
    // Another release is asked for in the same shape: its updates and security suites too.
    expect(sourcesFor(sources, 'bookworm', 'trixie', 'amd64')).toEqual([
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-updates main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security trixie-security main',
      'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian trixie main',
    ]);
  });

  it('finds nothing when apt has no Debian source', () => {
    expect(systemDebianSources(fakeEtc({}))).toEqual([]);
  });
});

describe('the engine', () => {
  it('XENVM_EMU_UNICORN is the only candidate when set', () => {
    const old = process.env.XENVM_EMU_UNICORN;
    process.env.XENVM_EMU_UNICORN = '/nowhere/libunicorn.so.2';
    try {
      expect(engineCandidates()).toEqual([{ path: '/nowhere/libunicorn.so.2', source: 'XENVM_EMU_UNICORN' }]);
    } finally {
      if (old === undefined) delete process.env.XENVM_EMU_UNICORN;
      else process.env.XENVM_EMU_UNICORN = old;
    }
  });

  it('an engine fetched into the user cache (xenvm-emu fetch-engine) is a candidate', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'xdg-cache-'));
    dirs.push(xdg);
    const lib = join(xdg, 'xenvm-emu', 'engine', 'usr', 'lib', 'x86_64-linux-gnu', 'libunicorn.so.2');
    mkdirSync(join(lib, '..'), { recursive: true });
    writeFileSync(lib, '');
    const old = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = xdg;
    try {
      expect(engineCandidates()).toContainEqual({ path: lib, source: 'user cache' });
    } finally {
      if (old === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = old;
    }
  });

  it('fetch-engine has nothing to do when XENVM_EMU_UNICORN names an engine', () => {
    const r = loadUnicorn();
    if (!r.ok) throw new Error(r.error);
    const run = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'fetch-engine'], { encoding: 'utf8', env: { ...process.env, XENVM_EMU_UNICORN: r.engine.path } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`Unicorn as given (env): ${r.engine.path}\n`);
  });

  it('the loaded engine is 2.1 or later', () => {
    const r = loadUnicorn();
    if (!r.ok) throw new Error(r.error);
    const { major, minor } = r.engine.version;
    expect(major * 100 + minor).toBeGreaterThanOrEqual(201);
  });

  it('--version prints the project and engine versions', () => {
    const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^xenvm-emu \d+\.\d+\.\d+\nUnicorn 2\.\d+\.\d+ \(/);
  });

  it('a missing engine named by XENVM_EMU_UNICORN is refused with what to do', () => {
    const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', '--version'], {
      encoding: 'utf8',
      env: { ...process.env, XENVM_EMU_UNICORN: '/nowhere/libunicorn.so.2' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no usable Unicorn engine');
    expect(r.stderr).toContain('npm run setup');
  });

  it('the version check passes 2.1 and later and refuses 2.0.x, saying why', () => {
    expect(unpackVersion(0x02010100)).toEqual({ major: 2, minor: 1, patch: 1 });
    expect(engineVersionProblem({ major: 2, minor: 1, patch: 1 })).toBeUndefined();
    expect(engineVersionProblem({ major: 3, minor: 0, patch: 0 })).toBeUndefined();
    expect(engineVersionProblem(unpackVersion(0x02000100))).toMatch(/^is Unicorn 2\.0\.1: 2\.0\.x checks memory permissions on the virtual address/);
  });

  // Bookworm's own libunicorn2 (2.0.1), fetched like the engine (private apt directory, no root);
  // skipped only when Debian cannot be reached.
  const dir20 = join(REPO_ROOT, '.cache', 'engine-2.0-test');
  const lib20 = join(dir20, 'usr', 'lib', 'x86_64-linux-gnu', 'libunicorn.so.2');
  const old20 = (
    existsSync(lib20) ? { ok: true } : fetchDebianPackage({ pkg: 'libunicorn2', suite: 'bookworm', cacheDir: join(REPO_ROOT, '.cache', 'apt'), destDir: dir20 })
  ) as { ok: true } | { ok: false; error: string };
  it.skipIf(!old20.ok || !existsSync(lib20))(`Unicorn 2.0.1 loaded for real is refused, saying why${old20.ok ? '' : ` [skipped: ${old20.error.split('\n')[0]}]`}`, () => {
    const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', '--version'], { encoding: 'utf8', env: { ...process.env, XENVM_EMU_UNICORN: lib20 } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is Unicorn 2\.0\.\d+: 2\.0\.x checks memory permissions on the virtual address/);
  });
});
