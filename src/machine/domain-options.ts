/**
 * Per-domain options (issue 6): what one domain gets that differs from the run's defaults —
 * its RAM, its name, its board (GIC version or a devicetree of its own), the prefix of its
 * console lines, its initrd, whether it is "enhanced" (Xen's xen,enhanced) and its kernel
 * command line. The command line spells one domain's options as
 *
 *     --domain d2,memory=32,name=right,gic=3,prefix=R:
 *     --domain d0,dtb=boards/my-dom0.dtb
 *     --domain d1,enhanced=yes
 *     --domain d1,initrd=initramfs.cpio.gz,cmdline=console=ttyAMA0 earlycon=pl011,0x22000000
 *     --domain d1,cpus=2
 *
 * (repeatable; later keys win). A kernel command line has commas of its own, so `cmdline=`
 * takes the whole rest of the value and must come last. Parsing only: `runImages` applies
 * the result per domain.
 */
import type { Result } from './result.ts';
import { gicMaxVcpus } from '../gic/index.ts';

export interface DomainOverrides {
  /** RAM in MiB (instead of --memory / the devicetree's). */
  memoryMiB?: number;
  /** Name in traces and reports (instead of the image's file name). */
  name?: string;
  /** GIC version of this domain's board. */
  gic?: 2 | 3;
  /** Devicetree blob for this domain (instead of --dtb / board.dtb beside the image). */
  dtb?: string;
  /** Text before each console line (instead of "dN: "). */
  consolePrefix?: string;
  /** Initial ramdisk file (instead of --initrd). */
  initrd?: string;
  /** Kernel command line, /chosen/bootargs (instead of --cmdline); '' = none. */
  cmdline?: string;
  /**
   * Xen's `xen,enhanced` dom0less option (`enhanced=yes|no`, instead of --enhanced): the
   * generated devicetree gets the hypervisor node and Xen's side gets the xenstore parameters.
   */
  enhanced?: boolean;
  /** Number of vCPUs (instead of --cpus), as the dom0less `cpus` property. */
  cpus?: number;
}

/**
 * Largest guest RAM, in MiB: Xen's first guest RAM bank, GUEST_RAM0_SIZE = 3 GiB at
 * GUEST_RAM0_BASE 0x40000000 (xen/include/public/arch-arm.h). Xen puts anything beyond it in a
 * second bank at GUEST_RAM1_BASE 0x2_0000_0000; the boards here describe one bank only.
 * The host pays only for the pages a guest touches (mem/guest-memory.ts).
 */
export const MAX_MEMORY_MIB = 3072;

export const DOMAIN_OPTION_HELP =
  'dN,key=value,... with keys memory (MiB), name, gic (2|3), cpus (vCPUs), dtb (file), prefix (console line prefix), enhanced (yes|no), initrd (file), cmdline (kernel command line: last, takes the rest)';

/** Most vCPUs a domain may have here: the most any vGIC serves (GICv3's; GICv2 allows 8). */
export const MAX_CPUS = gicMaxVcpus(3);

/** Highest domid a dom0less domU gets here (DOMID_FIRST_RESERVED is 0x7ff0). */
const MAX_DOMID = 0x7fef;

/** Parses one `--domain` value. */
export function parseDomainOption(text: string): Result<{ domid: number; overrides: DomainOverrides }> {
  const [head, ...pairs] = text.split(',');
  const m = /^d(\d+)$/.exec(head ?? '');
  if (!m || Number(m[1]) > MAX_DOMID) return { ok: false, error: `--domain: '${head}' is not a domain (d0, d1, ...); ${DOMAIN_OPTION_HELP}` };
  const domid = Number(m[1]);
  const overrides: DomainOverrides = {};
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    const eq = pair.indexOf('=');
    if (eq <= 0) return { ok: false, error: `--domain d${domid}: '${pair}' is not key=value; ${DOMAIN_OPTION_HELP}` };
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    switch (key) {
      case 'memory': {
        const n = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!(n >= 1 && n <= MAX_MEMORY_MIB)) return { ok: false, error: `--domain d${domid}: memory takes a whole number of MiB from 1 to ${MAX_MEMORY_MIB}, not '${value}'` };
        overrides.memoryMiB = n;
        break;
      }
      case 'name':
        if (value === '') return { ok: false, error: `--domain d${domid}: name is empty` };
        overrides.name = value;
        break;
      case 'cpus': {
        const n = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!(n >= 1 && n <= MAX_CPUS)) return { ok: false, error: `--domain d${domid}: cpus takes a whole number from 1 to ${MAX_CPUS}, not '${value}'` };
        overrides.cpus = n;
        break;
      }
      case 'gic':
        if (value !== '2' && value !== '3') return { ok: false, error: `--domain d${domid}: gic takes 2 or 3, not '${value}'` };
        overrides.gic = value === '2' ? 2 : 3;
        break;
      case 'dtb':
        if (value === '') return { ok: false, error: `--domain d${domid}: dtb is empty` };
        overrides.dtb = value;
        break;
      case 'prefix':
        // Empty is allowed: bare console lines for a single-domain run.
        overrides.consolePrefix = value;
        break;
      case 'initrd':
        if (value === '') return { ok: false, error: `--domain d${domid}: initrd is empty` };
        overrides.initrd = value;
        break;
      case 'enhanced':
        if (value !== 'yes' && value !== 'no') return { ok: false, error: `--domain d${domid}: enhanced takes yes or no, not '${value}'` };
        overrides.enhanced = value === 'yes';
        break;
      case 'cmdline':
        // The rest of the value, commas included ("earlycon=pl011,0x22000000").
        overrides.cmdline = [value, ...pairs.slice(i + 1)].join(',');
        i = pairs.length;
        break;
      default:
        return { ok: false, error: `--domain d${domid}: unknown key '${key}'; ${DOMAIN_OPTION_HELP}` };
    }
  }
  return { ok: true, value: { domid, overrides } };
}

/**
 * Every `--domain` value of a run, merged per domid (later keys win), checked against the
 * domains the run has (`domids`: 0 with --dom0, then 1..N).
 */
export function collectDomainOptions(values: readonly string[], domids: readonly number[]): Result<Map<number, DomainOverrides>> {
  const out = new Map<number, DomainOverrides>();
  for (const v of values) {
    const p = parseDomainOption(v);
    if (!p.ok) return p;
    const { domid, overrides } = p.value;
    if (!domids.includes(domid)) {
      const have = domids.length ? domids.map((d) => `d${d}`).join(', ') : 'none';
      return { ok: false, error: `--domain d${domid}: no such domain in this run (domains: ${have})` };
    }
    out.set(domid, { ...out.get(domid), ...overrides });
  }
  return { ok: true, value: out };
}

/** The console prefix of a domain: its override, else "dN: ". */
export function consolePrefix(domid: number, o: DomainOverrides | undefined): string {
  return o?.consolePrefix ?? `d${domid}: `;
}
