// Fetches a Debian package into the project's cache without touching the machine's apt set-up.
//
// The project needs packages the system's apt cannot give as configured: Unicorn 2.1 lives in
// trixie (the machine runs bookworm), and the real Xen and the test kernel are arm64 packages
// (the machine is amd64). Adding a suite or `dpkg --add-architecture` would change the machine
// behind the user's back, so apt-get runs against a private directory instead: its own sources
// list (made from the Debian mirrors and keyring the system already trusts, with the suite and
// architecture we ask for), its own package lists, cache and an empty dpkg status. Then
// `apt-get download` and `dpkg-deb -x`. Nothing is installed on the system; nothing is fetched
// from anywhere but the Debian mirrors the system already uses.
//
// Plain Node ESM with no dependencies: scripts/setup.mjs runs it before `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/**
 * The Debian sources the system's apt already uses: [{ uri, suites, signedBy }], from deb822
 * files in /etc/apt/sources.list.d and one-line entries in /etc/apt/sources.list (binary
 * entries only; disabled ones and other archives than Debian's are left out).
 */
export function systemDebianSources(etc = '/etc/apt') {
  const found = [];
  const add = (uri, signedBy, suites) => {
    if (!uri || !/^https?:\/\//.test(uri) || !/debian/.test(uri) || suites.length === 0) return;
    uri = uri.replace(/\/+$/, '');
    const known = found.find((m) => m.uri === uri);
    if (known) {
      for (const s of suites) if (!known.suites.includes(s)) known.suites.push(s);
      return;
    }
    found.push({ uri, suites: [...suites], signedBy: signedBy || DEFAULT_KEYRING });
  };
  const dir = join(etc, 'sources.list.d');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sources')).map((f) => join(dir, f)) : [];
  for (const file of files) {
    // deb822: stanzas separated by blank lines, "Key: value" fields, '#' comments.
    const text = readFileSync(file, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = {};
      for (const line of stanza.split('\n')) {
        if (line.startsWith('#')) continue;
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) field[m[1].toLowerCase()] = m[2].trim();
      }
      if (field.enabled === 'no' || !(field.types ?? '').split(/\s+/).includes('deb')) continue;
      const suites = (field.suites ?? '').split(/\s+/).filter(Boolean);
      for (const uri of (field.uris ?? '').split(/\s+/)) add(uri, field['signed-by'], suites);
    }
  }
  const list = join(etc, 'sources.list');
  if (existsSync(list)) {
    for (const raw of readFileSync(list, 'utf8').split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      // deb [options] uri suite components...
      const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (!m) continue;
      const signed = /signed-by=(\S+)/.exec(m[1] ?? '');
      add(m[2], signed?.[1], [m[3]]);
    }
  }
  return found;
}

/**
 * The sources list lines for `suite`, shaped like the system's own: each of its suites
 * (bookworm, bookworm-updates, bookworm-security) with the system's codename replaced by
 * `suite`, from the same mirror and keyring. So a package comes in the version the system's
 * apt would give (security updates included), and another release's the same way.
 */
export function sourcesFor(sources, system, suite, arch) {
  const lines = [];
  for (const src of sources) {
    for (const s of src.suites) {
      if (system && s !== system && !s.startsWith(`${system}-`)) continue;
      const mapped = system ? suite + s.slice(system.length) : suite;
      const line = `deb [arch=${arch} signed-by=${src.signedBy}] ${src.uri} ${mapped} main`;
      if (!lines.includes(line)) lines.push(line);
    }
  }
  return lines;
}

/** The system's Debian codename (bookworm, trixie...), from /etc/os-release. */
export function systemCodename(osRelease = '/etc/os-release') {
  try {
    const m = /^VERSION_CODENAME=(\S+)$/m.exec(readFileSync(osRelease, 'utf8'));
    return m ? m[1].replace(/"/g, '') : undefined;
  } catch {
    return undefined;
  }
}

/** The machine's own Debian architecture (amd64, arm64...). */
export function hostArch() {
  const r = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : process.arch === 'x64' ? 'amd64' : process.arch;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) return { ok: false, error: `${cmd}: ${r.error.code === 'ENOENT' ? 'not installed' : r.error.message}` };
  if (r.status !== 0) {
    const tail = String(r.stderr || r.stdout).trim().split('\n').slice(-4).join('\n');
    return { ok: false, error: `${cmd} ${args.filter((a) => !a.startsWith('-o')).join(' ')} failed: ${tail}` };
  }
  return { ok: true, stdout: r.stdout };
}

/**
 * A private apt instance for one suite and architecture, under `root`. Returns the apt-get
 * options that point apt at it, after writing its sources list and creating its directories.
 */
export function privateApt({ root, suite, arch }) {
  const lines = sourcesFor(systemDebianSources(), systemCodename(), suite, arch);
  if (lines.length === 0) {
    return { ok: false, error: 'no Debian source found in /etc/apt (sources.list or sources.list.d/*.sources)' };
  }
  for (const d of ['lists/partial', 'archives/partial', 'etc/sources.list.d', 'etc/preferences.d', 'etc/apt.conf.d']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  writeFileSync(join(root, 'etc', 'sources.list'), `# written by xenvm-emu's scripts/debian-fetch.mjs; only this cache uses it\n${lines.join('\n')}\n`);
  const o = (k, v) => ['-o', `${k}=${v}`];
  const options = [
    ...o('Dir::Etc::sourcelist', join(root, 'etc', 'sources.list')),
    ...o('Dir::Etc::sourceparts', join(root, 'etc', 'sources.list.d')),
    ...o('Dir::Etc::preferencesparts', join(root, 'etc', 'preferences.d')),
    ...o('Dir::Etc::parts', join(root, 'etc', 'apt.conf.d')),
    ...o('Dir::State', root),
    ...o('Dir::State::lists', join(root, 'lists')),
    ...o('Dir::State::status', '/dev/null'),
    ...o('Dir::Cache', root),
    ...o('Dir::Cache::archives', join(root, 'archives')),
    ...o('APT::Architecture', arch),
    ...o('APT::Architectures', arch),
    // Private directories need no system lock, and an unprivileged user cannot take it.
    ...o('Debug::NoLocking', '1'),
    // As root, apt drops to the _apt user, who cannot write into our cache: download as ourselves.
    ...(process.getuid?.() === 0 ? o('APT::Sandbox::User', 'root') : []),
  ];
  return { ok: true, options };
}

/**
 * `apt-get update` of a private instance, at most once per `maxAgeMs` for the same sources
 * (the stamp holds them: a changed sources list is read anew at once).
 */
function updateLists(root, options, maxAgeMs) {
  const stamp = join(root, 'updated');
  const sources = readFileSync(join(root, 'etc', 'sources.list'), 'utf8');
  if (existsSync(stamp)) {
    const [when, ...rest] = readFileSync(stamp, 'utf8').split('\n');
    if (rest.join('\n') === sources && Date.now() - Number(when) < maxAgeMs) return { ok: true };
  }
  const r = run('apt-get', [...options, '-qq', 'update']);
  if (!r.ok) return r;
  writeFileSync(stamp, `${Date.now()}\n${sources}`);
  return { ok: true };
}

/** The candidate version and Depends of a package in a private instance. */
export function showPackage(options, pkg) {
  const r = run('apt-cache', [...options, 'show', '--no-all-versions', pkg]);
  if (!r.ok) return r;
  const field = (name) => new RegExp(`^${name}: (.*)$`, 'm').exec(r.stdout)?.[1];
  return { ok: true, version: field('Version'), depends: field('Depends') ?? '' };
}

/**
 * Downloads `pkg` for `arch` from `suite` and unpacks it into `destDir` (replaced atomically).
 * `cacheDir` holds the private apt state, shared by fetches for the same suite/arch.
 * Returns { ok, dir, version } or { ok: false, error }.
 */
export function fetchDebianPackage({ pkg, arch = hostArch(), suite = systemCodename(), cacheDir, destDir, maxListAgeMs = 7 * 24 * 3600e3 }) {
  if (!suite) return { ok: false, error: 'cannot tell the Debian suite (no VERSION_CODENAME in /etc/os-release)' };
  const root = join(cacheDir, `${suite}-${arch}`);
  const apt = privateApt({ root, suite, arch });
  if (!apt.ok) return apt;
  const up = updateLists(root, apt.options, maxListAgeMs);
  if (!up.ok) return { ok: false, error: `cannot read Debian ${suite}/${arch} package lists: ${up.error}` };
  const show = showPackage(apt.options, pkg);
  if (!show.ok) return { ok: false, error: `Debian ${suite}/${arch} has no package ${pkg}: ${show.error}` };
  mkdirSync(cacheDir, { recursive: true });
  // Download and unpack in a scratch directory, then rename into place, so two runs racing on
  // a fresh cache never see a half-unpacked tree.
  const work = mkdtempSync(join(cacheDir, 'fetch-'));
  try {
    const d = run('apt-get', [...apt.options, '-qq', 'download', `${pkg}:${arch}`], { cwd: work });
    if (!d.ok) return d;
    const deb = readdirSync(work).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) return { ok: false, error: `apt-get download gave no ${pkg} .deb` };
    const x = run('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
    if (!x.ok) return x;
    writeFileSync(join(work, 'root', '.xenvm-package'), `${pkg} ${show.version} ${suite} ${arch}\n`);
    rmSync(destDir, { recursive: true, force: true });
    mkdirSync(join(destDir, '..'), { recursive: true });
    renameSync(join(work, 'root'), destDir);
    return { ok: true, dir: destDir, version: show.version };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** What a previous fetch left in `dir`: { pkg, version, suite, arch } or undefined. */
export function fetchedPackage(dir) {
  try {
    const [pkg, version, suite, arch] = readFileSync(join(dir, '.xenvm-package'), 'utf8').trim().split(' ');
    return { pkg, version, suite, arch };
  } catch {
    return undefined;
  }
}
