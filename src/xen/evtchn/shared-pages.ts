import type { XenDomain } from '../domain.ts';
import { PAGE_SIZE, SharedInfo, VcpuInfo } from './layout.ts';

/** A window of bytes: a buffer and the offset of the structure inside it. */
export interface ByteRef {
  readonly buf: Uint8Array;
  readonly off: number;
}

/**
 * Where a domain's shared_info and each vCPU's vcpu_info live right now.
 *
 * In Xen, shared_info is a Xen heap page that always exists; the guest only chooses where
 * to see it (XENMEM_add_to_physmap, XENMAPSPACE_shared_info). Our guest RAM is one host
 * buffer shared with the CPU engine, and a page cannot be remapped inside it, so:
 *  - until the guest maps it, shared_info is a private 4 KiB buffer (`xenPage`);
 *  - mapping it at a GPA copies that buffer over the RAM page and from then on the RAM page
 *    *is* shared_info (bits are set and read there);
 *  - unmapping (XENMEM_remove_from_physmap) copies the RAM page back into `xenPage`; the RAM
 *    page keeps a stale copy where Xen would leave a hole in the p2m.
 * The domain's `sharedInfoGpa` is the single source of truth for which one is live.
 *
 * vCPU 0's vcpu_info starts in shared_info's slot; other vCPUs start on Xen's one global
 * dummy vcpu_info (whatever Xen writes there is lost to the guest) until they register one
 * with VCPUOP_register_vcpu_info, which sets the vCPU's `vcpuInfoGpa`.
 */
export class SharedPages {
  readonly xenPage = new Uint8Array(PAGE_SIZE);

  constructor(
    readonly domain: XenDomain,
    /** Xen's dummy_vcpu_info: one per hypervisor, shared by every domain. */
    private readonly dummyVcpuInfo: Uint8Array,
  ) {}

  sharedInfo(): ByteRef {
    const gpa = this.domain.sharedInfoGpa;
    if (gpa !== undefined) {
      const off = this.domain.memory.offsetOf(gpa, PAGE_SIZE);
      if (off >= 0) return { buf: this.domain.memory.bytes, off };
    }
    return { buf: this.xenPage, off: 0 };
  }

  vcpuInfo(vcpuId: number): ByteRef {
    const v = this.domain.vcpus[vcpuId];
    if (v?.vcpuInfoGpa !== undefined) {
      const off = this.domain.memory.offsetOf(v.vcpuInfoGpa, VcpuInfo.size);
      if (off >= 0) return { buf: this.domain.memory.bytes, off };
    }
    if (vcpuId < SharedInfo.legacyMaxVcpus) {
      const s = this.sharedInfo();
      return { buf: s.buf, off: s.off + SharedInfo.vcpuInfo + vcpuId * VcpuInfo.size };
    }
    return { buf: this.dummyVcpuInfo, off: 0 };
  }

  /** True when the vCPU still uses the dummy (no vcpu_info of its own yet). */
  usesDummy(vcpuId: number): boolean {
    return this.domain.vcpus[vcpuId]?.vcpuInfoGpa === undefined && vcpuId >= SharedInfo.legacyMaxVcpus;
  }

  /** Makes the guest see shared_info at `gpa` (page-aligned, inside RAM: checked by the caller). */
  map(gpa: number): void {
    const off = this.domain.memory.offsetOf(gpa, PAGE_SIZE);
    if (off < 0) throw new RangeError(`shared_info GPA 0x${gpa.toString(16)} is not RAM`);
    const cur = this.sharedInfo();
    this.domain.memory.bytes.set(cur.buf.subarray(cur.off, cur.off + PAGE_SIZE), off);
    this.domain.sharedInfoGpa = gpa;
  }

  /** Takes shared_info back into Xen's private page. */
  unmap(): void {
    const cur = this.sharedInfo();
    if (cur.buf !== this.xenPage) this.xenPage.set(cur.buf.subarray(cur.off, cur.off + PAGE_SIZE));
    this.domain.sharedInfoGpa = undefined;
  }
}
