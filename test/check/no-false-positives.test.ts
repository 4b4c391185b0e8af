// `run --check` reports nothing on the firmware the project ships: every app under
// firmware/apps, in the domain layout it is meant to run in. Apps that probe Xen's answers to
// misuse on purpose declare the rules they break (XENVM_CHECK_ALLOW, firmware/include/xenvm/check.h);
// check-rules runs here in its correct mode.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine, type MachineConfig } from '../../src/api/index.ts';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { image, type BoardName } from '../helpers/firmware.ts';

/** Apps that run as more than one domain: their images, d1 first (and dom0). */
const LAYOUTS: Record<string, { domUs: string[]; dom0?: string }> = {
  'events-api': { domUs: ['events-api', 'events-api'] },
  'events-api-fifo': { domUs: ['events-api-fifo', 'events-api-fifo'] },
  'gnttab-share': { domUs: ['gnttab-share', 'gnttab-share'] },
  'evtchn-pair': { domUs: ['evtchn-pair', 'evtchn-pair'] },
  'dom-crash': { domUs: ['dom-crash', 'dom-crash'] },
  'dom-poll': { domUs: ['dom-poll', 'dom-poll'] },
  'dom-deadlock': { domUs: ['dom-deadlock', 'dom-deadlock'] },
  'dom-ring': { domUs: ['dom-ring', 'dom-ring', 'dom-ring'] },
  'dom-broker': { domUs: ['dom-broker', 'dom-broker'], dom0: 'dom-broker' },
  'demo-offer': { domUs: ['demo-offer', 'demo-bind'] },
  'bench-pong': { domUs: ['bench-pong', 'bench-ping'] },
  'bench-pong-fifo': { domUs: ['bench-pong-fifo', 'bench-ping-fifo'] },
  'check-race': { domUs: ['check-race', 'check-race'] },
};
/** Apps that need more than one vCPU. */
const CPUS: Record<string, number> = { 'smp-events': 2 };
/**
 * How each run ends when it is not a clean exit 0, so that a guest that stops early (and so
 * uses little of the ABI) cannot pass unnoticed: 3 = cut by the instruction bound below
 * (benchmarks, endless guests), 1 = a domain crashes or faults on purpose, 4 = everyone waits.
 */
const ENDS: Record<string, number> = {
  'bench-compute': 3, 'bench-hypercall': 3, 'bench-pong': 3, 'bench-pong-fifo': 3, 'mem-touch': 3, spin: 3,
  'dom-crash': 1, 'fault-unmapped': 1, 'fault-vector': 1,
  'dom-deadlock': 4, idle: 4,
};
/** Halves of a pair, run with their partner above. */
const PAIRED = new Set(['demo-bind', 'bench-ping', 'bench-ping-fifo']);

const APPS = readdirSync(join(REPO_ROOT, 'firmware', 'apps')).filter((a) => !PAIRED.has(a)).sort();

async function checkApp(board: BoardName, app: string) {
  const l = LAYOUTS[app] ?? { domUs: [app] };
  const config: MachineConfig = {
    domains: l.domUs.map((a) => ({ image: image(board, a), cpus: CPUS[app] })),
    dom0: l.dom0 ? { image: image(board, l.dom0) } : undefined,
    check: true,
    // Benchmarks and endless guests: a bounded slice of them is enough to see their ABI use.
    // (Idle time skipped to a deadline does not count: time-jump and vtimer run to their end.)
    maxInstructions: 10_000_000,
    timeoutMs: 30_000,
  };
  const m = createMachine(config);
  try {
    const r = await m.run();
    return { checks: r.checks ?? [], exitCode: r.exitCode, message: r.message };
  } finally {
    await m.close();
  }
}

describe('run --check on every shipped app', () => {
  for (const board of ['xenvm-gicv2', 'xenvm-gicv3'] as const) {
    it.each(APPS)(`${board}: %s has no report`, async (app) => {
      const { checks, exitCode, message } = await checkApp(board, app);
      expect(checks.map((c) => `d${c.domid} ${c.rule} at ${c.symbol}: ${c.message}`)).toEqual([]);
      expect(exitCode, message).toBe(ENDS[app] ?? 0);
    }, 60_000);
  }
});
