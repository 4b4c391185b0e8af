import type { GuestMemory } from '../../mem/guest-memory.ts';
import type { GuestHandles } from '../guest-handle.ts';

/**
 * Guest argument structs, decoded only here at the hypercall edge. Layouts follow AAPCS64
 * as arch-arm.h requires (natural alignment, little endian); offsets are from
 * xen/include/public/event_channel.h, sched.h, memory.h, hvm/hvm_op.h, vcpu.h, version.h.
 *
 * Xen copies the whole struct in before it looks at any field (copy_from_guest) and, on
 * success, the whole struct back (__copy_to_guest): an unreadable argument is -EFAULT before
 * anything else is checked.
 */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64';
export type FieldMap = Readonly<Record<string, readonly [offset: number, kind: FieldKind]>>;
export type Decoded<F extends FieldMap> = { -readonly [K in keyof F]: F[K][1] extends 'u64' ? bigint : number };

export interface StructLayout<F extends FieldMap> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  /** The fields in declaration order, listed once: readStruct runs on every hypercall with an
   *  argument struct, and Object.entries() there was its main cost. */
  readonly list: readonly (readonly [name: string, offset: number, kind: FieldKind])[];
}

export function layout<const F extends FieldMap>(name: string, size: number, fields: F): StructLayout<F> {
  const list = Object.entries(fields).map(([n, [off, kind]]) => [n, off, kind] as const);
  return { name, size, fields, list };
}

function decodeField(v: DataView, off: number, kind: FieldKind): number | bigint {
  return kind === 'u8' ? v.getUint8(off) : kind === 'u16' ? v.getUint16(off, true) : kind === 'u32' ? v.getUint32(off, true) : v.getBigUint64(off, true);
}

const MAX_ADDR = BigInt(Number.MAX_SAFE_INTEGER);

/** The guest-physical address of an identity handle whose struct is wholly RAM, else -1. */
function inPlace(mem: GuestMemory, va: bigint, size: number): number {
  if (va > MAX_ADDR) return -1;
  const gpa = Number(va);
  return mem.contains(gpa, size) ? gpa : -1;
}

/** copy_from_guest of a whole struct at the handle `va`: the decoded fields, or undefined (-EFAULT). */
export function readStruct<F extends FieldMap>(g: GuestHandles, va: bigint, l: StructLayout<F>): Decoded<F> | undefined {
  const list = l.list;
  const out: Record<string, number | bigint> = {};
  const mem = g.identity;
  if (mem) {
    // MMU off: the struct is read in place (a copy would cost more than the call on the
    // event-channel fast path). Wholly RAM or -EFAULT, as the copy would be.
    const gpa = inPlace(mem, va, l.size);
    if (gpa < 0) return undefined;
    for (let i = 0; i < list.length; i++) {
      const [name, off, kind] = list[i];
      const a = gpa + off;
      out[name] = kind === 'u8' ? mem.readU8(a)! : kind === 'u16' ? mem.readU16(a)! : kind === 'u32' ? mem.readU32(a)! : mem.readU64(a)!;
    }
    return out as Decoded<F>;
  }
  const bytes = g.copyFrom(va, l.size);
  if (!bytes) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < list.length; i++) {
    const [name, off, kind] = list[i];
    out[name] = decodeField(v, off, kind);
  }
  return out as Decoded<F>;
}

/**
 * copy_to_guest of the struct with `values` in place: Xen writes its whole local copy back
 * (what it read, plus the outputs), page by page, so that is what this does. The guest does
 * not run during a hypercall, so re-reading the struct gives what Xen had read. False (-EFAULT)
 * when a page cannot be written; the pages before it are written.
 */
