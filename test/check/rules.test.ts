// Each protocol-checker rule against firmware/apps/check-rules, which breaks exactly that rule
// when booted with `rule=NAME` on its command line and uses the ABI correctly without one.
import { describe, expect, it } from 'vitest';
import { createMachine } from '../../src/api/index.ts';
import type { CheckReport } from '../../src/check/checker.ts';
import { RULE_IDS, type CheckRule } from '../../src/check/rules.ts';
import { image, type BoardName } from '../helpers/firmware.ts';

/** The fifo-* rules are broken by check-rules-fifo (the FIFO ABI), the others by check-rules. */
const appOf = (rule: CheckRule | undefined) => (rule?.startsWith('fifo-') ? 'check-rules-fifo' : 'check-rules');

async function runRule(board: BoardName, rule: CheckRule | undefined, opts: { app?: string; cpus?: number; cmdline?: string } = {}) {
  const m = createMachine({
    domains: [{ image: image(board, opts.app ?? appOf(rule)), cpus: opts.cpus }],
    cmdline: opts.cmdline ?? (rule ? `rule=${rule}` : undefined),
    check: true,
    timeoutMs: 20_000,
  });
  try {
    const r = await m.run();
    return { exitCode: r.exitCode, checks: r.checks ?? [], lines: r.lines };
  } finally {
    await m.close();
  }
}

/** Where each violation happens in check-rules (the function holding the offending instruction). */
const WHERE: Record<CheckRule, RegExp> = {
  'local-unmask': /^(main|break_rule)\+/,
  'plain-store': /^(main|break_rule)\+/,
  'selector-xchg': /^upcall_isr\+/,
  'guest-set': /^(main|break_rule)\+/,
  'upcall-order': /^upcall_isr\+/,
  'upcall-eoi': /^main\+/,
  'eoi-twice': /^gic_eoi\+/,
  'handler-pending': /./,
  'use-after-close': /^main\+/,
  'notify-unowned': /^main\+/,
  'bind-no-offer': /^main\+/,
  'fifo-plain-store': /^main\+/,
  'fifo-guest-set': /^main\+/,
  'fifo-local-unmask': /^main\+/,
  'fifo-head': /^main\+/,
  // Where the handler returned to: the interrupted code.
  'fifo-ready': /./,
};
const PORT: Partial<Record<CheckRule, number>> = { 'local-unmask': 2, 'plain-store': 2, 'guest-set': 5, 'handler-pending': 2, 'use-after-close': 1, 'notify-unowned': 7, 'bind-no-offer': 9,
  'fifo-plain-store': 2, 'fifo-guest-set': 5, 'fifo-local-unmask': 2, 'fifo-head': 2, 'fifo-ready': 2 };

describe('run --check on firmware/apps/check-rules', () => {
  it('correct use of the ABI: no report, exit 0', async () => {
    const r = await runRule('xenvm-gicv2', undefined);
    expect(r.checks).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.lines).toContain('d1: mask_unmask: ok');
  });

  it('correct use of the FIFO ABI: no report, exit 0', async () => {
    const r = await runRule('xenvm-gicv2', undefined, { app: 'check-rules-fifo' });
    expect(r.checks).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.lines).toContain('d1: mask_unmask: ok');
  });

  it.each(RULE_IDS)('%s: one report of that rule, at the offending instruction, exit 1', async (rule) => {
    const r = await runRule('xenvm-gicv2', rule);
    const mine = r.checks.filter((c: CheckReport) => c.rule === rule);
    expect(r.checks.map((c) => c.rule)).toEqual([rule]);
    expect(mine[0].domid).toBe(1);
    expect(mine[0].symbol).toMatch(WHERE[rule]);
    if (PORT[rule] !== undefined) expect(mine[0].port).toBe(PORT[rule]);
    expect(mine[0].context.length).toBeGreaterThan(0);
    // The source line from the ELF's DWARF line table, in the app (or the GIC driver for eoi-twice).
    if (WHERE[rule].source !== '.') expect(mine[0].source).toMatch(/^(apps\/check-rules(-fifo)?\/main\.c|drivers\/gic\/\S+\.c):\d+$/);
    expect(r.exitCode).toBe(1);
  });

  // upcall-eoi: vCPU 1 registers its own vcpu_info, has port 2 bound to it, takes the upcall on
  // its own GIC interface and never EOIs it (its interrupt state is its own, not vCPU 0's).
  it.each(['plain-store', 'local-unmask', 'guest-set', 'upcall-eoi'] as CheckRule[])('two vCPUs, %s broken on vCPU 1: the report names v1', async (rule) => {
    for (const board of ['xenvm-gicv2', 'xenvm-gicv3'] as const) {
      const r = await runRule(board, rule, { cpus: 2, cmdline: `rule=${rule} cpu=1` });
      expect(r.checks.map((c) => `${c.rule} v${c.vcpu}`)).toEqual([`${rule} v1`]);
      // vCPU 1's own code (for upcall-eoi: its poll, found through vCPU 1's link register).
      expect(r.checks[0].symbol).toMatch(/^(break_rule|check_secondary_main)\+/);
      expect(r.checks[0].source).toMatch(/^apps\/check-rules\/main\.c:\d+$/);
      expect(r.exitCode).toBe(1);
    }
  });

  it('two vCPUs, correct use on vCPU 0 with vCPU 1 down: no report', async () => {
    const r = await runRule('xenvm-gicv2', undefined, { cpus: 2 });
    expect(r.checks).toEqual([]);
    expect(r.exitCode).toBe(0);
  });

  it.each(['local-unmask', 'eoi-twice', 'upcall-eoi', 'selector-xchg', 'fifo-local-unmask', 'fifo-ready'] as CheckRule[])('GICv3 (ICC_* system registers): %s', async (rule) => {
    const r = await runRule('xenvm-gicv3', rule);
    expect(r.checks.map((c) => c.rule)).toEqual([rule]);
  });
});

describe('report order', () => {
  it('a report made inside a run comes after the lines the guest printed before breaking the rule', async () => {
    // check-rules prints "loopback: ok" and then breaks the rule in the same run; the vpl011's
    // native queue must be drained before the report goes out.
    const log: string[] = [];
    const m = createMachine({
      domains: [{ image: image('xenvm-gicv2', 'check-rules') }],
      cmdline: 'rule=plain-store',
      check: (r) => log.push(`report ${r.rule}`),
      onLine: (l) => log.push(l.text),
      timeoutMs: 20_000,
    });
    try {
      await m.run();
    } finally {
      await m.close();
    }
    expect(log).toEqual(['check-rules: plain-store', 'loopback: ok', 'report plain-store', 'Test result: SUCCESS']);
  });
});
