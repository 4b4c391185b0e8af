import { Errno } from '../errno.ts';
import type { HypercallHandler } from '../hypercall.ts';
import { handle, layout, readStruct, writeFields } from '../evtchn/codec.ts';
import { anyDomain, HVM_NR_PARAMS, type XenOpsContext } from './context.ts';

/** HVMOP_* used on Arm (public/hvm/hvm_op.h). */
export const HVMOP = { set_param: 0, get_param: 1, guest_request_vm_event: 24 } as const;
const names = new Map<number, string>(Object.entries(HVMOP).map(([k, v]) => [v, `HVMOP_${k}`]));

/** HVM_PARAM_* that Arm lets a guest see (public/hvm/params.h). */
export const HVM_PARAM = {
  CALLBACK_IRQ: 0,
  STORE_PFN: 1,
  STORE_EVTCHN: 2,
  CONSOLE_PFN: 17,
  CONSOLE_EVTCHN: 18,
} as const;

/** struct xen_hvm_param: domid u16, index u32 (at 4), value u64 (at 8). */
export const XenHvmParam = layout('xen_hvm_param', 16, { domid: [0, 'u16'], index: [4, 'u32'], value: [8, 'u64'] });

const guestVisible = new Set<number>(Object.values(HVM_PARAM));

/**
 * HYPERVISOR_hvm_op on Arm (xen/arch/arm/hvm.c): get/set_param only.
 * Order, as the real Xen 4.17 answers (test/golden/evtchn-conformance.*, evtchn-pair.*): copy
 * in (-EFAULT), domain (-ESRCH), XSM_TARGET (-EPERM) - both even for an index out of range -
 * then index < HVM_NR_PARAMS (-EINVAL), then Arm's allow-lists: the five params above are readable by anyone allowed so
 * far; setting them is the toolstack's job (-EPERM on oneself), every other index -EINVAL.
 * A dom0less domU without xenstore has all of them 0 unless the machine seeds them.
 */
export function hvmOp(x: XenOpsContext): HypercallHandler {
  return (ctx, a) => {
    const op = BigInt.asUintN(64, a[0] ?? 0n);
    const arg = handle(a[1]);
    ctx.op = names.get(Number(op)) ?? `HVMOP_${op}`;

    if (op === BigInt(HVMOP.set_param) || op === BigInt(HVMOP.get_param)) {
      const set = op === BigInt(HVMOP.set_param);
      const s = readStruct(ctx.guest, arg, XenHvmParam);
      if (!s) return -Errno.EFAULT;
      ctx.args = set ? { domid: s.domid, index: s.index, value: s.value } : { domid: s.domid, index: s.index };
      const d = anyDomain(x.hv, ctx.domain, s.domid);
      if (!d) return -Errno.ESRCH;
      const denied = x.xsm.target(ctx.domain, d);
      if (denied) return -Errno[denied];
      if (s.index >= HVM_NR_PARAMS) return -Errno.EINVAL;
      if (!guestVisible.has(s.index)) return -Errno.EINVAL;
      const params = x.domainState.get(d.domid)!.hvmParams;
      if (set) {
        if (d === ctx.domain) return -Errno.EPERM;
        params[s.index] = s.value;
        return 0;
      }
      ctx.out = { value: params[s.index] };
      return writeFields(ctx.guest, arg, XenHvmParam, { value: params[s.index] }) ? 0 : -Errno.EFAULT;
    }
    if (op === BigInt(HVMOP.guest_request_vm_event)) {
      // Only a NULL argument is accepted (no monitor here to tell).
      return a[1] === undefined || a[1] === 0n ? 0 : -Errno.EINVAL;
    }
    ctx.args = { op, arg: a[1] ?? 0n };
    return -Errno.ENOSYS;
  };
}