export function writeFields<F extends FieldMap>(g: GuestHandles, va: bigint, l: StructLayout<F>, values: Partial<Decoded<F>>): boolean {
  const mem = g.identity;
  if (mem) {
    // In place: rewriting the other fields with the bytes they hold changes nothing.
    const gpa = inPlace(mem, va, l.size);
    if (gpa < 0) return false;
    for (const name in values) {
      const x = (values as Record<string, number | bigint>)[name];
      const [off, kind] = l.fields[name];
      if (kind === 'u8') mem.writeU8(gpa + off, Number(x));
      else if (kind === 'u16') mem.writeU16(gpa + off, Number(x));
      else if (kind === 'u32') mem.writeU32(gpa + off, Number(x));
      else mem.writeU64(gpa + off, BigInt(x));
    }
    return true;
  }
  const bytes = g.copyFrom(va, l.size);
  if (!bytes) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const name in values) {
    const x = (values as Record<string, number | bigint>)[name];
    const [off, kind] = l.fields[name];
    if (kind === 'u8') v.setUint8(off, Number(x));
    else if (kind === 'u16') v.setUint16(off, Number(x), true);
    else if (kind === 'u32') v.setUint32(off, Number(x) >>> 0, true);
    else v.setBigUint64(off, BigInt.asUintN(64, BigInt(x)), true);
  }
  return g.copyTo(va, bytes);
}

/** A hypercall argument register as a guest handle: all 64 bits, as Xen takes it. */
export function handle(x: bigint | undefined): bigint {
  return BigInt.asUintN(64, x ?? 0n);
}

// ---- event_channel.h ------------------------------------------------------------------

export const EVTCHNOP = {
  bind_interdomain: 0,
  bind_virq: 1,
  bind_pirq: 2,
  close: 3,
  send: 4,
  status: 5,
  alloc_unbound: 6,
  bind_ipi: 7,
  bind_vcpu: 8,
  unmask: 9,
  reset: 10,
  init_control: 11,
  expand_array: 12,
  set_priority: 13,
  reset_cont: 14,
} as const;

const evtchnOpNames = new Map<number, string>(Object.entries(EVTCHNOP).map(([k, v]) => [v, `EVTCHNOP_${k}`]));
export const evtchnOpName = (cmd: number): string => evtchnOpNames.get(cmd) ?? `EVTCHNOP_${cmd}`;

export const EvtchnBindInterdomain = layout('evtchn_bind_interdomain', 12, {
  remote_dom: [0, 'u16'],
  remote_port: [4, 'u32'],
  local_port: [8, 'u32'],
});
export const EvtchnBindVirq = layout('evtchn_bind_virq', 12, {
  virq: [0, 'u32'],
  vcpu: [4, 'u32'],
  port: [8, 'u32'],
});
export const EvtchnBindPirq = layout('evtchn_bind_pirq', 12, {
  pirq: [0, 'u32'],
  flags: [4, 'u32'],
  port: [8, 'u32'],
});
export const EvtchnPortArg = layout('evtchn_port', 4, { port: [0, 'u32'] });
/** status: the union `u` at 16 is unbound.dom (u16) / interdomain.{dom u16, port u32 at 20} / pirq / virq (u32). */
export const EvtchnStatusArg = layout('evtchn_status', 24, {
  dom: [0, 'u16'],
  port: [4, 'u32'],
  status: [8, 'u32'],
  vcpu: [12, 'u32'],
  u_dom: [16, 'u16'],
  u_word: [16, 'u32'],
  u_port: [20, 'u32'],
});
export const EvtchnAllocUnbound = layout('evtchn_alloc_unbound', 8, {
  dom: [0, 'u16'],
  remote_dom: [2, 'u16'],
  port: [4, 'u32'],
});
export const EvtchnBindIpi = layout('evtchn_bind_ipi', 8, { vcpu: [0, 'u32'], port: [4, 'u32'] });
export const EvtchnBindVcpu = layout('evtchn_bind_vcpu', 8, { port: [0, 'u32'], vcpu: [4, 'u32'] });
export const EvtchnReset = layout('evtchn_reset', 2, { dom: [0, 'u16'] });
export const EvtchnInitControl = layout('evtchn_init_control', 24, {
  control_gfn: [0, 'u64'],
  offset: [8, 'u32'],
  vcpu: [12, 'u32'],
  link_bits: [16, 'u8'],
});
export const EvtchnExpandArray = layout('evtchn_expand_array', 8, { array_gfn: [0, 'u64'] });
export const EvtchnSetPriority = layout('evtchn_set_priority', 8, { port: [0, 'u32'], priority: [4, 'u32'] });
