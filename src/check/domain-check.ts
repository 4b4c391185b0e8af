/**
 * What the protocol checker knows about one domain, and the interface through which the rule
 * modules (hypercall-rules.ts, store-rules.ts, checker.ts's interrupt rules) report.
 */
import type { VTime } from '../machine/vtime.ts';
import type { MachineDomain } from '../machine/domain.ts';
import { StoreLocator, type BlockStore } from './store-locator.ts';
import { RULE_IDS, type CheckRule } from './rules.ts';

/** An ELF symbol `xenvm_check_allow_<rule>` (dashes as underscores) turns a rule off for its domain. */
export const ALLOW_PREFIX = 'xenvm_check_allow_';

/** One fact for a report's context: a hypercall (with result and pc) or an interrupt step. */
export type Noted = { t: VTime; vcpu: number; what: string; detail: string | number | bigint; result?: number; pc?: bigint };

/** The event interrupt as the vGIC has it: idle, acknowledged (active), or priority dropped. */
export type UpcallIrq = 'idle' | 'acked' | 'dropped';

/** How rule code reports and keeps context. */
export interface Reporter {
  report(c: DomainCheck, rule: CheckRule, pc: bigint, port: number | undefined, message: string, key?: string, context?: string[]): void;
  /** Keeps a fact for later reports' context. */
  note(c: DomainCheck, what: string, detail?: string | number | bigint, result?: number, pc?: bigint): void;
  /** The context lines a report made now would carry. */
  context(c: DomainCheck): string[];
}

/** What the checker keeps per vCPU: its vcpu_info, its event interrupt, its store locator. */
export class VcpuCheck {
  readonly locator = new StoreLocator();
  /** The vcpu_info the vCPU registered (VCPUOP_register_vcpu_info), if any. */
  vcpuInfoGpa: number | undefined;
  irq: UpcallIrq = 'idle';
  /** The event interrupt was acknowledged and evtchn_upcall_pending not yet cleared. */
  upcallToClear = false;
  /** The event interrupt was acknowledged since the CPU last took an interrupt. */
  ackedThisEntry = false;

  constructor(readonly index: number) {}
}

/** The FIFO ABI's guest pages as the domain handed them to Xen (guest-physical). */
export interface FifoPages {
  /** Control block of each vCPU (EVTCHNOP_init_control: gfn and offset). */
  readonly controlBlocks: Map<number, number>;
  /** Event array pages in the order added (EVTCHNOP_expand_array): page i holds ports 1024i.. */
  readonly arrayPages: number[];
}

export class DomainCheck {
  readonly allowed = new Set<CheckRule>();
  readonly reported = new Set<string>();
  /** The domain's last few ABI facts, rendered when a report needs them. */
  readonly recent: Noted[] = [];
  /** Failed EVTCHNOP_bind_interdomain by "dom:port", kept until a bind there succeeds. */
  readonly failedBinds = new Map<string, { pc: bigint; port: number | undefined; message: string; context: string[] }>();
  /** Ports this domain closed and has not been given again. */
  readonly closed = new Set<number>();
  sharedInfoGpa: number | undefined;
  /** Per vCPU of the domain. */
  readonly cpus: VcpuCheck[];
  /** The vCPU whose action is being checked now (set at every entry: store, hypercall, interrupt). */
  cur = 0;
  /** Set while the domain uses the FIFO ABI. */
  fifo: FifoPages | undefined;
  /** The stores of each translation block seen storing here, by its start (blockStores). */
  readonly blocks = new Map<bigint, BlockStore[]>();
  /** shared_info as 32-bit words (little-endian host: bit n of word i is port 32i + n). */
  words: Uint32Array | undefined;
  /** Guest ranges [lo, hi) with a store hook. */
  readonly hooked: { lo: number; hi: number }[] = [];

  constructor(readonly d: MachineDomain) {
    this.cpus = d.vcpus.map((_, i) => new VcpuCheck(i));
    for (const s of d.symbols) {
      if (!s.name.startsWith(ALLOW_PREFIX)) continue;
      const rule = s.name.slice(ALLOW_PREFIX.length).replace(/_/g, '-') as CheckRule;
      if (RULE_IDS.includes(rule)) this.allowed.add(rule);
    }
  }
}


/** The vCPU being checked now. */
export function cur(c: DomainCheck): VcpuCheck {
  return c.cpus[c.cur];
}
