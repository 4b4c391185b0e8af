import { Errno } from '../errno.ts';
import type { HypercallCtx, HypercallHandler } from '../hypercall.ts';
import {
  EVTCHNOP,
  EvtchnAllocUnbound,
  EvtchnBindInterdomain,
  EvtchnBindIpi,
  EvtchnBindPirq,
  EvtchnBindVcpu,
  EvtchnBindVirq,
  EvtchnExpandArray,
  EvtchnInitControl,
  EvtchnPortArg,
  EvtchnReset,
  EvtchnSetPriority,
  EvtchnStatusArg,
  evtchnOpName,
  handle,
  readStruct,
  writeFields,
  type Decoded,
} from './codec.ts';
import type { EventChannels, Result } from './event-channels.ts';
import type { Fields } from '../../trace/events.ts';

const EFAULT = -Errno.EFAULT;

function rc(r: Result<unknown>): number {
  return r.ok ? 0 : -Errno[r.error];
}

/** Decoded fields for the trace (bigints kept as they are). */
function fields(o: object): Fields {
  return { ...(o as Fields) };
}

/**
 * HYPERVISOR_event_channel_op(cmd, arg): copy the struct in (-EFAULT), run the model, copy
 * the outputs back on success (-EFAULT if that fails, with the effect already done, as in
 * Xen). Unknown commands are -ENOSYS, decided before the argument is read.
 */
export function eventChannelOp(model: EventChannels): HypercallHandler {
  return (ctx: HypercallCtx, a: readonly bigint[]): number => {
    const cmd = Number(BigInt.asIntN(32, a[0] ?? 0n));
    const arg = handle(a[1]);
    const g = ctx.guest;
    const me = ctx.domain;
    ctx.op = evtchnOpName(cmd);

    switch (cmd) {
      case EVTCHNOP.alloc_unbound: {
        const s = readStruct(g, arg, EvtchnAllocUnbound);
        if (!s) return EFAULT;
        ctx.args = fields({ dom: s.dom, remote_dom: s.remote_dom });
        const r = model.allocUnbound(me, s.dom, s.remote_dom);
        if (!r.ok) return rc(r);
        ctx.out = { port: r.value };
        return writeFields(g, arg, EvtchnAllocUnbound, { port: r.value }) ? 0 : EFAULT;
      }
      case EVTCHNOP.bind_interdomain: {
        const s = readStruct(g, arg, EvtchnBindInterdomain);
        if (!s) return EFAULT;
        ctx.args = fields({ remote_dom: s.remote_dom, remote_port: s.remote_port });
        const r = model.bindInterdomain(me, s.remote_dom, s.remote_port);
        if (!r.ok) return rc(r);
        ctx.out = { local_port: r.value };
        return writeFields(g, arg, EvtchnBindInterdomain, { local_port: r.value }) ? 0 : EFAULT;
      }
      case EVTCHNOP.bind_virq: {
        const s = readStruct(g, arg, EvtchnBindVirq);
        if (!s) return EFAULT;
        ctx.args = fields({ virq: s.virq, vcpu: s.vcpu });
        const r = model.bindVirq(me, s.virq, s.vcpu);
        if (!r.ok) return rc(r);
        ctx.out = { port: r.value };
        return writeFields(g, arg, EvtchnBindVirq, { port: r.value }) ? 0 : EFAULT;
      }
      case EVTCHNOP.bind_pirq: {
        const s = readStruct(g, arg, EvtchnBindPirq);
        if (!s) return EFAULT;
        ctx.args = fields({ pirq: s.pirq, flags: s.flags });
        return rc(model.bindPirq(me, s.pirq));
      }
      case EVTCHNOP.bind_ipi: {
        const s = readStruct(g, arg, EvtchnBindIpi);
        if (!s) return EFAULT;
        ctx.args = fields({ vcpu: s.vcpu });
        const r = model.bindIpi(me, s.vcpu);
        if (!r.ok) return rc(r);
        ctx.out = { port: r.value };
        return writeFields(g, arg, EvtchnBindIpi, { port: r.value }) ? 0 : EFAULT;
      }
      case EVTCHNOP.close:
      case EVTCHNOP.send:
      case EVTCHNOP.unmask: {
        const s = readStruct(g, arg, EvtchnPortArg);
        if (!s) return EFAULT;
        ctx.args = { port: s.port };
        const r =
          cmd === EVTCHNOP.close ? model.close(me, s.port) : cmd === EVTCHNOP.send ? model.send(me, s.port) : model.unmask(me, s.port);
        return rc(r);
      }
      case EVTCHNOP.status: {
        const s = readStruct(g, arg, EvtchnStatusArg);
        if (!s) return EFAULT;
        ctx.args = fields({ dom: s.dom, port: s.port });
        const r = model.status(me, s.dom, s.port);
        if (!r.ok) return rc(r);
        const st = r.value;
        const out: Partial<Decoded<typeof EvtchnStatusArg.fields>> = { status: st.status, vcpu: st.vcpu };
        // Only the union member of the reported state is written; the rest keeps the guest's bytes.
        if (st.virq !== undefined) out.u_word = st.virq;
        else if (st.dom !== undefined) {
          out.u_dom = st.dom;
          if (st.port !== undefined) out.u_port = st.port;
        }
        ctx.out = fields(st);
        return writeFields(g, arg, EvtchnStatusArg, out) ? 0 : EFAULT;
      }
      case EVTCHNOP.bind_vcpu: {
        const s = readStruct(g, arg, EvtchnBindVcpu);
        if (!s) return EFAULT;
        ctx.args = fields({ port: s.port, vcpu: s.vcpu });
        return rc(model.bindVcpu(me, s.port, s.vcpu));
      }
      case EVTCHNOP.reset:
      case EVTCHNOP.reset_cont: {
        const s = readStruct(g, arg, EvtchnReset);
        if (!s) return EFAULT;
        ctx.args = { dom: s.dom };
        return rc(model.reset(me, s.dom, cmd === EVTCHNOP.reset_cont));
      }
      case EVTCHNOP.init_control: {
        const s = readStruct(g, arg, EvtchnInitControl);
        if (!s) return EFAULT;
        ctx.args = fields({ control_gfn: s.control_gfn, offset: s.offset, vcpu: s.vcpu });
        const r = model.initControl(me, s.control_gfn, s.offset, s.vcpu);
        if (!r.ok) return rc(r);
        // link_bits is an output, copied back (with the rest of the struct) only on success.
        ctx.out = { link_bits: r.value };
        return writeFields(g, arg, EvtchnInitControl, { link_bits: r.value }) ? 0 : EFAULT;
      }
      case EVTCHNOP.expand_array: {
        const s = readStruct(g, arg, EvtchnExpandArray);
        if (!s) return EFAULT;
        ctx.args = fields({ array_gfn: s.array_gfn });
        return rc(model.expandArray(me, s.array_gfn));
      }
      case EVTCHNOP.set_priority: {
        const s = readStruct(g, arg, EvtchnSetPriority);
        if (!s) return EFAULT;
        ctx.args = fields({ port: s.port, priority: s.priority });
        return rc(model.setPriority(me, s.port, s.priority));
      }
      default:
        ctx.args = { cmd, arg: a[1] ?? 0n };
        return -Errno.ENOSYS;
    }
  };
}
