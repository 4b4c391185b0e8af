// The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the tarball
// installed into an empty directory, then the library imported by name, the bin run with npx,
// and docs/api.md's example run as written. Nothing of the TypeScript toolchain is installed there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { FIRMWARE_BUILD } from '../helpers/firmware.ts';

const firmware = join(FIRMWARE_BUILD, 'xenvm-gicv2');
const hello = join(firmware, 'hello.img');
let tmp = '';
let consumer = '';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The engine the checkout uses, for an installed package that has no `.cache/engine` of its own. */
function engineEnv(): NodeJS.ProcessEnv {
  if (process.env.XENVM_EMU_UNICORN) return process.env;
  const dir = join(REPO_ROOT, '.cache', 'engine');
  const lib = existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((f) => /libunicorn\.so(\.\d+)*$/.test(f)) : undefined;
  return lib ? { ...process.env, XENVM_EMU_UNICORN: join(dir, lib) } : process.env;
}

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: consumer, encoding: 'utf8', env: engineEnv(), timeout: 60_000 });

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'xenvm-pkg-'));
  consumer = join(tmp, 'consumer');
  execFileSync(npm, ['pack', '--silent', '--pack-destination', tmp], { cwd: REPO_ROOT, stdio: 'pipe' });
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${tmp}`);
  execFileSync('mkdir', ['-p', consumer]);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // --prefer-offline: koffi, the only runtime dependency, is in npm's cache after `npm ci`.
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(tmp, tarball)], { cwd: consumer, stdio: 'pipe' });
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package, installed into an empty directory', () => {
  it('brings only its runtime dependency, and a bin that does not need tsx', () => {
    const installed = readdirSync(join(consumer, 'node_modules')).filter((n) => !n.startsWith('.'));
    expect(installed).not.toContain('tsx');
    expect(installed).not.toContain('typescript');
    expect(installed).toContain('koffi');
    const bin = readFileSync(join(consumer, 'node_modules', 'xenvm-emu', 'dist', 'cli.js'), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node')).toBe(true);
    expect(bin).not.toMatch(/tsx/);
    expect(existsSync(join(consumer, 'node_modules', 'xenvm-emu', 'dist', 'types', 'api', 'index.d.ts'))).toBe(true);
  });

  it('runs a guest with `npx xenvm-emu run IMAGE`', () => {
    const r = run('npx', ['--no-install', 'xenvm-emu', 'run', hello]);
    expect(r.stderr).toContain('xenvm-emu: d1 shut down (poweroff)');
    expect(r.stdout.split('\n')).toContain('d1: Test result: SUCCESS');
    expect(r.status).toBe(0);
    // The bundle finds its own package.json and engine from node_modules/xenvm-emu/dist.
    const v = run(process.execPath, [join(consumer, 'node_modules', '.bin', 'xenvm-emu'), '--version']);
    expect(v.stdout).toMatch(/^xenvm-emu \d+\.\d+\.\d+\nUnicorn 2\.\d+/);
  });

  it('is imported by name and runs a guest through the API', () => {
    writeFileSync(
      join(consumer, 'api.mjs'),
      `import { createMachine, XenvmError } from 'xenvm-emu';
const m = createMachine({ domains: [{ image: process.argv[2] }] });
const line = await m.waitForLine(/Test result: (\\w+)/, { timeout: 10000 });
const report = await m.run();
await m.close();
let bad;
try { createMachine({ domains: [{ image: process.argv[2] + '.missing' }] }); } catch (e) { bad = e instanceof XenvmError && e.message; }
console.log(JSON.stringify({ result: line.match[1], exitCode: report.exitCode, lines: report.lines.length, bad }));
`,
    );
    const r = run(process.execPath, ['api.mjs', hello]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ result: 'SUCCESS', exitCode: 0, lines: 9, bad: `cannot read image '${hello}.missing': no such file` });
  });

  it("runs docs/api.md's example as written", () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
    const block = /```js\n([\s\S]*?)```/.exec(doc);
    expect(block, 'docs/api.md has a ```js example').not.toBeNull();
    writeFileSync(join(consumer, 'example.test.mjs'), block![1]);
    const r = run(process.execPath, ['example.test.mjs', firmware]);
    expect(r.stdout + r.stderr).toMatch(/# pass 2/);
    expect(r.status).toBe(0);
  });
});
