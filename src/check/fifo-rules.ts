/**
 * The FIFO event-channel ABI's guest-side rules (rules.ts: fifo-plain-store, fifo-guest-set,
 * fifo-local-unmask, fifo-head; fifo-ready is judged when the upcall handler returns, in
 * checker.ts). Facts from xen/include/public/event_channel.h (Xen 4.17), in our words:
 *
 * - each port has a 32-bit event word in a page the guest gave Xen with EVTCHNOP_expand_array
 *   (1024 words a page): bit 31 PENDING, 30 MASKED, 29 LINKED, 28 BUSY, bits 0..16 LINK;
 * - each vCPU has a control block (EVTCHNOP_init_control: gfn and offset): `ready` (u32, one
 *   bit per priority whose queue is non-empty), a reserved u32, then head[16] (u32 ports);
 * - Xen sets PENDING, links a pending unmasked port (LINKED and the tail's LINK, or head[] and
 *   the `ready` bit of an empty queue); the guest may set/clear MASKED, clear PENDING, and take
 *   a port off its queue by clearing LINKED together with LINK. Xen changes the same words from
 *   another CPU, so every guest change is an atomic read-modify-write.
 *
 * The hooks (store-rules.ts `watch`) are added when init_control / expand_array succeed, so a
 * guest's initialisation of a page before it hands it to Xen is not seen.
 */
import { EVTCHN_FIFO, FifoControlBlock } from '../xen/evtchn/fifo.ts';
import { PAGE_SIZE } from '../xen/evtchn/layout.ts';
import type { StoreClass } from './insn-class.ts';
import { isAtomicUpdate } from './insn-class.ts';
import type { DomainCheck, Reporter } from './domain-check.ts';
import { blockClass, locateStore, type Located } from './store-rules.ts';

const PENDING = (1 << EVTCHN_FIFO.PENDING) >>> 0;
const MASKED = 1 << EVTCHN_FIFO.MASKED;
const LINKED = 1 << EVTCHN_FIFO.LINKED;
const BUSY = 1 << EVTCHN_FIFO.BUSY;
const LINK = EVTCHN_FIFO.LINK_MASK;

/** A 32-bit word of the FIFO pages: a port's event word, a vCPU's `ready`, or one of its head[]. */
type FifoWord = { kind: 'event'; port: number } | { kind: 'ready'; vcpu: number } | { kind: 'head'; vcpu: number; q: number } | { kind: 'reserved' };

/** What the aligned word at `gpa` is, undefined when it is not in the FIFO pages. */
function fifoWord(c: DomainCheck, gpa: number): FifoWord | undefined {
  const f = c.fifo;
  if (!f) return undefined;
  for (const [vcpu, cb] of f.controlBlocks) {
    if (gpa < cb || gpa >= cb + FifoControlBlock.size) continue;
    const o = gpa - cb;
    if (o === FifoControlBlock.ready) return { kind: 'ready', vcpu };
    if (o >= FifoControlBlock.head) return { kind: 'head', vcpu, q: (o - FifoControlBlock.head) >> 2 };
    return { kind: 'reserved' };
  }
  for (let i = 0; i < f.arrayPages.length; i++) {
    const p = f.arrayPages[i];
    if (gpa >= p && gpa < p + PAGE_SIZE) return { kind: 'event', port: i * EVTCHN_FIFO.WORDS_PER_PAGE + ((gpa - p) >> 2) };
  }
  return undefined;
}

/** How a racy store did it, for a report's text (built only when a report is made). */
function storeHow(k: StoreClass | 'unknown'): string {
  return `a ${k} store (${k === 'release' ? 'STLR' : 'not an exclusive or LSE atomic'})`;
}

/** Checks a guest store against the FIFO rules; false when it does not touch the FIFO pages. */
export function checkFifoStore(c: DomainCheck, r: Reporter, address: bigint, size: number, value: bigint): boolean {
  const gpa = Number(address);
  const first = gpa & ~3;
  const last = (gpa + size - 1) & ~3;
  if (fifoWord(c, first) === undefined && fifoWord(c, last) === undefined) return false;
  const mem = c.d.memory;
  let loc: Located | undefined;
  const at = () => (loc ??= locateStore(c, address, size, value)).pc;
  let cls: StoreClass | 'unknown' | undefined;
  const storeClass = () => (cls ??= blockClass(c, size) ?? (loc ??= locateStore(c, address, size, value)).cls);
  for (let w = first; w <= last; w += 4) {
    const f = fifoWord(c, w);
    if (!f || f.kind === 'reserved') continue;
    const old = mem.readU32(w);
    if (old === undefined) continue;
    // The word as it will be: the stored bytes over the old ones.
    let now = old;
    for (let b = 0; b < 4; b++) {
      const a = w + b;
      if (a < gpa || a >= gpa + size) continue;
      const byte = Number((value >> BigInt(8 * (a - gpa))) & 0xffn);
      now = ((now & ~(0xff << (8 * b))) | (byte << (8 * b))) >>> 0;
    }
    const changed = (old ^ now) >>> 0;
    if (changed === 0) continue;
    if (f.kind === 'head') {
      r.report(c, 'fifo-head', at(), now || old, `head[${f.q}] of vCPU ${f.vcpu}'s control block written by the guest (0x${old.toString(16)} -> 0x${now.toString(16)}): only Xen writes the heads`);
      continue;
    }
    const k = storeClass();
    const racy = k !== 'unknown' && !isAtomicUpdate(k);
    if (f.kind === 'ready') {
      if (racy) r.report(c, 'fifo-plain-store', at(), undefined, `ready of vCPU ${f.vcpu}'s control block changed by ${storeHow(k)}, which loses a ready bit Xen sets in between`);
      continue;
    }
    const port = f.port;
    if (racy) r.report(c, 'fifo-plain-store', at(), port, `event word of port ${port} changed by ${storeHow(k)}, which loses a PENDING or LINK Xen writes in between`);
    const set = (now & ~old) >>> 0;
    if (set & (PENDING | LINKED | BUSY)) {
      const names = [set & PENDING ? 'PENDING' : '', set & LINKED ? 'LINKED' : '', set & BUSY ? 'BUSY' : ''].filter(Boolean);
      r.report(c, 'fifo-guest-set', at(), port, `the guest set ${names.join(' and ')} in the event word of port ${port}, which only Xen sets`);
    } else if (changed & LINK && (now & LINK) !== 0) r.report(c, 'fifo-guest-set', at(), port, `the guest wrote LINK = ${now & LINK} in the event word of port ${port}: only Xen links ports (the guest clears LINK together with LINKED)`);
    if (old & MASKED && !(now & MASKED) && now & PENDING && !(now & LINKED)) {
      r.report(c, 'fifo-local-unmask', at(), port, `MASKED of port ${port} cleared by the guest's own store while the port is PENDING and on no queue: Xen never links this event (unmask with EVTCHNOP_unmask)`);
    }
  }
  return true;
}
