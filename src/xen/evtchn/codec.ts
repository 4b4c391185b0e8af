import type { GuestMemory } from '../../mem/guest-memory.ts';
import type { HypercallCtx } from '../hypercall.ts';

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

/** copy_from_guest: the decoded struct, or undefined when any byte is not guest RAM. */
export function readStruct<F extends FieldMap>(mem: GuestMemory, gpa: number, l: StructLayout<F>): Decoded<F> | undefined {
  if (!mem.contains(gpa, l.size)) return undefined;
  const out: Record<string, number | bigint> = {};
  const list = l.list;
  for (let i = 0; i < list.length; i++) {
    const [name, off, kind] = list[i];
    const a = gpa + off;
    out[name] =
      kind === 'u8' ? mem.readU8(a)! : kind === 'u16' ? mem.readU16(a)! : kind === 'u32' ? mem.readU32(a)! : mem.readU64(a)!;
  }
  return out as Decoded<F>;
}

/** __copy_to_guest of the named fields; false when the struct is not in guest RAM. */
export function writeFields<F extends FieldMap>(
  mem: GuestMemory,
  gpa: number,
  l: StructLayout<F>,
  values: Partial<Decoded<F>>,
): boolean {
  if (!mem.contains(gpa, l.size)) return false;
  for (const [name, v] of Object.entries(values) as [string, number | bigint][]) {
    const [off, kind] = l.fields[name];
    const a = gpa + off;
    if (kind === 'u8') mem.writeU8(a, Number(v));
    else if (kind === 'u16') mem.writeU16(a, Number(v));
    else if (kind === 'u32') mem.writeU32(a, Number(v));
    else mem.writeU64(a, BigInt(v));
  }
  return true;
}

/**
 * On Arm, Xen translates hypercall pointers as guest *virtual* addresses with the vCPU's
 * stage-1 tables. The machine may supply this; the default is the identity (MMU off, or a
 * 1:1 map), and a struct is assumed not to straddle differently-mapped pages.
 */
export type TranslateVa = (ctx: HypercallCtx, va: number) => number;
export const identityVa: TranslateVa = (_ctx, va) => va;

/** A hypercall argument register as a guest address (a pointer that cannot be RAM stays so). */
const MAX_POINTER = BigInt(Number.MAX_SAFE_INTEGER);

export function pointer(x: bigint): number {
  // Register values arrive as unsigned 64-bit bigints; anything past 2^53 is not guest RAM.
  return x >= 0n && x <= MAX_POINTER ? Number(x) : -1;
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
