import { Errno } from '../errno.ts';
import type { HypercallHandler } from '../hypercall.ts';
import { handle, layout, readStruct, writeFields } from '../evtchn/codec.ts';
import { PAGE_SIZE } from '../evtchn/layout.ts';
import type { GuestHandles } from '../guest-handle.ts';

/** XENVER_* (public/version.h). */
export const XENVER = {
  version: 0,
  extraversion: 1,
  compile_info: 2,
  capabilities: 3,
  changeset: 4,
  platform_parameters: 5,
  get_features: 6,
  pagesize: 7,
  guest_handle: 8,
  commandline: 9,
  build_id: 10,
} as const;
const names = new Map<number, string>(Object.entries(XENVER).map(([k, v]) => [v, `XENVER_${k}`]));

/** XENFEAT_* bits a guest of this Xen can see in submap 0 (public/features.h). */
export const XENFEAT = {
  writable_page_tables: 0,
  auto_translated_physmap: 2,
  dom0: 11,
  memory_op_vnode_supported: 13,
  ARM_SMCCC_supported: 14,
  not_direct_mapped: 16,
  direct_mapped: 17,
} as const;

/**
 * The strings a Xen build reports. Defaults are those of Debian's xen-hypervisor-4.17-arm64
 * (package 4.17.7+13-g2445b30a44-0+deb12u1) as a domU reads them through XENVER_* under the
 * real hypervisor (test/golden/evtchn-conformance.*): extraversion ".7", an empty changeset.
 */
export interface XenBuildInfo {
  major: number;
  minor: number;
  extraversion: string;
  compiler: string;
  compileBy: string;
  compileDomain: string;
  compileDate: string;
  changeset: string;
  commandline: string;
  /** HYPERVISOR_VIRT_START as XENVER_platform_parameters reports it (arm64 4.17: XEN_VIRT_START). */
  virtStart: bigint;
}

export const DEBIAN_XEN_4_17: XenBuildInfo = {
  major: 4,
  minor: 17,
  extraversion: '.7',
  compiler: 'aarch64-linux-gnu-gcc (Debian 12.2.0-14+deb12u1) 12.2.0',
  compileBy: 'pkg-xen-devel',
  compileDomain: 'lists.alioth.debian.org',
  compileDate: 'Wed Nov  4 16:52:28 UTC 2026',
  changeset: '',
  commandline: '',
  virtStart: 0x200000n,
};

/** What XSM hides behind for sub-ops a domain may not see (xen_deny()). */
const DENIED = '<denied>';

/** Lengths of the fixed char arrays (public/version.h). */
const EXTRAVERSION_LEN = 16;
const CAPABILITIES_LEN = 1024;
const CHANGESET_LEN = 64;
const COMMANDLINE_LEN = 1024;
const DOMAIN_HANDLE_LEN = 16;

export const XenFeatureInfo = layout('xen_feature_info', 8, { submap_idx: [0, 'u32'], submap: [4, 'u32'] });
export const XenPlatformParameters = layout('xen_platform_parameters', 8, { virt_start: [0, 'u64'] });

/** copy_to_guest of a result: page by page, so a buffer running off RAM is partly written (see guest-handle.ts). */
function putBytes(g: GuestHandles, va: bigint, bytes: Uint8Array): number {
  return g.copyTo(va, bytes) ? 0 : -Errno.EFAULT;
}

/** A C string in a fixed array: truncated to leave the NUL, zero-padded (safe_strcpy + memset). */
function cstring(s: string, len: number): Uint8Array {
  const out = new Uint8Array(len);
  const b = new TextEncoder().encode(s).subarray(0, len - 1);
  out.set(b);
  return out;
}

/**
 * HYPERVISOR_xen_version. Under the dummy policy a domU may read version, extraversion,
 * compile_info, capabilities, changeset, platform_parameters, get_features, pagesize and
 * guest_handle; commandline is "<denied>" and build_id -EPERM. Unknown sub-ops -ENOSYS.
 */
