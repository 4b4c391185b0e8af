// The hypercall rules read a call's arguments as the hypervisor does: through the handles the
// call used (guest virtual addresses, translated by the vCPU), not at the pointer taken as a
// guest-physical address. A guest whose buffer sits at a VA with no RAM behind it as a PA
// (Linux's kernel addresses) must still have its rule breaks seen.
import { describe, expect, it } from 'vitest';
import { checkHypercall } from '../../src/check/hypercall-rules.ts';
import { DomainCheck, type Reporter } from '../../src/check/domain-check.ts';
import type { MachineDomain } from '../../src/machine/domain.ts';
import type { GuestHandles } from '../../src/xen/guest-handle.ts';
import { Hypercall } from '../../src/xen/abi.ts';
import { EVTCHNOP } from '../../src/xen/evtchn/codec.ts';
import { Errno } from '../../src/xen/errno.ts';

/** One 4 KiB buffer at a kernel virtual address, as a vCPU with its MMU on would translate it. */
function kernelBuffer(va: bigint): { guest: GuestHandles; bytes: Uint8Array } {
  const bytes = new Uint8Array(4096);
  const inside = (a: bigint, len: number) => a >= va && a + BigInt(len) <= va + 4096n;
  return {
    bytes,
    guest: {
      copyFrom: (a, len) => (inside(a, len) ? bytes.slice(Number(a - va), Number(a - va) + len) : undefined),
      copyTo: (a, b) => {
        if (!inside(a, b.length)) return false;
        bytes.set(b, Number(a - va));
        return true;
      },
    },
  };
}

describe('hypercall rules through guest virtual handles', () => {
  it('sees use-after-close when the evtchn argument is at a kernel VA', () => {
    const domain = { domid: 1, vcpus: [{}], symbols: [], symbolAt: () => undefined } as unknown as MachineDomain;
    const c = new DomainCheck(domain);
    const reports: string[] = [];
    const r: Reporter = {
      report: (_c, rule, pc, port, message) => void reports.push(`${rule} port ${port} at 0x${pc.toString(16)}: ${message}`),
      note: () => {},
      context: () => [],
    };
    const VA = 0xffff_0000_4010_0000n; // no guest-physical RAM there
    const { guest, bytes } = kernelBuffer(VA);
    new DataView(bytes.buffer).setUint32(0, 5, true); // struct evtchn_close / evtchn_send: port 5
    const call = (cmd: number, result: number) => checkHypercall(c, r, Hypercall.event_channel_op, [BigInt(cmd), VA], result, 0x1000n, guest);
    call(EVTCHNOP.close, 0);
    call(EVTCHNOP.send, -Errno.EINVAL);
    expect(reports).toEqual(['use-after-close port 5 at 0x1000: EVTCHNOP_send on port 5 after this domain closed it (Xen: -EINVAL)']);
  });
});
