/**
 * Reading an image file from the host, with an error a user can act on.
 */
import { readFileSync, statSync } from 'node:fs';
import { type Result, ok, err } from '../result.ts';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'path too long',
};

/**
 * The largest input file read: a guest's RAM is at most a few GiB, and nothing that fits in it
 * is larger. Reading stops here rather than at the host's memory.
 */
export const MAX_INPUT_BYTES = 2 ** 30;

/**
 * Reads a whole regular file. Anything else (a device such as /dev/zero, a FIFO, a directory,
 * a socket) is refused before it is opened: reading one would never end or never start.
 */
export function readImageFile(path: string, what = 'image', limit = MAX_INPUT_BYTES): Result<Uint8Array> {
  let bytes: Buffer;
  try {
    const st = statSync(path);
    if (!st.isFile()) return err(`cannot read ${what} '${path}': not a regular file (${fileKind(st)})`);
    if (st.size > limit) return err(`cannot read ${what} '${path}': too large: ${st.size} bytes, limit ${limit}`);
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const reason = REASONS[code] ?? (e instanceof Error ? e.message : String(e));
    return err(`cannot read ${what} '${path}': ${reason}`);
  }
  if (bytes.length === 0) return err(`cannot read ${what} '${path}': file is empty`);
  return ok(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
}

function fileKind(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
