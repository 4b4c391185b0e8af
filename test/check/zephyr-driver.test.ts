// The lost-event bug of a Zephyr-style driver whose unmask_event_channel clears the mask bit
// itself: events-api built against test/firmware-events/fake-zephyr with FAKE_NAIVE_UNMASK
// (the ZEPHYR_BASE build path) deadlocks the same under the real Xen and the emulator; --check
// names the instruction in unmask_event_channel that lost the event. The same tree without the
// bug, and our own driver, get no report.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMachine } from '../../src/api/index.ts';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { image } from '../helpers/firmware.ts';

const FAKE = join(REPO_ROOT, 'test', 'firmware-events', 'fake-zephyr');
const out = mkdtempSync(join(tmpdir(), 'xenvm-check-zephyr-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function build(name: string, extra: string[] = []): string {
  const dir = join(out, name);
  execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'firmware'), `ZEPHYR_BASE=${FAKE}`, `BUILD=${dir}`, 'BOARDS=xenvm-gicv2', 'APPS=events-api', ...extra], { stdio: 'pipe' });
  return join(dir, 'xenvm-gicv2', 'events-api.img');
}

async function check(img: string) {
  const m = createMachine({ domains: [{ image: img }, { image: img }], check: true, timeoutMs: 30_000 });
  try {
    return await m.run();
  } finally {
    await m.close();
  }
}

describe('--check on the events-api app with a Zephyr-style driver', () => {
  it('a driver that unmasks locally: local-unmask at unmask_event_channel, in both domains', async () => {
    const r = await check(build('naive', ['EXTRA_CFLAGS=-DFAKE_NAIVE_UNMASK']));
    expect(r.exitCode).toBe(4); // the deadlock the lost event causes, as under the real Xen
    const found = (r.checks ?? []).map((c) => `d${c.domid} ${c.rule} port=${c.port} ${c.symbol?.replace(/\+.*/, '')}`);
    expect(found).toEqual(['d1 local-unmask port=1 unmask_event_channel', 'd2 local-unmask port=1 unmask_event_channel']);
    // At the driver's own line (DWARF: the call of the inlined bit helper), not inside the helper.
    const src = readFileSync(join(FAKE, 'drivers', 'xen', 'events.c'), 'utf8').split('\n');
    const line = src.findIndex((l) => /sys_bitfield_clear_bit\(.*evtchn_mask/.test(l)) + 1;
    expect(line).toBeGreaterThan(0);
    for (const c of r.checks ?? []) expect(c.source).toBe(`${FAKE}/drivers/xen/events.c:${line}`);
  }, 60_000);

  it('the same tree with EVTCHNOP_unmask, and our own driver: no report', async () => {
    expect((await check(build('fixed'))).checks).toEqual([]);
    const ours = image('xenvm-gicv2', 'events-api');
    const r = await check(ours);
    expect(r.checks).toEqual([]);
    expect(r.exitCode).toBe(0);
  }, 60_000);
});
