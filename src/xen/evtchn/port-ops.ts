/**
 * The one seam between channel state and the bit-level delivery ABI, after Xen's
 * `struct evtchn_port_ops`. The state machine calls these; only the ABI knows where the
 * bits are. Two implementers: `TwoLevel` (two-level.ts) and `Fifo` (fifo.ts).
 */
export interface EvtchnPortOps {
  readonly name: '2-level' | 'fifo';
  /** evtchn_port_init, at every bind: FIFO resets the channel's priority; 2-level has none. */
  init?(port: number): void;
  /** Marks `port` pending and notifies `vcpuId` if the port is not masked (evtchn_port_set_pending). */
  setPending(vcpuId: number, port: number): void;
  /** Clears the pending bit, used when a channel is freed (evtchn_port_clear_pending). */
  clearPending(port: number): void;
  /** Clears the mask bit and re-notifies `vcpuId` if the port was pending (evtchn_port_unmask). */
  unmask(vcpuId: number, port: number): void;
  isPending(port: number): boolean;
  isMasked(port: number): boolean;
  /** evtchn_is_busy: a free port still in use by the ABI is skipped by allocation (FIFO: LINKED). */
  readonly isBusy?: (port: number) => boolean;
  /** set_priority is FIFO-only: `undefined` here means the ABI has none (-ENOSYS). Returns 0 or -1 (-EINVAL). */
  readonly setPriority?: (port: number, priority: number) => number;
}
