/**
 * The rules seen at hypercalls (rules.ts: use-after-close, notify-unowned, bind-no-offer, and
 * upcall-eoi when a vCPU waits for events): arguments and outputs are read from the guest
 * after the call, through the handles the call used (guest virtual addresses translated by the
 * vCPU, as the hypervisor reads them), with the hypercall layer's own struct layouts.
 */
import { DOMID_SELF, Hypercall } from '../xen/abi.ts';
import { Errno, errnoName } from '../xen/errno.ts';
import {
  EVTCHNOP,
  EvtchnAllocUnbound,
  EvtchnBindInterdomain,
  EvtchnBindIpi,
  EvtchnBindVirq,
  EvtchnExpandArray,
  EvtchnInitControl,
  EvtchnPortArg,
  EvtchnReset,
  EvtchnStatusArg,
  evtchnOpName,
  handle,
  readStruct,
} from '../xen/evtchn/codec.ts';
import type { GuestHandles } from '../xen/guest-handle.ts';
import { SCHEDOP } from '../xen/ops/sched-op.ts';
import type { DomainCheck, Reporter } from './domain-check.ts';
import { watch, watchSharedPages } from './store-rules.ts';
import { FifoControlBlock } from '../xen/evtchn/fifo.ts';
import { PAGE_SIZE, frameGpa } from '../xen/evtchn/layout.ts';

const EINVAL = -Errno.EINVAL;
const ESRCH = -Errno.ESRCH;
const SCHEDOP_block = BigInt(SCHEDOP.block);
const SCHEDOP_poll = BigInt(SCHEDOP.poll);

