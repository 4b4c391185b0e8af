import type { TraceBus } from '../trace/bus.ts';
import { Hypercall, hypercallName, DOMID_SELF } from './abi.ts';
import type { XenDomain, XenVcpu } from './domain.ts';
import { Errno, errnoName } from './errno.ts';
import type { HypercallCtx, HypercallHandler, HypercallOutcome } from './hypercall.ts';
import { physicalHandles, type GuestHandles } from './guest-handle.ts';

export type XsmPolicy = 'dummy' | 'silo';

export interface HypervisorOptions {
  trace: TraceBus;
  /** XSM policy: `dummy` is upstream's default, `silo` forbids domU<->domU channels (Debian's default). */
  xsm?: XsmPolicy;
  /** Console output of a domain, already split into text (no trailing newline handling here). */
  consoleWrite?: (domid: number, text: string, via: 'pl011' | 'console_io') => void;
}

export interface HypercallResult {
  /** Value for x0, as a signed number (sign-extended by the caller). */
  value: number;
  outcome: HypercallOutcome;
}

const RETURN: HypercallOutcome = { kind: 'return' };

/**
 * The hypervisor proper: the domain table and the hypercall dispatch. Subsystems
 * (event channels, memory_op, sched_op, console) register their handlers by number.
 */
export class Hypervisor {
  readonly domains = new Map<number, XenDomain>();
  readonly xsm: XsmPolicy;
  readonly trace: TraceBus;
  private readonly handlers = new Map<number, HypercallHandler>();
  readonly consoleWrite: (domid: number, text: string, via: 'pl011' | 'console_io') => void;

  constructor(opts: HypervisorOptions) {
    this.trace = opts.trace;
    this.xsm = opts.xsm ?? 'dummy';
    this.consoleWrite = opts.consoleWrite ?? (() => {});
  }

  register(nr: number, handler: HypercallHandler): void {
    this.handlers.set(nr, handler);
  }

  addDomain(d: XenDomain): void {
    if (this.domains.has(d.domid)) throw new Error(`domain ${d.domid} already exists`);
    this.domains.set(d.domid, d);
  }

  /** Resolves a domid argument as Xen does (DOMID_SELF is the caller). */
  lookup(caller: XenDomain, domid: number): XenDomain | undefined {
    if (domid === DOMID_SELF) return caller;
    const d = this.domains.get(domid);
    return d && !d.dying ? d : undefined;
  }

  /**
   * One hypercall: `nr` from x16, `a` = x0..x4. Unknown numbers answer -ENOSYS,
   * as Xen's hypercall table does for empty slots. `guest` reaches the caller's buffers through
   * its vCPU's translation; without it handles are guest-physical (a guest with its MMU off).
   */
  hypercall(
    domain: XenDomain,
    vcpu: XenVcpu,
    nr: number,
    a: readonly bigint[],
    pc: number | bigint,
    symbols?: { symbolAt(pc: number | bigint): string | undefined },
    guest: GuestHandles = physicalHandles(domain.memory),
  ): HypercallResult {
    const handler = this.handlers.get(nr);
    const ctx: HypercallCtx = { domain, vcpu, pc, guest, args: {}, outcome: RETURN };
    const value = handler ? handler(ctx, a) : -Errno.ENOSYS;
    if (this.trace.on) {
      if (!handler) ctx.args = { x0: a[0], x1: a[1], x2: a[2] };
      this.trace.emit({
        kind: 'hypercall',
        domid: domain.domid,
        vcpu: vcpu.id,
        pc,
        name: hypercallName(nr),
        op: ctx.op,
        args: ctx.args,
        out: ctx.out,
        result: value,
        errno: errnoName(value),
        symbol: symbols?.symbolAt(pc),
      });
    }
    return { value, outcome: ctx.outcome };
  }
}

export { Hypercall };
