/**
 * `make -C firmware ZEPHYR_BASE=<tree>` (issue 5, upstream compatibility): the events apps
 * are built against <tree>/drivers/xen/events.c and <tree>/include/zephyr/xen/ instead of
 * ours, with our kernel shims around them, and must still print the golden transcript.
 *
 * No Zephyr checkout is available here, so the path is exercised with fake-zephyr/, a tiny
 * stand-in tree of our own with the same paths, include lines and kernel macros. If
 * ZEPHYR_BASE is set in the environment, the last test builds and runs against that real
 * tree as well; otherwise it is skipped (and says so).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emulate, golden, make } from './transcript.ts';

const FAKE = join(import.meta.dirname, 'fake-zephyr');
const out = mkdtempSync(join(tmpdir(), 'xenvm-zephyr-base-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Builds events-api for GICv2 against `tree` into its own build directory. */
function buildAgainst(tree: string, name: string, extra: string[] = []): string {
  const build = join(out, name);
  make([`ZEPHYR_BASE=${tree}`, `BUILD=${build}`, 'BOARDS=xenvm-gicv2', 'APPS=events-api', ...extra]);
  return join(build, 'xenvm-gicv2');
}

describe('ZEPHYR_BASE: the events API from a Zephyr tree', () => {
  it('links the tree\'s drivers/xen/events.c instead of ours, and passes conformance', async () => {
    const dir = buildAgainst(FAKE, 'fake');
    const map = readFileSync(join(dir, 'events-api.map'), 'utf8');
    expect(map).toContain('fake-zephyr/drivers/xen/events.c.o');
    expect(map).not.toContain('lib/zephyr/events.c.o');
    const img = join(dir, 'events-api.img');
    const got = await emulate([img, img], 2, 'dummy');
    expect(got.lines).toEqual(golden('events-api', 2, 'dummy'));
  });

  it('a driver that unmasks without re-raising the pending event stops at "unmask: 0" (deadlock report)', async () => {
    const dir = buildAgainst(FAKE, 'naive', ['EXTRA_CFLAGS=-DFAKE_NAIVE_UNMASK']);
    const img = join(dir, 'events-api.img');
    const got = await emulate([img, img], 2, 'dummy');
    expect(got.exitCode).toBe(4);
    expect(got.message ?? '').toMatch(/deadlock/);
    const d1 = got.lines.filter((l) => l.startsWith('d1: '));
    expect(d1.at(-1)).toBe('d1: unmask: 0');
    expect(d1).toContain('d1: pending_while_masked: yes');
  });

  it('make refuses a ZEPHYR_BASE without drivers/xen/events.c, naming it', () => {
    let err = '';
    try {
      make([`ZEPHYR_BASE=${join(out, 'no-such-tree')}`, `BUILD=${join(out, 'none')}`, 'BOARDS=xenvm-gicv2', 'APPS=events-api']);
    } catch (e) {
      err = String((e as { stderr?: Buffer }).stderr ?? e);
    }
    expect(err).toMatch(/no drivers\/xen\/events\.c there/);
  });

  const real = process.env.ZEPHYR_BASE;
  it.skipIf(!real)(`the real tree in $ZEPHYR_BASE (${real ?? 'not set: skipped'}) passes conformance`, async () => {
    // Newer trees take <xen/public/...> from zephyr-xenlib: ZEPHYR_XEN_INCLUDE names it.
    const xenlib = process.env.ZEPHYR_XEN_INCLUDE;
    const dir = buildAgainst(real!, 'real', xenlib ? [`ZEPHYR_XEN_INCLUDE=${xenlib}`] : []);
    const img = join(dir, 'events-api.img');
    const got = await emulate([img, img], 2, 'dummy');
    expect(got.lines).toEqual(golden('events-api', 2, 'dummy'));
  });
});
