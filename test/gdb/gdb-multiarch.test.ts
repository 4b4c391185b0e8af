// The real gdb-multiarch (Debian) driving `xenvm-emu run --gdb 0 --gdb-wait` in batch mode:
// break on a function by symbol, continue, read variables, step, continue to the end.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runImages } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';
import { readFileSync } from 'node:fs';
import { parseElf64 } from '../../src/machine/loader/elf.ts';

const GDB = 'gdb-multiarch';
const haveGdb = spawnSync(GDB, ['--version'], { stdio: 'ignore' }).status === 0;
const HELLO = image('xenvm-gicv2', 'hello', 'elf');

/** main's address in the image, from its own symbol table (it moves whenever the firmware changes). */
function mainAddress(): string {
  const elf = parseElf64(readFileSync(HELLO));
  if (!elf.ok) throw new Error(elf.error);
  const main = elf.value.symbols.find((s) => s.name === 'main');
  if (!main) throw new Error('hello.elf has no symbol main');
  return main.addr.toString(16);
}

/** Starts the CLI under the debugger and resolves the port it announces on stderr. */
function startEmulator() {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'xenvm-emu.mjs'), 'run', '--gdb', '0', '--gdb-wait', '--timeout', '30', HELLO], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const port = new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /d1 \(hello\.elf\) listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`the emulator exited before listening:\n${stderr}`)));
  });
  const exit = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  return { port, exit, out: () => stdout, err: () => stderr, kill: () => child.kill() };
}

function gdbBatch(port: number, commands: string[]): Promise<{ code: number; out: string }> {
  const args = ['-batch', '-nx', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push('-ex', c);
  args.push(HELLO);
  return new Promise((resolve) => {
    execFile(GDB, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe.skipIf(!haveGdb)('gdb-multiarch against --gdb (skipped when gdb-multiarch is not installed: apt-get install gdb-multiarch)', () => {
  it('breaks in main, reads variables, steps, stops in a hook, finishes, and runs to the end', async () => {
    const plain = await runImages({ images: [HELLO] });
    const emu = startEmulator();
    try {
      const t0 = performance.now();
      const g = await gdbBatch(await emu.port, [
        'break main',
        'continue',
        'print bad_hvc_hits',
        'print msg',
        'print/x $pc',
        'stepi',
        'print/x $pc',
        'next',
        'info registers cpsr',
        'break bad_hvc_hook',
        'continue',
        'print/x f->esr',
        'finish',
        'print bad_hvc_hits',
        'delete',
        'continue',
      ]);
      const out = g.out;
      const main = mainAddress();
      const next = (parseInt(main, 16) + 4).toString(16);
      expect(out).toMatch(new RegExp(`Breakpoint 1 at 0x${main}: file apps/hello/main\\.c, line \\d+\\.`));
      expect(out).toMatch(/Breakpoint 1, main \(\) at apps\/hello\/main\.c:58/);
      expect(out).toContain('$1 = 0');
      expect(out).toContain('$2 = "hello through console_io\\n"');
      expect(out).toContain(`$3 = 0x${main}`);
      expect(out).toContain(`$4 = 0x${next}`);
      // `next` stepped over the printk call to the next source line.
      expect(out).toMatch(/^60\s+long ver = HYPERVISOR_xen_version/m);
      expect(out).toMatch(/cpsr\s+0x[0-9a-f]*3c5\s/);
      expect(out).toMatch(/Breakpoint 2, bad_hvc_hook \(f=0x[0-9a-f]+\) at apps\/hello\/main\.c:\d+/);
      // The undefined-instruction syndrome the guest got for its bad HVC: EC 0, IL set.
      expect(out).toContain('$5 = 0x2000000');
      // `finish` ran to the return into the guest's exception handler, through a temporary breakpoint.
      expect(out).toMatch(/0x[0-9a-f]+ in sync_handler \(f=0x[0-9a-f]+\) at boot\/exception\.c:\d+/);
      expect(out).toContain('Value returned is $6 = true');
      expect(out).toContain('$7 = 1');
      expect(out).toContain('[Inferior 1 (Remote target) exited normally]');
      expect(g.code).toBe(0);
      expect(await emu.exit).toBe(0);
      // The debugger changed nothing the guest printed.
      expect(emu.out().trim().split('\n')).toEqual(plain.lines);
      const ms = performance.now() - t0;
      expect(ms).toBeLessThan(10_000);
    } finally {
      emu.kill();
    }
  });
});
