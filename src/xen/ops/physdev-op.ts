import { Errno } from '../errno.ts';
import type { HypercallHandler } from '../hypercall.ts';

/**
 * HYPERVISOR_physdev_op on Arm (xen/arch/arm/physdev.c, 4.17): no sub-op is implemented, every
 * command answers -ENOSYS before its argument is read (a debug build logs "PHYSDEVOP cmd=N: not
 * implemented"). Registered so the trace names the call and its command.
 */
export function physdevOp(): HypercallHandler {
  return (ctx, a) => {
    const cmd = Number(BigInt.asUintN(32, a[0] ?? 0n));
    ctx.op = `PHYSDEVOP_${cmd}`;
    ctx.args = { cmd, arg: a[1] ?? 0n };
    return -Errno.ENOSYS;
  };
}
