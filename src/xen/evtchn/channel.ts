/**
 * Event-channel state, ABI-neutral (no bits, no guest memory): Xen's `struct evtchn`
 * reduced to what a guest can observe. Names follow Xen's ECS_* constants.
 */

/** Xen's ECS_* values (xen/include/xen/sched.h); the number is what Xen stores. */
export const ECS = {
  /** not in use; may be handed out by the next allocation */
  free: 0,
  /** never handed out (port 0) */
  reserved: 1,
  /** waiting for `remoteDomid` to bind to it */
  unbound: 2,
  /** connected to a port of another (or the same) domain */
  interdomain: 3,
  /** bound to a physical IRQ: cannot happen on Arm (no pirq support), kept for the numbering */
  pirq: 4,
  /** bound to a virtual IRQ of a vCPU */
  virq: 5,
  /** bound to a vCPU for inter-processor notifications within the domain */
  ipi: 6,
} as const;

export type ChannelState = keyof typeof ECS;

/** What the channel is bound to; the discriminant is the state. */
export type Binding =
  | { state: 'free' }
  | { state: 'reserved' }
  | { state: 'unbound'; remoteDomid: number }
  | { state: 'interdomain'; remoteDomid: number; remotePort: number }
  | { state: 'virq'; virq: number }
  | { state: 'ipi' };

export interface Channel {
  readonly port: number;
  binding: Binding;
  /** vCPU that receives the upcall (Xen's notify_vcpu_id); reset to 0 when freed. */
  notifyVcpu: number;
}

/** EVTCHNSTAT_* (public/event_channel.h), as EVTCHNOP_status reports a state. */
export const EVTCHNSTAT = {
  closed: 0,
  unbound: 1,
  interdomain: 2,
  pirq: 3,
  virq: 4,
  ipi: 5,
} as const;

/** VIRQ numbers (public/xen.h); NR_VIRQS is 24. */
export const VIRQ = {
  TIMER: 0,
  DEBUG: 1,
  CONSOLE: 2,
  DOM_EXC: 3,
  TBUF: 4,
  DEBUGGER: 6,
  XENOPROF: 7,
  CON_RING: 8,
  PCPU_STATE: 9,
  MEM_EVENT: 10,
  ARGO: 11,
  ENOMEM: 12,
  XENPMU: 13,
  ARCH_0: 16,
  ARCH_7: 23,
} as const;
export const NR_VIRQS = 24;

/**
 * Per-vCPU VIRQs may be bound on any vCPU; every other VIRQ is global and only vCPU 0
 * may bind it (event_channel.c virq_is_global; on Arm the VIRQ_ARCH_* range is global).
 */
export function virqIsGlobal(virq: number): boolean {
  return !(virq === VIRQ.TIMER || virq === VIRQ.DEBUG || virq === VIRQ.XENOPROF || virq === VIRQ.XENPMU);
}

/**
 * Xen's evtchn_usable(): only a channel past "reserved" takes part in delivery. Unmask of a
 * free or reserved port is a silent no-op and SCHEDOP_poll refuses it with -EINVAL (checked
 * against the real Xen 4.17 by apps/evtchn-conformance).
 */
export function channelUsable(c: Channel): boolean {
  return c.binding.state !== 'free' && c.binding.state !== 'reserved';
}
