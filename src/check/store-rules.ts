/**
 * The rules seen in guest stores to shared_info and vcpu_info (rules.ts: local-unmask,
 * plain-store, selector-xchg, guest-set, upcall-order), and the dispatch of stores to the
 * FIFO ABI's pages (fifo-rules.ts). The pages are watched with an engine
 * memory-write hook on exactly their bytes, added when the guest maps them; the hook runs
 * before the store lands, so memory holds the old bytes and the hook gives the new ones.
 */
import { SharedInfo, VcpuInfo, PAGE_SIZE } from '../xen/evtchn/layout.ts';
import { classifyStore, isAtomicUpdate, type StoreClass } from './insn-class.ts';
import { blockStores, classBySize } from './store-locator.ts';
import type { DomainCheck, Reporter } from './domain-check.ts';
import { checkFifoStore } from './fifo-rules.ts';

/** An ABI field a guest byte belongs to; `bit` is the number of the byte's first bit (the port, for bitmaps). */
type Field = { kind: 'pending' | 'mask'; word: number; bit: number } | { kind: 'sel'; bit: number; vcpu: number } | { kind: 'upcall'; vcpu: number } | { kind: 'other' };
/** The storing instruction, and its class ('unknown' when it could not be found). */
export type Located = { pc: bigint; cls: StoreClass | 'unknown' };

/** Watches shared_info and every vCPU's vcpu_info wherever the guest has them now (after a hypercall). */
export function watchSharedPages(c: DomainCheck, r: Reporter): void {
  const x = c.d.xen;
  const si = x.sharedInfoGpa;
  if (si !== c.sharedInfoGpa) {
    c.sharedInfoGpa = si;
    if (si !== undefined) watch(c, r, si, PAGE_SIZE);
  }
  for (const v of c.cpus) {
    const vi = x.vcpus[v.index]?.vcpuInfoGpa;
    if (vi !== v.vcpuInfoGpa) {
      v.vcpuInfoGpa = vi;
      if (vi !== undefined) watch(c, r, vi, VcpuInfo.size);
    }
  }
}

/**
 * Hooks guest stores to [gpa, gpa + len) on every vCPU's engine (each vCPU is an engine of its
 * own over the same RAM); a store reports as the vCPU whose engine made it.
 */
export function watch(c: DomainCheck, r: Reporter, gpa: number, len: number): void {
  // Hooks stay once added (the engine has no cheap removal), and store() resolves fields
  // against where the pages are now: hook only bytes no earlier hook covers, so each store
  // reports once (a vcpu_info registered inside shared_info, a page mapped back).
  let parts = [{ lo: gpa, hi: gpa + len }];
  for (const h of c.hooked) parts = parts.flatMap((p) => [{ lo: p.lo, hi: Math.min(p.hi, h.lo) }, { lo: Math.max(p.lo, h.hi), hi: p.hi }]).filter((p) => p.lo < p.hi);
  if (!parts.length) return;
  // Inside the hypercall: end this run so the hook is in place before the guest's next store
  // (the other vCPUs are not running now; theirs are in place before they run again).
  c.d.vcpus[c.cur].cpu.requestStop();
  for (const p of parts) {
    c.hooked.push(p);
    for (const v of c.d.vcpus) {
      const i = v.index;
      v.cpu.watchWrites(BigInt(p.lo), BigInt(p.hi - 1), (a, s, val) => {
        c.cur = i;
        checkStore(c, r, a, s, val);
      });
    }
  }
}

/** The vcpu_info of vCPU `i`: the registered one, else its legacy slot in shared_info (vCPU 0 only on Arm). */
function vcpuInfoOf(c: DomainCheck, i: number): number | undefined {
  const v = c.cpus[i];
  if (v.vcpuInfoGpa !== undefined) return v.vcpuInfoGpa;
  return i < SharedInfo.legacyMaxVcpus && c.sharedInfoGpa !== undefined ? c.sharedInfoGpa + SharedInfo.vcpuInfo + i * VcpuInfo.size : undefined;
}

/** What a guest address is, in the 2-level ABI's terms. */
function field(c: DomainCheck, gpa: number): Field {
  for (let i = 0; i < c.cpus.length; i++) {
    const vi = vcpuInfoOf(c, i);
    if (vi === undefined || gpa < vi || gpa >= vi + VcpuInfo.size) continue;
    const o = gpa - vi;
    if (o === VcpuInfo.upcallPending) return { kind: 'upcall', vcpu: i };
    if (o >= VcpuInfo.pendingSel && o < VcpuInfo.pendingSel + 8) return { kind: 'sel', bit: (o - VcpuInfo.pendingSel) * 8, vcpu: i };
    return { kind: 'other' };
  }
  const si = c.sharedInfoGpa;
  if (si === undefined) return { kind: 'other' };
  const o = gpa - si;
  if (o >= SharedInfo.evtchnPending && o < SharedInfo.evtchnMask) return { kind: 'pending', word: (o - SharedInfo.evtchnPending) >> 3, bit: (o - SharedInfo.evtchnPending) * 8 };
  if (o >= SharedInfo.evtchnMask && o < SharedInfo.evtchnMask + 512) return { kind: 'mask', word: (o - SharedInfo.evtchnMask) >> 3, bit: (o - SharedInfo.evtchnMask) * 8 };
  return { kind: 'other' };
}

