import { Errno } from '../errno.ts';
import type { HypercallHandler } from '../hypercall.ts';
import { handle, layout, readStruct } from '../evtchn/codec.ts';
import { PAGE_SHIFT, PAGE_SIZE, VcpuInfo } from '../evtchn/layout.ts';
import type { XenOpsContext } from './context.ts';

/** The two VCPUOP_* Arm accepts (public/vcpu.h); every other command is -EINVAL on Arm. */
export const VCPUOP = { register_runstate_memory_area: 5, register_vcpu_info: 10 } as const;
const names = new Map<number, string>(Object.entries(VCPUOP).map(([k, v]) => [v, `VCPUOP_${k}`]));

/** struct vcpu_register_vcpu_info: mfn u64 (a guest frame on Arm), offset u32, rsvd u32. */
export const VcpuRegisterVcpuInfo = layout('vcpu_register_vcpu_info', 16, {
  mfn: [0, 'u64'],
  offset: [8, 'u32'],
  rsvd: [12, 'u32'],
});
/** struct vcpu_runstate_info: state i32 (+4 pad), state_entry_time u64, time[4] u64. */
export const VCPU_RUNSTATE_INFO_SIZE = 48;
export const VcpuRegisterRunstateArea = layout('vcpu_register_runstate_memory_area', 8, { addr: [0, 'u64'] });

/**
 * HYPERVISOR_vcpu_op(cmd, vcpuid, arg) on Arm (4.17): the vCPU must exist (-ENOENT), then only
 * register_vcpu_info and register_runstate_memory_area are accepted (-EINVAL otherwise).
 *
 * map_vcpu_info rejects an offset that does not leave room for the 48-byte vcpu_info in the
 * page or is not 8-byte aligned with -ENXIO (what the real Xen 4.17 answers, measured by
 * apps/evtchn-conformance), then with -EINVAL a vCPU that already has one, a vCPU other than
 * the caller that is online, and a frame that is not the guest's RAM.
 */
export function vcpuOp(x: XenOpsContext): HypercallHandler {
  return (ctx, a) => {
    const cmd = Number(BigInt.asIntN(32, a[0] ?? 0n));
    const vcpuId = Number(BigInt.asUintN(32, a[1] ?? 0n));
    const arg = handle(a[2]);
    const me = ctx.domain;
    const mem = me.memory;
    ctx.op = names.get(cmd) ?? `VCPUOP_${cmd}`;
    ctx.args = { vcpuid: vcpuId };

    const v = me.vcpus[vcpuId];
    if (!v) return -Errno.ENOENT;
    if (cmd === VCPUOP.register_vcpu_info) {
      const s = readStruct(ctx.guest, arg, VcpuRegisterVcpuInfo);
      if (!s) return -Errno.EFAULT;
      ctx.args = { vcpuid: vcpuId, mfn: s.mfn, offset: s.offset };
      if (s.offset > PAGE_SIZE - VcpuInfo.size) return -Errno.ENXIO;
      if (s.offset % VcpuInfo.align !== 0) return -Errno.ENXIO;
      if (v.vcpuInfoGpa !== undefined) return -Errno.EINVAL;
      if (v !== ctx.vcpu && v.online !== false) return -Errno.EINVAL;
      const page = s.mfn << BigInt(PAGE_SHIFT);
      if (page > BigInt(Number.MAX_SAFE_INTEGER) || !mem.contains(Number(page), PAGE_SIZE)) return -Errno.EINVAL;
      const at = Number(page) + s.offset;
      x.evtchn.moveVcpuInfo(me, vcpuId, at);
      ctx.out = { vcpu_info_gpa: at };
      return 0;
    }
    if (cmd === VCPUOP.register_runstate_memory_area) {
      const s = readStruct(ctx.guest, arg, VcpuRegisterRunstateArea);
      if (!s) return -Errno.EFAULT;
      ctx.args = { vcpuid: vcpuId, addr: s.addr };
      x.domainState.get(me.domid)!.runstateArea.set(vcpuId, s.addr);
      // Xen copies the vCPU's runstate there at once, and ignores a copy that fails (the real
      // Xen 4.17 leaves state 0 = RUNSTATE_running: apps/efault-probe). Later updates and the
      // times are not modelled: this emulator keeps no runstate accounting, so they read 0.
      ctx.guest.copyTo(s.addr, new Uint8Array(VCPU_RUNSTATE_INFO_SIZE));
      return 0;
    }
    return -Errno.EINVAL;
  };
}
