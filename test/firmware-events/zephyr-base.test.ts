/**
 * `make -C firmware ZEPHYR_BASE=<tree>` (issues 5 and 16, upstream compatibility): the apps
 * that use the Zephyr events API are built against <tree>/drivers/xen/events.c and
 * <tree>/include/zephyr/xen/ instead of ours, with our kernel shims around them.
 *
 * Zephyr's API changed over time (notify_evtchn returning int or void, clear_event_channel
 * public or static, mask/unmask declared or not); scripts/zephyr-events-probe.sh finds out
 * which at build time and compat/zephyr-events-compat.h adapts the apps. Where notify_evtchn
 * returns void an app prints "void" in place of Xen's answer, so a transcript is compared with
 * the golden one line by line, a "void" standing for the number Xen gave there.
 *
 * Upstream code never enters this repository: fake-zephyr/ is a tiny stand-in tree of our own
 * (both API shapes, -DFAKE_VOID_API for the void one). Real trees are tested when ZEPHYR_BASE
 * names one or more (separated by ':'); otherwise those tests are skipped and say so.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMachine } from '../../src/api/index.ts';
import { emulate, FIRMWARE, golden, make } from './transcript.ts';

const FAKE = join(import.meta.dirname, 'fake-zephyr');
const out = mkdtempSync(join(tmpdir(), 'xenvm-zephyr-base-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const appSources = (app: string) =>
  readdirSync(join(FIRMWARE, 'apps', app))
    .filter((f) => f.endsWith('.c'))
    .map((f) => readFileSync(join(FIRMWARE, 'apps', app, f), 'utf8'));
/**
 * The apps the Makefile links the events library into (their C includes zephyr/xen/events.h),
 * less those that select the FIFO ABI: upstream's driver is 2-level only, so the Makefile
 * builds them with the project's own library and leaves them out of a ZEPHYR_BASE build.
 */
const EVENTS_APPS = readdirSync(join(FIRMWARE, 'apps')).filter((app) => {
  const src = appSources(app);
  return src.some((c) => c.includes('zephyr/xen/events.h')) && !src.some((c) => /^XEN_EVENTS_USE_FIFO\(\)/m.test(c));
});

interface Built {
  dir: string;
  /** The probe's answers, from build/.../zephyr-api/zephyr-events-api.h. */
  api: Map<string, number>;
}

