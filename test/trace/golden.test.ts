// A golden text trace of the two-domain demo. It is the EMULATOR's own output, not the real
// Xen's: counted runs are deterministic, so any change to it is a change in what the machine
// does or emits, and shows up here as a readable diff. After an intended change, regenerate:
//   UPDATE_TRACE_GOLDEN=1 npx vitest run test/trace/golden.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/machine/run.ts';
import { formatEvent } from '../../src/trace/text.ts';
import { runDemo } from './helpers.ts';

const GOLDEN = join(REPO_ROOT, 'test', 'golden', 'trace-demo.gicv2.emulator.txt');

describe('golden text trace (emulator-made)', () => {
  it('demo-offer + demo-bind on xenvm-gicv2 renders exactly as recorded', async () => {
    const { events, outcome } = await runDemo();
    expect(outcome.exitCode).toBe(0);
    const text = events.map(formatEvent).join('\n') + '\n';
    if (process.env.UPDATE_TRACE_GOLDEN) writeFileSync(GOLDEN, text);
    expect(existsSync(GOLDEN), `${GOLDEN} missing: run with UPDATE_TRACE_GOLDEN=1`).toBe(true);
    expect(text.split('\n')).toEqual(readFileSync(GOLDEN, 'utf8').split('\n'));
  });
});
