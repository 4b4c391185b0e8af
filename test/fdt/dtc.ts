import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when the devicetree compiler is installed. */
export const haveDtc = spawnSync('dtc', ['--version'], { encoding: 'utf8' }).status === 0;
export const haveFdtget = spawnSync('fdtget', ['--help'], { encoding: 'utf8' }).status !== null;

/** Compiles DTS source to a DTB with `dtc -I dts -O dtb`; throws with dtc's message on error. */
export function compileDts(source: string): Uint8Array {
  const r = spawnSync('dtc', ['-I', 'dts', '-O', 'dtb', '-q', '-'], { input: source });
  if (r.status !== 0) throw new Error(`dtc failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

/** `fdtget <args>` on a blob, for cross-checking this reader against libfdt's tools. */
export function fdtget(dtb: Uint8Array, args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'fdt-test-'));
  try {
    const f = join(dir, 'x.dtb');
    writeFileSync(f, dtb);
    const r = spawnSync('fdtget', [f, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`fdtget failed: ${r.stderr}`);
    return r.stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