export function checkStore(c: DomainCheck, r: Reporter, address: bigint, size: number, value: bigint): void {
  const gpa = Number(address);
  if (c.fifo && checkFifoStore(c, r, address, size, value)) return;
  // Most stores to the page are the ABI's; others (the rest of the page) leave at once.
  if (field(c, gpa).kind === 'other' && field(c, gpa + size - 1).kind === 'other') return;
  const mem = c.d.memory;
  const off = mem.offsetOf(gpa, size);
  if (off < 0) return;
  const ram = mem.bytes;
  const lo = Number(value & 0xffffffffn);
  const hi = Number((value >> 32n) & 0xffffffffn);
  // The instruction is looked for only when a rule needs it: its class usually follows from
  // the block alone (one kind of store in it); its exact PC only when a report is made.
  let loc: Located | undefined;
  let cls: StoreClass | 'unknown' | undefined;
  let racy: { kind: 'pending' | 'mask' | 'sel'; word: number; port?: number } | undefined;
  for (let i = 0; i < size; i++) {
    const was = ram[off + i];
    const is = ((i < 4 ? lo : hi) >>> (8 * (i & 3))) & 0xff;
    const f = field(c, gpa + i);
    if (f.kind === 'other') continue;
    if (f.kind === 'upcall') {
      if (is === 0) c.cpus[f.vcpu].upcallToClear = false;
      else if (was === 0) r.report(c, 'guest-set', (loc ??= locateStore(c, address, size, value)).pc, undefined, 'the guest set evtchn_upcall_pending, which only Xen sets (the guest clears it)');
      continue;
    }
    const firstBit = f.bit;
    if (cls === undefined) {
      cls = blockClass(c, size);
      if (cls === undefined) cls = (loc ??= locateStore(c, address, size, value)).cls;
    }
    const k = cls;
    if (k !== 'unknown' && !isAtomicUpdate(k)) {
      const changed = was ^ is;
      if (!racy || (racy.port === undefined && changed)) {
        racy = { kind: f.kind, word: f.kind === 'sel' ? 0 : f.word, port: changed && f.kind !== 'sel' ? firstBit + lowestBit(changed) : undefined };
      }
    }
    for (let b = 0; b < 8; b++) {
      const m = 1 << b;
      if ((was & m) === (is & m)) continue;
      const n = firstBit + b;
      const set = (is & m) !== 0;
      if (f.kind === 'mask' && !set && pendingBit(c, n)) {
        r.report(c, 'local-unmask', (loc ??= locateStore(c, address, size, value)).pc, n, `mask bit of port ${n} cleared by the guest's own store while the port is pending: Xen never delivers this event (unmask with EVTCHNOP_unmask)`);
      } else if (set && f.kind === 'pending') {
        r.report(c, 'guest-set', (loc ??= locateStore(c, address, size, value)).pc, n, `the guest set the pending bit of port ${n}, which only Xen sets`);
      } else if (set && f.kind === 'sel') {
        r.report(c, 'guest-set', (loc ??= locateStore(c, address, size, value)).pc, undefined, `the guest set bit ${n} of evtchn_pending_sel, which only Xen sets`, `sel${n}`);
      } else if (!set && f.kind === 'sel' && c.cpus[f.vcpu].upcallToClear) {
        r.report(c, 'upcall-order', (loc ??= locateStore(c, address, size, value)).pc, undefined, 'evtchn_pending_sel taken while evtchn_upcall_pending is still set from the interrupt: clear evtchn_upcall_pending first, then take the selector');
      }
    }
  }
  if (racy && cls !== undefined && cls !== 'unknown') {
    const how = `a ${cls} store (${cls === 'release' ? 'STLR' : 'not an exclusive or LSE atomic'})`;
    if (racy.kind === 'sel') r.report(c, 'selector-xchg', (loc ??= locateStore(c, address, size, value)).pc, undefined, `evtchn_pending_sel changed by ${how}: take the selector with an atomic exchange`);
    else r.report(c, 'plain-store', (loc ??= locateStore(c, address, size, value)).pc, racy.port, `evtchn_${racy.kind}[${racy.word}] changed by ${how}, a read-modify-write that loses any bit Xen sets in between`);
  }
}

function pendingBit(c: DomainCheck, port: number): boolean {
  const b = c.d.memory.readU8(c.sharedInfoGpa! + SharedInfo.evtchnPending + (port >> 3));
  return b !== undefined && (b & (1 << (port & 7))) !== 0;
}

/** The class of the running block's stores of `size` bytes, when they are all of one class. */
export function blockClass(c: DomainCheck, size: number): StoreClass | undefined {
  const v = c.d.vcpus[c.cur].cpu;
  const block = v.blockPc;
  if (block === undefined) return undefined;
  let k = c.blocks.get(block);
  if (k === undefined) {
    const el = ((v.pstate >>> 2) & 3) === 0 ? 0 : 1;
    k = blockStores(block, (pc) => v.view.fetch(pc, el));
    c.blocks.set(block, k);
  }
  return classBySize(k, size);
}

export function locateStore(c: DomainCheck, address: bigint, size: number, value: bigint): Located {
  const v = c.d.vcpus[c.cur].cpu;
  const block = v.blockPc;
  if (block === undefined) return { pc: v.pc, cls: 'unknown' };
  const el = ((v.pstate >>> 2) & 3) === 0 ? 0 : 1;
  const s = c.cpus[c.cur].locator.locate(block, v.retired, address, size, value, (pc) => v.view.fetch(pc, el), (n) => (n === 31 ? v.sp : v.x(n)));
  return s ? { pc: s.pc, cls: classifyStore(s.insn) } : { pc: block, cls: 'unknown' };
}

/** The number of the lowest set bit of a non-zero 32-bit value (its callers hold a byte or a word). */
export function lowestBit(v: number): number {
  return 31 - Math.clz32(v & -v);
}
