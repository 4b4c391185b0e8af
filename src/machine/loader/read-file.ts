/**
 * Reading an image file from the host, with an error a user can act on.
 */
import { readFileSync } from 'node:fs';
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

export function readImageFile(path: string, what = 'image'): Result<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const reason = REASONS[code] ?? (e instanceof Error ? e.message : String(e));
    return err(`cannot read ${what} '${path}': ${reason}`);
  }
  if (bytes.length === 0) return err(`cannot read ${what} '${path}': file is empty`);
  return ok(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
}
