// A writer for the cpio "newc" format (SVR4 portable ASCII, magic 070701), the one the Linux
// kernel unpacks as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
// Each entry is a 110-byte ASCII header of 13 eight-digit hex fields, the NUL-terminated name
// padded to a multiple of 4 bytes (counted from the header's start), then the data padded to
// a multiple of 4. A final entry named "TRAILER!!!" ends the archive.
//
// Everything is deterministic: inode numbers count up from 1 and mtime is 0, so the same
// entries always give the same bytes (and the same cache key).

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

/** File-type bits of st_mode (POSIX <sys/stat.h>). */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFCHR = 0o020000;

export const NEWC_MAGIC = '070701';
export const NEWC_HEADER_SIZE = 110;
export const TRAILER_NAME = 'TRAILER!!!';

export type CpioResult = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}

function header(f: { ino: number; mode: number; nlink: number; size: number; rmajor: number; rminor: number; namesize: number }): string {
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  return (
    NEWC_MAGIC +
    [f.ino, f.mode, 0, 0, f.nlink, 0, f.size, 0, 0, f.rmajor, f.rminor, f.namesize, 0].map(hex8).join('')
  );
}

/** Builds a newc archive; paths are relative ("dev/console"), without a leading slash. */
export function writeNewc(entries: CpioEntry[]): CpioResult {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const seen = new Set<string>();
  const push = (hdr: string, name: string, data: Uint8Array) => {
    const nameBytes = enc.encode(name + '\0');
    parts.push(enc.encode(hdr), nameBytes, new Uint8Array(pad4(NEWC_HEADER_SIZE + nameBytes.length)));
    parts.push(data, new Uint8Array(pad4(data.length)));
  };
  let ino = 1;
  for (const e of entries) {
    if (e.path === '' || e.path.startsWith('/') || e.path.split('/').some((s) => s === '' || s === '..')) {
      return { ok: false, error: `cpio: bad path "${e.path}" (relative, no empty or ".." parts)` };
    }
    if (seen.has(e.path)) return { ok: false, error: `cpio: duplicate path "${e.path}"` };
    seen.add(e.path);
    const perm = (e.mode ?? (e.kind === 'dir' ? 0o755 : e.kind === 'file' ? 0o644 : 0o600)) & 0o7777;
    const namesize = enc.encode(e.path).length + 1;
    switch (e.kind) {
      case 'dir':
        push(header({ ino: ino++, mode: S_IFDIR | perm, nlink: 2, size: 0, rmajor: 0, rminor: 0, namesize }), e.path, new Uint8Array(0));
        break;
      case 'file':
        push(header({ ino: ino++, mode: S_IFREG | perm, nlink: 1, size: e.data.length, rmajor: 0, rminor: 0, namesize }), e.path, e.data);
        break;
      case 'chardev':
        push(header({ ino: ino++, mode: S_IFCHR | perm, nlink: 1, size: 0, rmajor: e.major, rminor: e.minor, namesize }), e.path, new Uint8Array(0));
        break;
    }
  }
  push(header({ ino: 0, mode: 0, nlink: 1, size: 0, rmajor: 0, rminor: 0, namesize: TRAILER_NAME.length + 1 }), TRAILER_NAME, new Uint8Array(0));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { ok: true, bytes: out };
}
