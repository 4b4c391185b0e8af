/**
 * The guest-side rules of the 2-level event-channel ABI that the checker enforces, each with
 * where it comes from (Xen 4.17's public headers, in our words). docs/check.md explains each
 * with an example report. The fifo-* rules apply while a domain uses the FIFO ABI
 * (EVTCHNOP_init_control); the others to its 2-level state and to either ABI's hypercalls.
 */
export const RULES = {
  'local-unmask': {
    what: 'a mask bit cleared by the guest\'s own store while the port is pending',
    source:
      'xen.h, shared_info: a port that becomes pending while masked loses its edge, so whoever unmasks must deliver what is pending; ' +
      'event_channel.h: EVTCHNOP_unmask clears the mask and notifies the vCPU when the port is pending. On Arm the guest cannot raise ' +
      'the upcall itself (it is a GIC interrupt Xen injects), so a local clear leaves the event undelivered.',
  },
  'plain-store': {
    what: 'evtchn_pending or evtchn_mask changed by a plain (non-atomic) store',
    source:
      'xen.h, shared_info: Xen sets pending bits (and reads mask bits) at any moment, from another CPU; ' +
      'a guest update of these words must be one atomic read-modify-write, or a bit Xen set between the read and the write is lost.',
  },
  'selector-xchg': {
    what: 'evtchn_pending_sel read and cleared without an atomic exchange',
    source: 'xen.h, vcpu_info: Xen sets selector bits concurrently; the guest takes the selector with an atomic exchange to 0.',
  },
  'guest-set': {
    what: 'a bit set by the guest that only the hypervisor sets (evtchn_pending, evtchn_pending_sel, evtchn_upcall_pending)',
    source: 'xen.h: pending bits, selector bits and evtchn_upcall_pending are written non-zero by Xen and cleared by the guest.',
  },
  'upcall-order': {
    what: 'the selector taken before evtchn_upcall_pending was cleared',
    source:
      'xen.h, vcpu_info: the guest clears evtchn_upcall_pending before it looks for pending work, so that an event Xen posts meanwhile sets it again (no set-and-check race).',
  },
  'upcall-eoi': {
    what: 'the event-channel interrupt not EOIed before its handler returned',
    source: 'Xen on Arm injects the upcall as a GIC PPI on the 0->1 edge of evtchn_upcall_pending (IHI0048/IHI0069: an acknowledged interrupt stays active until EOI); never EOIed, it is never delivered again.',
  },
  'eoi-twice': {
    what: 'the event-channel interrupt EOIed twice',
    source: 'GIC (IHI0048 3.2.5, IHI0069 4.1): one priority drop per acknowledge; a second EOI drops the priority of another active interrupt.',
  },
  'handler-pending': {
    what: 'the upcall handler returned with a port pending and unmasked and nothing left to re-raise it',
    source:
      'xen.h, shared_info: Xen raises the upcall only on a 0->1 change of a pending bit; a port left pending and unmasked with the upcall interrupt not pending is not signalled again.',
  },
  'use-after-close': {
    what: 'a port used after EVTCHNOP_close',
    source: 'event_channel.h, EVTCHNOP_close: the port is freed; until it is allocated again every operation on it fails (-EINVAL).',
  },
  'notify-unowned': {
    what: 'EVTCHNOP_send on a port the domain does not own',
    source: 'event_channel.h, EVTCHNOP_send: the port must be a local port bound to a remote end (interdomain, IPI); Xen answers -EINVAL otherwise.',
  },
  'bind-no-offer': {
    what: 'EVTCHNOP_bind_interdomain without a matching offer',
    source:
      'event_channel.h, EVTCHNOP_bind_interdomain: <remote_dom, remote_port> must be an unbound port that accepts bindings from the caller (EVTCHNOP_alloc_unbound); Xen answers -EINVAL (or -ESRCH for no such domain).',
  },
  'fifo-plain-store': {
    what: 'a FIFO event word or the control block\'s ready changed by a plain (non-atomic) store',
    source:
      'event_channel.h, FIFO ABI: Xen sets PENDING, LINKED and LINK of event words and the ready bits of the control block at any moment, ' +
      'from another CPU; the guest changes these words only with atomic operations (test-and-clear, compare-and-exchange), or it loses what Xen wrote in between.',
  },
  'fifo-guest-set': {
    what: 'the guest set PENDING, LINKED or BUSY in an event word, or wrote LINK',
    source:
      'event_channel.h, FIFO ABI: Xen marks a port PENDING and links it into a queue (LINKED, the previous tail\'s LINK); ' +
      'the guest may set or clear MASKED, clear PENDING, and unlink a port by clearing LINKED with LINK, nothing else.',
  },
  'fifo-local-unmask': {
    what: 'MASKED cleared by the guest\'s own store while the port is PENDING and not linked',
    source:
      'event_channel.h, FIFO ABI: Xen links a port only when it becomes pending unmasked or at EVTCHNOP_unmask; a port that became pending ' +
      'while masked is on no queue, so a guest that clears MASKED itself while PENDING is set must call EVTCHNOP_unmask, or the event is never seen.',
  },
  'fifo-head': {
    what: 'head[] of a control block written by the guest',
    source: 'event_channel.h, struct evtchn_fifo_control_block: Xen writes head[q] when it links a port into an empty queue; the guest only reads it.',
  },
  'fifo-ready': {
    what: 'the upcall handler returned with a queue still linked and its ready bit clear',
    source:
      'event_channel.h, FIFO ABI: Xen sets a priority\'s ready bit (and raises the upcall) only when it links a port into an empty queue; ' +
      'while the queue\'s tail stays LINKED, new events are appended behind it silently. A guest that clears a ready bit must consume that queue to its end.',
  },
} as const;

export type CheckRule = keyof typeof RULES;
export const RULE_IDS = Object.keys(RULES) as CheckRule[];