export function xenVersion(build: XenBuildInfo = DEBIAN_XEN_4_17): HypercallHandler {
  return (ctx, a) => {
    const cmd = Number(BigInt.asIntN(32, a[0] ?? 0n));
    const arg = handle(a[1]);
    const me = ctx.domain;
    ctx.op = names.get(cmd) ?? `XENVER_${cmd}`;
    // (No closures in here: tsx's keepNames wraps each one created per call in defineProperty.)
    const put = putBytes;
    // xsm_xen_version: everything but the always-public sub-ops needs XSM_PRIV.
    const deny = cmd > XENVER.guest_handle && !me.privileged;

    switch (cmd) {
      case XENVER.version:
        return (build.major << 16) | build.minor;
      case XENVER.extraversion:
        ctx.out = { extraversion: build.extraversion };
        return put(ctx.guest, arg, cstring(build.extraversion, EXTRAVERSION_LEN));
      case XENVER.compile_info: {
        const b = new Uint8Array(64 + 16 + 32 + 32);
        b.set(cstring(build.compiler, 64), 0);
        b.set(cstring(build.compileBy, 16), 64);
        b.set(cstring(build.compileDomain, 32), 80);
        b.set(cstring(build.compileDate, 32), 112);
        return put(ctx.guest, arg, b);
      }
      case XENVER.capabilities: {
        const caps = `xen-3.0-aarch64 xen-3.0-armv7l `;
        ctx.out = { capabilities: caps };
        return put(ctx.guest, arg, cstring(caps, CAPABILITIES_LEN));
      }
      case XENVER.changeset:
        return put(ctx.guest, arg, cstring(build.changeset, CHANGESET_LEN));
      case XENVER.platform_parameters: {
        // struct xen_platform_parameters is one u64, copied out whole (page by page, as the rest).
        const b = new Uint8Array(XenPlatformParameters.size);
        new DataView(b.buffer).setBigUint64(XenPlatformParameters.fields.virt_start[0], BigInt(build.virtStart), true);
        return put(ctx.guest, arg, b);
      }
      case XENVER.get_features: {
        const s = readStruct(ctx.guest, arg, XenFeatureInfo);
        if (!s) return -Errno.EFAULT;
        ctx.args = { submap_idx: s.submap_idx };
        if (s.submap_idx !== 0) return -Errno.EINVAL;
        // Arm guests are always translated; no dom0less domU is direct-mapped here.
        let submap =
          (1 << XENFEAT.memory_op_vnode_supported) |
          (1 << XENFEAT.writable_page_tables) |
          (1 << XENFEAT.auto_translated_physmap) |
          (1 << XENFEAT.ARM_SMCCC_supported) |
          (1 << XENFEAT.not_direct_mapped);
        if (me.privileged) submap |= 1 << XENFEAT.dom0;
        ctx.out = { submap };
        return writeFields(ctx.guest, arg, XenFeatureInfo, { submap: submap >>> 0 }) ? 0 : -Errno.EFAULT;
      }
      case XENVER.pagesize:
        return a[1] !== undefined && a[1] !== 0n ? -Errno.EINVAL : PAGE_SIZE;
      case XENVER.guest_handle:
        // dom0less domains are created with an all-zero handle.
        return put(ctx.guest, arg, new Uint8Array(DOMAIN_HANDLE_LEN));
      case XENVER.commandline:
        if (deny) return put(ctx.guest, arg, cstring(DENIED, DENIED.length + 1));
        return put(ctx.guest, arg, cstring(build.commandline, COMMANDLINE_LEN));
      case XENVER.build_id:
        return deny ? -Errno.EPERM : -Errno.ENOSYS;
      default:
        ctx.args = { cmd, arg: a[1] ?? 0n };
        return -Errno.ENOSYS;
    }
  };
}
