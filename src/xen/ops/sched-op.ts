import { Errno } from '../errno.ts';
import { SHUTDOWN_REASONS } from '../domain.ts';
import type { HypercallHandler } from '../hypercall.ts';
import { handle, layout, readStruct } from '../evtchn/codec.ts';
import { findDomain, type XenOpsContext } from './context.ts';

/** SCHEDOP_* (public/sched.h). */
export const SCHEDOP = {
  yield: 0,
  block: 1,
  shutdown: 2,
  poll: 3,
  remote_shutdown: 4,
  shutdown_code: 5,
  watchdog: 6,
  pin_override: 7,
} as const;
const names = new Map<number, string>(Object.entries(SCHEDOP).map(([k, v]) => [v, `SCHEDOP_${k}`]));

export const SchedShutdown = layout('sched_shutdown', 4, { reason: [0, 'u32'] });
/** struct sched_poll: ports (guest handle, 8 bytes on Arm), nr_ports u32, timeout u64 (absolute ns). */
export const SchedPoll = layout('sched_poll', 24, { ports: [0, 'u64'], nr_ports: [8, 'u32'], timeout: [16, 'u64'] });
export const SchedRemoteShutdown = layout('sched_remote_shutdown', 8, { domain_id: [0, 'u16'], reason: [4, 'u32'] });

/** do_poll's "fairly arbitrary" limit on nr_ports. */
export const SCHED_POLL_MAX_PORTS = 128;

/**
 * HYPERVISOR_sched_op. Scheduling effects are returned as `ctx.outcome` for the machine:
 *  - block: Xen also clears PSTATE.I of the guest (local_event_delivery_enable) and does not
 *    sleep if an event is already deliverable; the machine does both.
 *  - poll: sleeps until `pollWoken` (a newly pending port of the domain: any port when
 *    several are polled, the port itself when one is), an interrupt kicks the vCPU, or the
 *    absolute timeout passes; the call returns 0 in every case.
 *  - shutdown: the reason is the first shutdown_code the domain recorded, if any.
 */
export function schedOp(x: XenOpsContext): HypercallHandler {
  return (ctx, a) => {
    const cmd = Number(BigInt.asIntN(32, a[0] ?? 0n));
    const arg = handle(a[1]);
    const me = ctx.domain;
    ctx.op = names.get(cmd) ?? `SCHEDOP_${cmd}`;

    switch (cmd) {
      case SCHEDOP.yield:
        ctx.outcome = { kind: 'yield' };
        return 0;
      case SCHEDOP.block:
        ctx.outcome = { kind: 'block' };
        return 0;
      case SCHEDOP.shutdown: {
        const s = readStruct(ctx.guest, arg, SchedShutdown);
        if (!s) return -Errno.EFAULT;
        ctx.args = { reason: s.reason };
        const st = x.domainState.get(me.domid)!;
        // domain_shutdown takes the reason as a u8 and keeps an earlier shutdown_code.
        st.shutdownCode ??= s.reason & 0xff;
        const code = st.shutdownCode;
        // A code with no name still shuts the domain down; report it as a crash.
        ctx.outcome = { kind: 'shutdown', reason: SHUTDOWN_REASONS[code] ?? 'crash', code };
        return 0;
      }
      case SCHEDOP.shutdown_code: {
        const s = readStruct(ctx.guest, arg, SchedShutdown);
        if (!s) return -Errno.EFAULT;
        ctx.args = { reason: s.reason };
        const st = x.domainState.get(me.domid)!;
        st.shutdownCode ??= s.reason & 0xff;
        return 0;
      }
      case SCHEDOP.poll: {
        const s = readStruct(ctx.guest, arg, SchedPoll);
        if (!s) return -Errno.EFAULT;
        ctx.args = { ports: s.ports, nr_ports: s.nr_ports, timeout: s.timeout };
        if (s.nr_ports > SCHED_POLL_MAX_PORTS) return -Errno.EINVAL;
        // An event the vCPU can take right now ends the poll before the ports are read.
        if (x.eventsNeedDelivery(me, ctx.vcpu.id)) return 0;
        // Each port is copied in and checked before the next (__copy_from_guest_offset per port).
        const ports: number[] = [];
        for (let i = 0; i < s.nr_ports; i++) {
          const b = ctx.guest.copyFrom(BigInt.asUintN(64, s.ports + BigInt(4 * i)), 4);
          if (!b) return -Errno.EFAULT;
          const port = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] * 0x1000000);
          const polled = x.evtchn.pollPort(me.domid, port);
          if (!polled.ok) return -Errno[polled.error];
          if (polled.value) return 0;
          ports.push(port);
        }
        x.evtchn.beginPoll(me, ctx.vcpu.id, ports.length === 1 ? ports[0] : -1);
        ctx.outcome = { kind: 'poll', ports, timeoutNs: s.timeout };
        return 0;
      }
      case SCHEDOP.remote_shutdown: {
        const s = readStruct(ctx.guest, arg, SchedRemoteShutdown);
        if (!s) return -Errno.EFAULT;
        ctx.args = { domain_id: s.domain_id, reason: s.reason };
        // Looked up by id only: DOMID_SELF names no domain here.
        const d = findDomain(x.hv, s.domain_id);
        if (!d) return -Errno.ESRCH;
        const denied = x.xsm.dmPriv(me);
        if (denied) return -Errno[denied];
        // A privileged caller shutting another domain down is not modelled.
        return -Errno.ENOSYS;
      }
      case SCHEDOP.pin_override:
        // Only the hardware domain may pin.
        return me.privileged ? -Errno.ENOSYS : -Errno.EPERM;
      case SCHEDOP.watchdog:
        // Not modelled (Xen arms per-domain watchdog timers); see the README.
        return -Errno.ENOSYS;
      default:
        ctx.args = { cmd, arg: a[1] ?? 0n };
        return -Errno.ENOSYS;
    }
  };
}
