import type { Channel } from './channel.ts';
import { EVTCHN_2L_NR_CHANNELS } from './layout.ts';

/**
 * Xen allocates `struct evtchn` in buckets of one page: PAGE_SIZE / next_pow2(sizeof(struct
 * evtchn)). A release arm64 build has a 64-byte struct evtchn, so a bucket holds 64 channels.
 * A port is *valid* (port_is_valid) when its bucket exists, whatever its state; this is why
 * EVTCHNOP_status answers "closed" for an unused port inside an allocated bucket and
 * -EINVAL beyond the last bucket.
 */
export const EVTCHNS_PER_BUCKET = 64;

/** dom0less domUs are created with max_evtchn_port = 1023 (arch/arm/domain_build.c, 4.17). */
export const DOM0LESS_MAX_EVTCHN_PORT = 1023;
/** dom0 passes -1, which Xen clamps to INT_MAX; the 2-level limit then applies. */
export const UNLIMITED_EVTCHN_PORT = 0x7fffffff;

export type AllocResult = { ok: true; port: number } | { ok: false; error: 'ENOSPC' };

/** One domain's port space: buckets of channels, allocated lowest-free first. */
export class PortTable {
  private readonly slots: Channel[] = [];

  constructor(
    /** d->max_evtchn_port: the highest port number this domain may allocate. */
    readonly maxEvtchnPort: number,
    /** The ABI's limit (max_evtchns): 4096 for 2-level, 2^17 for FIFO; changes with the ABI. */
    public maxEvtchns: number = EVTCHN_2L_NR_CHANNELS,
  ) {}

  /** d->valid_evtchns: ports below this have a bucket. */
  get validCount(): number {
    return this.slots.length;
  }

  isValid(port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < this.slots.length;
  }

  get(port: number): Channel | undefined {
    return this.isValid(port) ? this.slots[port] : undefined;
  }

  /**
   * get_free_port: the lowest port that is free, growing by one bucket when every valid
   * port is taken. A new bucket is allocated even if the caller then fails (e.g. an XSM
   * denial): the ports stay valid and free, as in Xen. A free port the ABI still uses
   * (`isBusy`: FIFO's LINKED bit) is skipped (evtchn_allocate_port answers -EBUSY for it).
   */
  allocate(isBusy?: (port: number) => boolean): AllocResult {
    for (let port = 0; port <= this.maxEvtchnPort; port++) {
      if (port >= this.maxEvtchns) return { ok: false, error: 'ENOSPC' };
      if (port < this.slots.length) {
        if (this.slots[port].binding.state === 'free' && !isBusy?.(port)) return { ok: true, port };
        continue;
      }
      this.addBucket();
      return { ok: true, port };
    }
    return { ok: false, error: 'ENOSPC' };
  }

  private addBucket(): void {
    const first = this.slots.length;
    for (let i = 0; i < EVTCHNS_PER_BUCKET; i++) {
      this.slots.push({ port: first + i, binding: { state: 'free' }, notifyVcpu: 0 });
    }
  }

  /** Every valid port, in order. */
  *all(): IterableIterator<Channel> {
    yield* this.slots;
  }
}
