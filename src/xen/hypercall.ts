import type { Fields } from '../trace/events.ts';
import type { XenDomain, XenVcpu, ShutdownReason } from './domain.ts';
import type { GuestHandles } from './guest-handle.ts';

/**
 * What a hypercall asks of the scheduler besides its return value. The Xen layer never
 * touches the CPU: it answers with one of these and the machine carries it out.
 */
export type HypercallOutcome =
  | { kind: 'return' }
  /** SCHEDOP_block: sleep until an event is pending for the vCPU (returns 0 when woken). */
  | { kind: 'block' }
  /** SCHEDOP_yield: give up the rest of the quantum. */
  | { kind: 'yield' }
  /** SCHEDOP_poll: sleep until one of `ports` is pending, or `timeoutNs` (absolute system time, 0 = none). */
  | { kind: 'poll'; ports: number[]; timeoutNs: bigint }
  | { kind: 'shutdown'; reason: ShutdownReason; code: number }
  /**
   * Preempted, as Xen's hypercall_create_continuation: the guest's x0..x(n-1) become `args` and
   * it re-executes the HVC, so a long call is done in bounded steps with the machine (timeouts,
   * other domains, a debugger) getting its turn in between. The handler's value is not returned.
   */
  | { kind: 'continuation'; args: bigint[] };

/** The calling context handed to every hypercall handler. */
export interface HypercallCtx {
  readonly domain: XenDomain;
  readonly vcpu: XenVcpu;
  /** Address of the HVC (64-bit guest virtual address). */
  readonly pc: number | bigint;
  /** The caller's buffers: handles are guest virtual addresses, translated by its vCPU. */
  readonly guest: GuestHandles;
  /** The handler names its sub-op here ("EVTCHNOP_send") for the trace. */
  op?: string;
  /** Decoded input fields, for the trace. */
  args: Fields;
  /** Decoded output fields written back to the guest, for the trace. */
  out?: Fields;
  /** Set by the handler when the call has a scheduling side effect. */
  outcome: HypercallOutcome;
}

/** A handler returns the value for x0 (0 / positive, or -errno). */
export type HypercallHandler = (ctx: HypercallCtx, a: readonly bigint[]) => number;
