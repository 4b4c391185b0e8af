/**
 * The guest's memory as its vCPU sees it at an exit: instructions the hypervisor decodes (the
 * HVC immediate, WFI, a trapped system register, a faulting load/store) are fetched through the
 * guest's stage-1 translation at the EL it runs at, as the CPU fetched them, not read at the
 * physical address. With the MMU off (SCTLR_EL1.M = 0, which the native system-register hook
 * tracks without asking the engine) a fetch is one bounds-checked read of RAM, as before.
 */
import type { GuestMemory } from '../mem/guest-memory.ts';
import { copyFromGuest, copyToGuest, GuestPageCache, type GuestCopyCtx } from './guest-copy.ts';
import { translateStage1, type AccessKind, type Stage1Regs, type Stage1Result } from './mmu.ts';

/** Implemented physical address size of the Cortex-A57 (ID_AA64MMFR0_EL1.PARange = 44 bits). */
const PA_LIMIT = 1n << 44n;

export interface Stage1Source {
  /** SCTLR_EL1.M, cheaply. */
  mmuOn(): boolean;
  /** SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1 as the engine holds them now. */
  regs(): Stage1Regs;
}

export class GuestView {
  constructor(
    private readonly memory: GuestMemory,
    private readonly src: Stage1Source,
  ) {}

  private readonly readDesc = (pa: bigint): bigint | undefined => (pa < PA_LIMIT ? this.memory.readU64(Number(pa)) : undefined);

  /** Stage-1 translation of one access at EL `el` with the current registers. */
  translate(va: bigint, kind: AccessKind, el: 0 | 1, regs = this.src.regs()): Stage1Result {
    return translateStage1(this.readDesc, regs, { va, kind, el });
  }

  /** The instruction at `va` as EL `el` would fetch it, or undefined when it does not translate or is not RAM. */
  fetch(va: bigint, el: 0 | 1): number | undefined {
    if (!this.src.mmuOn()) return va < PA_LIMIT ? this.memory.readU32(Number(va)) : undefined;
    const r = this.translate(va, 'fetch', el);
    return r.ok && r.pa < PA_LIMIT ? this.memory.readU32(Number(r.pa)) : undefined;
  }

  /**
   * Guest-physical address of `va` as a debugger sees it: the EL1 translation regime (TTBR0 and
   * TTBR1 both reachable, whatever EL the vCPU stopped at), needing only a valid mapping: a
   * debugger reads any mapped page and may patch read-only code (breakpoints in kernel text).
   * Identity with the MMU off. Undefined when stage 1 faults.
   */
  debugAddress(va: bigint): bigint | undefined {
    if (!this.src.mmuOn()) return va < PA_LIMIT ? va : undefined;
    const r = this.translate(va, 'read', 1);
    return r.ok ? r.pa : undefined;
  }

  /**
   * The guest's buffers as Xen reaches them during one hypercall (copy_{from,to}_guest): guest
   * virtual addresses through the EL1 stage-1 view, page by page. The registers are read at the
   * first copy and the page cache lives for this object only: create one per hypercall, since
   * the guest's TLB maintenance does not trap here. Undefined with the MMU off: VA = IPA, the
   * Xen layer's own guest-physical view (src/xen/guest-handle.ts physicalHandles) applies.
   */
  buffers(): GuestBuffers | undefined {
    if (!this.src.mmuOn()) return undefined;
    let ctx: GuestCopyCtx | undefined;
    const at = (): GuestCopyCtx => (ctx ??= { ram: this.memory, regs: this.src.regs(), cache: new GuestPageCache() });
    return {
      copyFrom: (va, len) => {
        const r = copyFromGuest(at(), va, len);
        return r.ok ? r.bytes : undefined;
      },
      copyTo: (va, bytes) => copyToGuest(at(), va, bytes).ok,
    };
  }
}

/** copy_from_guest / copy_to_guest on guest virtual addresses (the Xen layer's GuestHandles). */
export interface GuestBuffers {
  copyFrom(va: bigint, len: number): Uint8Array | undefined;
  copyTo(va: bigint, bytes: Uint8Array): boolean;
}
