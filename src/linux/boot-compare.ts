// Compares two Linux boot transcripts (`dN: text` lines, as `run` and `reference` print them)
// on the lines that say the boot went the same way, not on the ones that legitimately vary.
// Pure: no files, no processes.
//
// What varies between two good boots of the same kernel (seen on the real Xen 4.17, GICv2
// and GICv3, repeated runs; see test/golden/README.md):
//   - printk timestamps "[   12.345678] " (virtual time: QEMU's -icount clock, our counter)
//   - figures measured at run time: "deferred pages initialised in 220ms", audit(1.376:1)
//   - the order of lines printed from asynchronous work ("Trying to unpack rootfs image as
//     initramfs..." runs beside the remaining initcalls)
//   - lines that only one GIC version prints (GICv3 SPIs, redistributors, the system
//     register interface), which is why there is one golden file per GIC
//   - the kernel's release and build string, when Debian has moved the metapackage on
// What must not vary is below (MATTERS): the CPU the kernel found, the PSCI and SMCCC
// versions, the GIC, the architected timer and its frequency, the console, the command line,
// the hand-over to /init and every line /init printed, and the power-off.

/** One rule: which lines it selects, and a name for reports. */
interface Rule {
  name: string;
  re: RegExp;
}

/** Lines that must be present and equal, in this order, in both transcripts. */
export const MATTERS: Rule[] = [
  { name: 'cpu', re: /^Booting Linux on physical CPU / },
  { name: 'banner', re: /^Linux version / },
  { name: 'psci', re: /^psci: / },
  { name: 'gic', re: /^(GICv[23]: |GIC: |Root IRQ handler: |CPU features: detected: GIC system register)/ },
  { name: 'timer', re: /^arch_timer: / },
  // How many CPUs came up (PSCI CPU_ON of the secondaries): "smp: Brought up 1 node, 2 CPUs".
  { name: 'smp', re: /^(smp: Brought up |SMP: Total of |CPU\d+: Booted secondary processor )/ },
  { name: 'console', re: /^(earlycon: |printk: (boot)?console \[|Kernel command line: |[0-9a-f]+\.(sbsa-uart|pl011): ttyAMA\d+ at MMIO )/ },
  { name: 'init', re: /^(Run \/init as init process|Freeing unused kernel memory: |init: )/ },
  { name: 'poweroff', re: /^reboot: / },
];

/** Lines that mean the kernel is unhappy, whatever the golden says. */
export const PROBLEM = /(WARNING|Oops|BUG:|Call trace:|Kernel panic|Unable to handle kernel|Internal error:|Unhandled fault)/;

const TIMESTAMP = /^\[\s*\d+\.\d+\] ?/;
const DOMAIN_PREFIX = /^d\d+: /;

/** Takes "dN: [   1.234] text" to "text". */
export function kernelText(line: string): string {
  return line.replace(DOMAIN_PREFIX, '').replace(TIMESTAMP, '');
}

/**
 * Replaces what legitimately differs inside a line that matters: the kernel release
 * ("6.1.0-57-cloud-arm64") and build string ("#1 SMP Debian 6.1.192-3 (2026-11-26)").
 */
export function normaliseLine(text: string): string {
  return text
    .replace(/\b\d+\.\d+\.\d+-\d+-[a-z0-9]+(-[a-z0-9]+)*\b/g, '<release>')
    .replace(/#\d+ SMP\b.*$/, '<build>');
}

function splitTranscript(transcript: string | string[]): string[] {
  const lines = typeof transcript === 'string' ? transcript.split('\n') : transcript;
  return lines.filter((l) => l.trim() !== '');
}

/**
 * The lines that matter, normalised, in order. A line the kernel printed twice in a row
 * (it does so for "printk: console [ttyAMA0] enabled" while the boot console hands over)
 * stays twice: the emulator must do the same. With `o.xen`, the Xen drivers' lines too (XEN_MATTERS).
 */
export function linuxLinesThatMatter(transcript: string | string[], o: CompareOptions = {}): string[] {
  const rules = o.xen ? [...MATTERS, ...XEN_MATTERS] : MATTERS;
  const out: string[] = [];
  for (const line of splitTranscript(transcript)) {
    const text = kernelText(line);
    if (rules.some((r) => r.re.test(text))) out.push(normaliseLine(text));
  }
  return out;
}

/**
 * An enhanced domU (issue 15) adds Linux's Xen support: every line from its Xen drivers
 * ("Xen 4.17 support found", "xen:grant_table: ...", "Grant table initialized", "xen:events:
 * Using ... ABI", "Xen: initializing cpu0", "xen:balloon: ...", xenbus) must match as well.
 */
export const XEN_MATTERS: Rule[] = [{ name: 'xen', re: /^([Xx]en[: ]|xen[-_a-z]*: |Grant table |xenbus)/ }];

export interface CompareOptions {
  /** Also compare the Xen drivers' lines (XEN_MATTERS). */
  xen?: boolean;
}

/** Every line that reports a kernel problem (WARNING, Oops, BUG:, Call trace:, ...). */
export function linuxProblems(transcript: string | string[]): string[] {
  return splitTranscript(transcript).map(kernelText).filter((t) => PROBLEM.test(t));
}

export type LinuxBootComparison =
  | { ok: true; compared: number }
  | { ok: false; compared: number; missing: string[]; unexpected: string[]; problems: string[]; firstDifference?: { index: number; expected?: string; actual?: string } };

/**
 * Equal when the lines that matter are equal in order and `actual` reports no problem.
 * On a difference: the first position where they part, the expected lines `actual` lacks
 * and the lines it has that were not expected (as multisets, so reordering shows as both).
 */
export function compareLinuxBoot(expected: string | string[], actual: string | string[], opts: CompareOptions = {}): LinuxBootComparison {
  const want = linuxLinesThatMatter(expected, opts);
  const got = linuxLinesThatMatter(actual, opts);
  const problems = linuxProblems(actual);
  let index = 0;
  while (index < want.length && index < got.length && want[index] === got[index]) index++;
  const same = index === want.length && index === got.length;
  if (same && problems.length === 0) return { ok: true, compared: want.length };
  const counts = new Map<string, number>();
  for (const l of got) counts.set(l, (counts.get(l) ?? 0) + 1);
  const missing: string[] = [];
  for (const l of want) {
    const n = counts.get(l) ?? 0;
    if (n > 0) counts.set(l, n - 1);
    else missing.push(l);
  }
  const unexpected = [...counts].flatMap(([l, n]) => Array.from({ length: n }, () => l));
  return {
    ok: false,
    compared: want.length,
    missing,
    unexpected,
    problems,
    firstDifference: same ? undefined : { index, expected: want[index], actual: got[index] },
  };
}

/** A few lines for a test failure message or the bench. */
export function describeLinuxBootComparison(c: LinuxBootComparison): string {
  if (c.ok) return `equal on ${c.compared} lines that matter`;
  const out: string[] = [];
  if (c.firstDifference) {
    out.push(`first difference at line ${c.firstDifference.index} that matters:`);
    out.push(`  expected: ${c.firstDifference.expected ?? '(end)'}`);
    out.push(`  actual:   ${c.firstDifference.actual ?? '(end)'}`);
  }
  for (const l of c.missing) out.push(`missing:    ${l}`);
  for (const l of c.unexpected) out.push(`unexpected: ${l}`);
  for (const l of c.problems) out.push(`problem:    ${l}`);
  return out.join('\n');
}