/** Builds `apps` for GICv2 against `tree` into its own build directory. */
function buildAgainst(tree: string, name: string, apps: string[], extra: string[] = []): Built {
  const build = join(out, name);
  make([`ZEPHYR_BASE=${tree}`, `BUILD=${build}`, 'BOARDS=xenvm-gicv2', `APPS=${apps.join(' ')}`, ...extra]);
  const header = readFileSync(join(build, 'zephyr-api', 'zephyr-events-api.h'), 'utf8');
  const api = new Map([...header.matchAll(/^#define ZEPHYR_EVENTS_(\w+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  return { dir: join(build, 'xenvm-gicv2'), api };
}

/**
 * `got` equals `want` line by line, except that a "void" in `got` (a result the API did not
 * return) stands for the integer in the same place of `want`. Returns the first difference.
 */
function diffModuloVoid(got: string[], want: string[]): string | undefined {
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    const g = got[i] ?? '<missing>';
    const w = want[i] ?? '<missing>';
    const pattern = new RegExp(`^${g.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\bvoid\b/g, '-?\\d+')}$`);
    if (!pattern.test(w)) return `line ${i + 1}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`;
  }
  return undefined;
}

/** Each domain's lines of `lines` ("dN: ..."), in order. */
const domainLines = (lines: string[], d: number): string[] => lines.filter((l) => l.startsWith(`d${d}: `));

describe('ZEPHYR_BASE: the events API from a Zephyr tree (stand-in tree)', () => {
  it('links the tree\'s drivers/xen/events.c instead of ours, and passes conformance', async () => {
    const { dir, api } = buildAgainst(FAKE, 'fake', ['events-api']);
    const map = readFileSync(join(dir, 'events-api.map'), 'utf8');
    expect(map).toContain('fake-zephyr/drivers/xen/events.c.o');
    expect(map).not.toContain('lib/zephyr/events.c.o');
    expect(api.get('NOTIFY_RETURNS_INT')).toBe(1);
    expect(api.get('DECLARES_clear_event_channel')).toBe(1);
    const img = join(dir, 'events-api.img');
    const got = await emulate([img, img], 2, 'dummy');
    expect(got.lines).toEqual(golden('events-api', 2, 'dummy'));
  });

  it('the other API shape (void notify_evtchn, static clear, undeclared mask/unmask): detected, every events app builds, conformance modulo "void"', async () => {
    const { dir, api } = buildAgainst(FAKE, 'fake-void', EVENTS_APPS, ['EXTRA_CFLAGS=-DFAKE_VOID_API']);
    // What the probe found out, from the compiler and nm rather than from any version string.
    expect(api.get('NOTIFY_RETURNS_INT')).toBe(0);
    expect(api.get('DECLARES_clear_event_channel')).toBe(0);
    expect(api.get('DEFINES_clear_event_channel')).toBe(0);
    expect(api.get('DECLARES_mask_event_channel')).toBe(0);
    expect(api.get('DEFINES_mask_event_channel')).toBe(1);
    expect(api.get('DECLARES_alloc_unbound_event_channel_dom0')).toBe(0);
    expect(api.get('DEFINES_alloc_unbound_event_channel_dom0')).toBe(1);
    for (const app of EVENTS_APPS) expect(readdirSync(dir)).toContain(`${app}.img`);

    const img = join(dir, 'events-api.img');
    const got = await emulate([img, img], 2, 'dummy');
    expect(got.lines.filter((l) => l.endsWith(': void')).length).toBeGreaterThan(20);
    expect(diffModuloVoid(got.lines, golden('events-api', 2, 'dummy'))).toBeUndefined();
    const demo = await emulate([join(dir, 'demo-offer.img'), join(dir, 'demo-bind.img')], 2, 'dummy');
    expect(diffModuloVoid(demo.lines, golden('demo', 2, 'dummy'))).toBeUndefined();
  });

  it('a driver that unmasks without re-raising the pending event stops at "unmask: 0" (deadlock report)', async () => {
    const { dir } = buildAgainst(FAKE, 'naive', ['events-api'], ['EXTRA_CFLAGS=-DFAKE_NAIVE_UNMASK']);
    const img = join(dir, 'events-api.img');
    const got = await emulate([img, img], 2, 'dummy');
    expect(got.exitCode).toBe(4);
    expect(got.message ?? '').toMatch(/deadlock/);
    const d1 = domainLines(got.lines, 1);
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
});

/*
 * Real Zephyr trees. Every upstream generation so far (checked: trees whose notify_evtchn
 * returns void and ones where it returns int) has unmask_event_channel clear the mask bit in
 * shared_info itself instead of calling EVTCHNOP_unmask, so an event that arrived while masked
 * is never re-raised (xen/include/public/event_channel.h, EVTCHNOP_unmask). events-api masks
 * port 1, has an event posted, unmasks and waits for the callback: each domain waits forever
 * with port 1 pending, under the real Xen as here. The test expects exactly that.
 */
const trees = (process.env.ZEPHYR_BASE ?? '').split(delimiter).filter((t) => t !== '');
const xenInclude = process.env.ZEPHYR_XEN_INCLUDE;
describe(`ZEPHYR_BASE: real Zephyr trees (${trees.length > 0 ? trees.join(', ') : 'none'})`, () => {
  if (trees.length === 0) it.skip('ZEPHYR_BASE is not set: name one or more Zephyr trees (separated by ":") to run these', () => {});
  trees.forEach((tree, i) => {
    const extra = xenInclude ? [`ZEPHYR_XEN_INCLUDE=${xenInclude}`] : [];

    it(`${tree}: every events app builds; events-api stops at "unmask: 0" with port 1 pending (deadlock), as the driver unmasks locally`, async () => {
      const { dir, api } = buildAgainst(tree, `real-${i}`, EVENTS_APPS, extra);
      for (const app of EVENTS_APPS) expect(readdirSync(dir)).toContain(`${app}.img`);
      expect(api.get('DEFINES_notify_evtchn')).toBe(1);

      const img = join(dir, 'events-api.img');
      const got = await emulate([img, img], 2, 'dummy');
      expect(got.exitCode).toBe(4);
      expect(got.message ?? '').toMatch(/deadlock/);
      const want = golden('events-api', 2, 'dummy');
      for (const d of [1, 2]) {
        const lines = domainLines(got.lines, d);
        expect(lines.at(-1)).toBe(`d${d}: unmask: 0`);
        expect(lines).toContain(`d${d}: pending_while_masked: yes`);
        // Up to there, what the real Xen 4.17 run with our driver printed (modulo "void").
        expect(diffModuloVoid(lines, domainLines(want, d).slice(0, lines.length))).toBeUndefined();
      }
      // The deadlock report names port 1 of each domain as pending.
      expect(got.message ?? '').toMatch(/d1:[^]*1=interdomain\(d1:2\) pending[^]*d2:[^]*1=interdomain\(d2:2\) pending/);
    });

    it(`${tree}: run --check flags the driver's local unmask (rule=local-unmask) in unmask_event_channel, at its source line`, async () => {
      const { dir } = buildAgainst(tree, `real-check-${i}`, ['events-api'], extra);
      const img = join(dir, 'events-api.img');
      // The line of unmask_event_channel that touches evtchn_mask (the local clear), read from the tree.
      const src = readFileSync(join(tree, 'drivers', 'xen', 'events.c'), 'utf8').split('\n');
      const fn = src.findIndex((l) => /^\S.*\bunmask_event_channel\(/.test(l));
      const clear = src.findIndex((l, n) => n > fn && /evtchn_mask/.test(l));
      expect(fn).toBeGreaterThanOrEqual(0);
      const m = createMachine({ domains: [{ image: img }, { image: img }], check: true, timeoutMs: 20_000 });
      try {
        const r = await m.run();
        const checks = r.checks ?? [];
        expect(checks.map((c) => `d${c.domid} ${c.rule} port=${c.port}`)).toEqual(['d1 local-unmask port=1', 'd2 local-unmask port=1']);
        for (const c of checks) {
          expect(c.symbol).toMatch(/^unmask_event_channel\+/);
          expect(c.source).toBe(`${tree.replace(/\/$/, '')}/drivers/xen/events.c:${clear + 1}`);
        }
      } finally {
        await m.close();
      }
    });

    it(`${tree}: the demo ping-pong (no mask/unmask) matches the real Xen transcript`, async () => {
      const { dir } = buildAgainst(tree, `real-demo-${i}`, ['demo-offer', 'demo-bind'], extra);
      const got = await emulate([join(dir, 'demo-offer.img'), join(dir, 'demo-bind.img')], 2, 'dummy');
      expect(got.exitCode).toBe(0);
      expect(diffModuloVoid(got.lines, golden('demo', 2, 'dummy'))).toBeUndefined();
    });
  });
});
