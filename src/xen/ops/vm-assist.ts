import { Errno } from '../errno.ts';
import type { HypercallHandler } from '../hypercall.ts';
import type { XenOpsContext } from './context.ts';

/** VMASST_CMD_* and the one VMASST_TYPE_* Arm accepts (public/xen.h). */
export const VMASST_CMD = { enable: 0, disable: 1 } as const;
export const VMASST_TYPE_runstate_update_flag = 5;
/** arch_vm_assist_valid_mask on Arm: only runstate_update_flag. */
const ARM_VALID = 1n << BigInt(VMASST_TYPE_runstate_update_flag);

/**
 * HYPERVISOR_vm_assist(cmd, type) (common/domain.c do_vm_assist): a type outside the arch's
 * mask is -EINVAL, then enable/disable set or clear the domain's bit, any other command
 * -ENOSYS. Linux enables runstate_update_flag at boot (xen_time_setup_guest). The bit is kept
 * in the domain's state; nothing here reads it (no runstate area is maintained).
 */
export function vmAssist(x: XenOpsContext): HypercallHandler {
  return (ctx, a) => {
    const cmd = Number(BigInt.asUintN(32, a[0] ?? 0n));
    const type = BigInt.asUintN(32, a[1] ?? 0n);
    ctx.op = cmd === VMASST_CMD.enable ? 'VMASST_CMD_enable' : cmd === VMASST_CMD.disable ? 'VMASST_CMD_disable' : `VMASST_CMD_${cmd}`;
    ctx.args = { type: Number(type) };
    if (type >= 64n || ((ARM_VALID >> type) & 1n) === 0n) return -Errno.EINVAL;
    const st = x.domainState.get(ctx.domain.domid)!;
    if (cmd === VMASST_CMD.enable) st.vmAssist |= 1n << type;
    else if (cmd === VMASST_CMD.disable) st.vmAssist &= ~(1n << type);
    else return -Errno.ENOSYS;
    return 0;
  };
}
