// Fetches one Debian package for a foreign architecture without touching the machine's apt
// configuration: a private apt directory (sources, lists, cache, an empty dpkg status) under
// the project's cache, `apt-get update`, `apt-get download`, `dpkg-deb -x`. The sources are
// the system's own (/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list), copied as
// they are, so the suites and the keyring are the ones this machine already trusts.
//
// Local stand-in for the project's shared scripts/debian-fetch.mjs; same job, typed results.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type Fetched = { ok: true; deb: string; dir: string; fields: Record<string, string> } | { ok: false; error: string };

function run(cmd: string, args: string[], cwd?: string): Promise<{ ok: true; stdout: string } | { ok: false; error: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) done({ ok: false, error: `${cmd} ${args.join(' ')} failed: ${String(stderr || err.message).trim()}` });
      else done({ ok: true, stdout });
    });
  });
}

/** apt options that point every path apt would write at `aptDir` and pick the architecture. */
export function privateAptOptions(aptDir: string, arch: string): string[] {
  const o = (k: string, v: string) => ['-o', `${k}=${v}`];
  return [
    ...o('Dir::Etc::sourcelist', join(aptDir, 'sources.list')),
    ...o('Dir::Etc::sourceparts', join(aptDir, 'sources.list.d')),
    ...o('Dir::Etc::preferencesparts', join(aptDir, 'preferences.d')),
    ...o('Dir::State', join(aptDir, 'state')),
    ...o('Dir::State::status', '/dev/null'),
    ...o('Dir::Cache', join(aptDir, 'cache')),
    ...o('APT::Architecture', arch),
    ...o('APT::Architectures', arch),
  ];
}

/** Copies the system's source definitions into a fresh private apt directory. */
export function preparePrivateApt(aptDir: string, etcApt = '/etc/apt'): { ok: true } | { ok: false; error: string } {
  for (const d of ['sources.list.d', 'preferences.d', 'state/lists/partial', 'cache/archives/partial']) {
    mkdirSync(join(aptDir, d), { recursive: true });
  }
  let copied = 0;
  const parts = join(etcApt, 'sources.list.d');
  if (existsSync(parts)) {
    for (const f of readdirSync(parts)) {
      if (f.endsWith('.sources') || f.endsWith('.list')) {
        copyFileSync(join(parts, f), join(aptDir, 'sources.list.d', f));
        copied++;
      }
    }
  }
  if (existsSync(join(etcApt, 'sources.list'))) {
    copyFileSync(join(etcApt, 'sources.list'), join(aptDir, 'sources.list'));
    copied++;
  }
  if (copied === 0) return { ok: false, error: `no apt sources under ${etcApt} to take the suites and keyring from` };
  return { ok: true };
}

/** `apt-cache show` output of the candidate version: one stanza, folded fields joined. */
export function parseControlStanza(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let key: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (Object.keys(fields).length > 0) break;
      continue;
    }
    if (/^\s/.test(line) && key) {
      fields[key] += '\n' + line.trim();
      continue;
    }
    const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (m) {
      key = m[1];
      fields[key] = m[2];
    }
  }
  return fields;
}

export interface AptSession {
  /** The candidate's control fields, as `apt-cache show --no-all-versions` prints them. */
  show(pkg: string): Promise<{ ok: true; fields: Record<string, string> } | { ok: false; error: string }>;
  /** Downloads the candidate .deb into `dest` and extracts it to `dest/root`. */
  download(pkg: string, dest: string): Promise<Fetched>;
}

/** A private apt for `arch` with fresh package lists (one `apt-get update`). */
export async function openPrivateApt(aptDir: string, arch: string): Promise<{ ok: true; apt: AptSession } | { ok: false; error: string }> {
  const prep = preparePrivateApt(aptDir);
  if (!prep.ok) return prep;
  const opts = privateAptOptions(aptDir, arch);
  const up = await run('apt-get', [...opts, 'update']);
  if (!up.ok) return { ok: false, error: `could not read Debian's ${arch} package lists: ${up.error}` };
  const apt: AptSession = {
    async show(pkg) {
      const r = await run('apt-cache', [...opts, 'show', '--no-all-versions', pkg]);
      if (!r.ok) return { ok: false, error: `Debian has no ${arch} package ${pkg}: ${r.error}` };
      return { ok: true, fields: parseControlStanza(r.stdout) };
    },
    async download(pkg, dest) {
      mkdirSync(dest, { recursive: true });
      // As root, apt warns that _apt cannot write to `dest` and downloads as root: harmless.
      const r = await run('apt-get', [...opts, 'download', pkg], dest);
      if (!r.ok) return r;
      const deb = readdirSync(dest).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (!deb) return { ok: false, error: `apt-get download produced no ${pkg} .deb` };
      const dir = join(dest, 'root');
      const x = await run('dpkg-deb', ['-x', join(dest, deb), dir]);
      if (!x.ok) return x;
      const f = await run('dpkg-deb', ['-f', join(dest, deb)]);
      if (!f.ok) return f;
      return { ok: true, deb: join(dest, deb), dir, fields: parseControlStanza(f.stdout) };
    },
  };
  return { ok: true, apt };
}
