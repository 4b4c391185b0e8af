import { GuestMemory } from '../mem/guest-memory.ts';
import { TraceBus } from '../trace/bus.ts';
import type { ForeignPhysmap, XenDomain, XenVcpu } from '../xen/domain.ts';
import { Hypervisor, type XsmPolicy } from '../xen/hypervisor.ts';
import { installXen, type XenServices } from '../xen/ops/install.ts';

/**
 * The fuzzer's machine without a CPU: the real Hypervisor with every handler installed, and
 * domains that are plain memory plus vCPUs that count their upcalls. Every domain's RAM sits
 * at the same guest-physical base, as dom0less lays them out, so a pointer can only ever name
 * the caller's own RAM or nothing: whatever lands in another domain's RAM is the hypervisor's.
 */
export const FUZZ_RAM_BASE = 0x40000000;
/** Small RAM: pointers near its end are common and snapshots are cheap to compare. */
export const FUZZ_RAM_SIZE = 32 * 1024;

export interface FuzzVcpu extends XenVcpu {
  upcalls: number;
}

export interface FuzzDomain extends XenDomain {
  readonly vcpus: FuzzVcpu[];
  /** Ended by SCHEDOP_shutdown: it makes no more calls (its ports stay, as in Xen). */
  stopped: boolean;
  readonly physmap: FakePhysmap;
}
/**
 * The machine's stage 2 beyond RAM, as a map of pages: a page can be mapped only where the
 * domain has nothing (not over its RAM, not twice), as the engine allows.
 */
export class FakePhysmap implements ForeignPhysmap {
  readonly pages = new Map<bigint, { bytes: Uint8Array; writable: boolean }>();

  map(gpa: bigint, bytes: Uint8Array, writable: boolean): string | undefined {
    const n = Math.ceil(bytes.length / 4096);
    for (let i = 0; i < n; i++) {
      const p = gpa + BigInt(i * 4096);
      if (overRam(p) || this.pages.has(p)) return `0x${p.toString(16)} is taken`;
    }
    for (let i = 0; i < n; i++) this.pages.set(gpa + BigInt(i * 4096), { bytes: bytes.subarray(i * 4096, (i + 1) * 4096), writable });
    return undefined;
  }

  unmap(gpa: bigint, size: number): string | undefined {
    for (let o = 0; o < size; o += 4096) this.pages.delete(gpa + BigInt(o));
    return undefined;
  }
}

export function overRam(page: bigint): boolean {
  return page + BigInt(4096) > BigInt(FUZZ_RAM_BASE) && page < BigInt(FUZZ_RAM_BASE + FUZZ_RAM_SIZE);
}


export interface WorldOptions {
  xsm: XsmPolicy;
  /** Number of domUs (d1..dN). */
  domUs: number;
  /** vCPUs per domain. */
  vcpus: number;
  /** Adds a privileged dom0 (domid 0), which may act on other domains. */
  dom0: boolean;
  /** d->max_evtchn_port of the domUs (default 1023, as dom0less gives them). */
  maxEvtchnPort?: number;
}

export interface World {
  readonly opts: WorldOptions;
  readonly hv: Hypervisor;
  readonly xen: XenServices;
  readonly doms: FuzzDomain[];
}

/** A vCPU without a CPU: it counts the upcalls Xen raises on it (the CPU-less test rig, test/xen/helpers.ts, uses it too). */
export function countingVcpu(id: number): FuzzVcpu {
  const v: FuzzVcpu = {
    id,
    upcalls: 0,
    raiseUpcall() {
      v.upcalls++;
    },
  };
  return v;
}

export function makeWorld(opts: WorldOptions): World {
  const hv = new Hypervisor({ trace: new TraceBus(), xsm: opts.xsm });
  const xen = installXen(hv);
  const ids = [...(opts.dom0 ? [0] : []), ...Array.from({ length: opts.domUs }, (_, i) => i + 1)];
  const doms = ids.map(
    (domid): FuzzDomain => ({
      domid,
      name: `d${domid}`,
      privileged: domid === 0,
      memory: new GuestMemory(FUZZ_RAM_BASE, FUZZ_RAM_SIZE),
      vcpus: Array.from({ length: opts.vcpus }, (_, i) => countingVcpu(i)),
      dying: false,
      stopped: false,
      physmap: new FakePhysmap(),
    }),
  );
  for (const d of doms) {
    hv.addDomain(d);
    // As the machine does: dom0less domUs get max_evtchn_port 1023, dom0 the 2-level limit.
    xen.createDomainState(d, { isConsole: true, maxEvtchnPort: d.privileged ? undefined : (opts.maxEvtchnPort ?? 1023) });
  }
  return { opts, hv, xen, doms };
}
