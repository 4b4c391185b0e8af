/**
 * gzip-compressed kernels. Xen 4.17 (xen/arch/arm/kernel.c, kernel_probe -> kernel_decompress)
 * inflates a kernel module that starts with the gzip magic before it looks at the format, for
 * dom0 and dom0less domUs alike; Debian's arm64 kernels other than -cloud ship as
 * `vmlinuz` = gzip(Image). The member format is RFC 1952: magic 1f 8b, method 8 (deflate),
 * and a trailer whose last 4 bytes are ISIZE, the uncompressed length modulo 2^32 (Xen sizes
 * its output buffer from it).
 *
 * The file is the user's, so it is untrusted: the output is bounded by `maxBytes` while it
 * is inflated (node:zlib stops at maxOutputLength, so a "gzip bomb" costs at most the cap),
 * and corrupt or truncated data is an error that says which.
 */
import { gunzipSync } from 'node:zlib';
import { type Result, ok, err } from '../result.ts';

export const GZIP_MAGIC = [0x1f, 0x8b] as const;
/** RFC 1952 CM = 8: the only compression method gzip defines. */
const CM_DEFLATE = 8;
/** 10-byte member header + 8-byte trailer (CRC32, ISIZE). */
const GZIP_MIN_SIZE = 18;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Inflates a gzip file whose output must not exceed `maxBytes` (for a kernel: the guest's
 * RAM, since a larger kernel cannot be loaded anyway).
 */
export function gunzipBounded(bytes: Uint8Array, maxBytes: number, what = 'kernel', limitWhy = 'the guest\'s RAM'): Result<Uint8Array> {
  if (!isGzip(bytes)) return err(`${what} is not gzip data (no 1f 8b magic)`);
  if (bytes.length < GZIP_MIN_SIZE) return err(`gzip-compressed ${what} is truncated: ${bytes.length} bytes, a gzip member needs at least ${GZIP_MIN_SIZE}`);
  if (bytes[2] !== CM_DEFLATE) return err(`gzip-compressed ${what} uses compression method ${bytes[2]}, not deflate (8)`);
  // ISIZE (the trailer's length) is not trusted: it is only the length modulo 2^32, and in a
  // truncated file those 4 bytes are something else. maxOutputLength bounds the real output.
  try {
    const out = gunzipSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
    return ok(new Uint8Array(out.buffer, out.byteOffset, out.length));
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    if (x.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return err(tooLarge(what, maxBytes, limitWhy));
    if (x.code === 'Z_BUF_ERROR') return err(`gzip-compressed ${what} is truncated: the deflate stream ends early`);
    if (x.code === 'Z_DATA_ERROR') return err(`gzip-compressed ${what} is corrupt: ${x.message}`);
    return err(`gzip-compressed ${what} cannot be inflated: ${x.message}`);
  }
}

function tooLarge(what: string, maxBytes: number, why: string): string {
  return `gzip-compressed ${what} is too large: it inflates past the limit of ${maxBytes} bytes (${why})`;
}
