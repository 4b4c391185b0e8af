/**
 * The one seam between channel state and the bit-level delivery ABI, after Xen's
 * `struct evtchn_port_ops`. The state machine calls these; only the ABI knows where the
 * bits are. A FIFO implementation would be a second implementer.
 */
export interface EvtchnPortOps {
  readonly name: '2-level';
  /** Marks `port` pending and notifies `vcpuId` if the port is not masked (evtchn_port_set_pending). */
  setPending(vcpuId: number, port: number): void;
  /** Clears the pending bit, used when a channel is freed (evtchn_port_clear_pending). */
  clearPending(port: number): void;
  /** Clears the mask bit and re-notifies `vcpuId` if the port was pending (evtchn_port_unmask). */
  unmask(vcpuId: number, port: number): void;
  isPending(port: number): boolean;
  isMasked(port: number): boolean;
  /** set_priority is FIFO-only: `undefined` here means the ABI has none (-ENOSYS). */
  readonly setPriority?: (port: number, priority: number) => number;
}