export function checkHypercall(c: DomainCheck, r: Reporter, nr: number, a: readonly bigint[], result: number, pc: bigint, guest: GuestHandles): void {
  if (nr === Hypercall.memory_op || nr === Hypercall.vcpu_op) watchSharedPages(c, r);
  if (nr === Hypercall.sched_op && (a[0] === SCHEDOP_block || a[0] === SCHEDOP_poll) && c.cpus[c.cur].irq === 'acked') {
    r.report(c, 'upcall-eoi', callSite(c, pc), undefined, `the vCPU waits for events (${a[0] === SCHEDOP_block ? 'SCHEDOP_block' : 'SCHEDOP_poll'}) with the event interrupt (INTID ${c.d.eventIntid}) acknowledged but never EOIed: it cannot be delivered again`);
  }
  if (nr !== Hypercall.event_channel_op) return;
  const cmd = Number(a[0]);
  const arg = handle(a[1]);
  const errno = result < 0 ? errnoName(result) : '';
  const op = evtchnOpName(cmd);
  const at = result < 0 ? callSite(c, pc) : pc;
  switch (cmd) {
    case EVTCHNOP.close: {
      const port = readStruct(guest, arg, EvtchnPortArg)?.port;
      r.note(c, op, port ?? '', result, pc);
      if (port === undefined) return;
      if (result === 0) c.closed.add(port);
      else if (c.closed.has(port)) r.report(c, 'use-after-close', at, port, `EVTCHNOP_close of port ${port}, which this domain already closed (Xen: ${errno || result})`);
      return;
    }
    case EVTCHNOP.send: {
      const port = readStruct(guest, arg, EvtchnPortArg)?.port;
      r.note(c, op, port ?? '', result, pc);
      if (result >= 0 || port === undefined) return;
      if (c.closed.has(port)) r.report(c, 'use-after-close', at, port, `EVTCHNOP_send on port ${port} after this domain closed it (Xen: ${errno})`);
      else if (result === EINVAL) r.report(c, 'notify-unowned', at, port, `EVTCHNOP_send on port ${port}, which is not a bound port of this domain (Xen: ${errno})`);
      return;
    }
    case EVTCHNOP.unmask:
    case EVTCHNOP.bind_vcpu: {
      // struct evtchn_unmask and evtchn_bind_vcpu both start with the port.
      const port = readStruct(guest, arg, EvtchnPortArg)?.port;
      r.note(c, op, port ?? '', result, pc);
      if (result < 0 && port !== undefined && c.closed.has(port)) r.report(c, 'use-after-close', at, port, `${op} on port ${port} after this domain closed it (Xen: ${errno})`);
      return;
    }
    case EVTCHNOP.status: {
      const s = readStruct(guest, arg, EvtchnStatusArg);
      const dom = s?.dom;
      const port = s?.port;
      r.note(c, op, port ?? '', result, pc);
      if (result < 0 && port !== undefined && (dom === DOMID_SELF || dom === c.d.domid) && c.closed.has(port)) {
        r.report(c, 'use-after-close', at, port, `EVTCHNOP_status of port ${port} after this domain closed it (Xen: ${errno})`);
      }
      return;
    }
    case EVTCHNOP.alloc_unbound:
    case EVTCHNOP.bind_virq:
    case EVTCHNOP.bind_ipi: {
      // The port Xen hands out is a fresh one: using it again is fine.
      const port =
        cmd === EVTCHNOP.bind_virq ? readStruct(guest, arg, EvtchnBindVirq)?.port
        : cmd === EVTCHNOP.bind_ipi ? readStruct(guest, arg, EvtchnBindIpi)?.port
        : readStruct(guest, arg, EvtchnAllocUnbound)?.port;
      r.note(c, op, port ?? '', result, pc);
      if (result === 0 && port !== undefined) c.closed.delete(port);
      return;
    }
    case EVTCHNOP.bind_interdomain: {
      // A binder may try until its peer has offered (there is no other way to wait for an
      // offer): only a bind that never succeeds is reported, at the domain's or the run's end.
      const s = readStruct(guest, arg, EvtchnBindInterdomain);
      const rd = s?.remote_dom;
      const rp = s?.remote_port;
      const local = s?.local_port;
      r.note(c, op, `remote=d${rd}:${rp}`, result, pc);
      const key = `${rd}:${rp}`;
      if (result === 0) {
        c.failedBinds.delete(key);
        if (local !== undefined) c.closed.delete(local);
      } else if ((result === EINVAL || result === ESRCH) && !c.failedBinds.has(key)) {
        c.failedBinds.set(key, {
          pc: at,
          port: rp,
          message: `EVTCHNOP_bind_interdomain to d${rd} port ${rp} failed (Xen: ${errno}) and never succeeded: no unbound port there was offered to d${c.d.domid}`,
          context: r.context(c),
        });
      }
      return;
    }
    case EVTCHNOP.init_control: {
      const s = readStruct(guest, arg, EvtchnInitControl);
      r.note(c, op, s === undefined ? '' : `vcpu=${s.vcpu}`, result, pc);
      if (result !== 0 || s === undefined) return;
      c.fifo ??= { controlBlocks: new Map(), arrayPages: [] };
      const vcpu = s.vcpu;
      const cb = frameGpa(s.control_gfn) + s.offset;
      c.fifo.controlBlocks.set(vcpu, cb);
      watch(c, r, cb, FifoControlBlock.size);
      return;
    }
    case EVTCHNOP.expand_array: {
      const s = readStruct(guest, arg, EvtchnExpandArray);
      r.note(c, op, '', result, pc);
      if (result !== 0 || s === undefined || !c.fifo) return;
      const page = frameGpa(s.array_gfn);
      c.fifo.arrayPages.push(page);
      watch(c, r, page, PAGE_SIZE);
      return;
    }
    case EVTCHNOP.reset: {
      // Back to 2-level (evtchn_fifo_destroy): the pages are the guest's own again.
      r.note(c, op, '', result, pc);
      const dom = readStruct(guest, arg, EvtchnReset)?.dom;
      if (result === 0 && (dom === DOMID_SELF || dom === c.d.domid)) c.fifo = undefined;
      return;
    }
    default:
      r.note(c, op, '', result, pc);
  }
}

/** For a call through a hypercall stub (HYPERVISOR_*), the caller: the BL before the return address. */
export function callSite(c: DomainCheck, pc: bigint): bigint {
  const symbol = c.d.symbolAt(pc);
  if (symbol && /^(HYPERVISOR_|xen_hypercall)/.test(symbol)) {
    const lr = c.d.vcpus[c.cur].cpu.x(30);
    if (lr >= 4n) return lr - 4n;
  }
  return pc;
}
