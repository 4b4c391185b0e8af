import { countingVcpu, type FuzzVcpu } from '../../src/fuzz/world.ts';
import { GuestMemory } from '../../src/mem/guest-memory.ts';
import { TraceBus } from '../../src/trace/bus.ts';
import type { TraceEvent } from '../../src/trace/events.ts';
import type { XenDomain } from '../../src/xen/domain.ts';
import { Hypervisor, type XsmPolicy } from '../../src/xen/hypervisor.ts';
import { installXen, type XenServices } from '../../src/xen/ops/install.ts';

export const RAM_BASE = 0x40000000;
export const RAM_SIZE = 1 << 20;
/** A scratch area for hypercall argument structs, well inside RAM. */
export const ARG = RAM_BASE + 0x1000;
/** Where tests map shared_info. */
export const SHINFO = RAM_BASE + 0x80000;

/** A domain whose vCPUs count their upcalls. */
export type TestDomain = Omit<XenDomain, 'vcpus'> & { readonly vcpus: FuzzVcpu[] };

export function makeDomain(domid: number, opts: { vcpus?: number; privileged?: boolean } = {}): TestDomain {
  const vcpus = Array.from({ length: opts.vcpus ?? 1 }, (_, i) => countingVcpu(i));
  return {
    domid,
    name: `d${domid}`,
    privileged: opts.privileged ?? false,
    memory: new GuestMemory(RAM_BASE, RAM_SIZE),
    vcpus,
    dying: false,
  };
}

export interface Rig {
  hv: Hypervisor;
  xen: XenServices;
  doms: TestDomain[];
  console: { domid: number; text: string }[];
  events: TraceEvent[];
  /** One hypercall from d[i] vCPU `vcpu`; returns x0 as a signed number. */
  call(i: number, nr: number, ...args: (number | bigint)[]): number;
  /** The same from vCPU `vcpu` of d[i]. */
  callAs(i: number, vcpu: number, nr: number, ...args: (number | bigint)[]): number;
  lastOutcome: ReturnType<Hypervisor['hypercall']>['outcome'] | undefined;
}

export function rig(opts: { xsm?: XsmPolicy; domains?: number; vcpus?: number; trace?: boolean } = {}): Rig {
  const trace = new TraceBus();
  const events: TraceEvent[] = [];
  if (opts.trace) trace.attach((e) => events.push(e));
  const consoleOut: { domid: number; text: string }[] = [];
  const hv = new Hypervisor({ trace, xsm: opts.xsm, consoleWrite: (domid, text) => consoleOut.push({ domid, text }) });
  const xen = installXen(hv);
  const doms = Array.from({ length: opts.domains ?? 2 }, (_, i) => makeDomain(i + 1, { vcpus: opts.vcpus }));
  for (const d of doms) {
    hv.addDomain(d);
    xen.createDomainState(d);
  }
  const r: Rig = {
    hv,
    xen,
    doms,
    console: consoleOut,
    events,
    lastOutcome: undefined,
    call(i, nr, ...args) {
      return r.callAs(i, 0, nr, ...args);
    },
    callAs(i, vcpu, nr, ...args) {
      const d = doms[i];
      const res = hv.hypercall(d, d.vcpus[vcpu], nr, args.map((v) => BigInt(v)), 0x40000000);
      r.lastOutcome = res.outcome;
      return res.value;
    },
  };
  return r;
}
