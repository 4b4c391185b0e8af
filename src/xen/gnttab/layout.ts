/**
 * Grant-table ABI, version 1, as xen/include/public/grant_table.h (4.17) defines it for arm64:
 * sub-op numbers, flag bits, status codes and the argument structs (AAPCS64 layout: natural
 * alignment, little endian; a XEN_GUEST_HANDLE is 8 bytes).
 */
import { layout } from '../evtchn/codec.ts';

export const GNTTABOP = {
  map_grant_ref: 0,
  unmap_grant_ref: 1,
  setup_table: 2,
  dump_table: 3,
  transfer: 4,
  copy: 5,
  query_size: 6,
  unmap_and_replace: 7,
  set_version: 8,
  get_status_frames: 9,
  get_version: 10,
  swap_grant_ref: 11,
  cache_flush: 12,
} as const;
const names = new Map<number, string>(Object.entries(GNTTABOP).map(([k, v]) => [v, `GNTTABOP_${k}`]));
export const gnttabOpName = (cmd: number): string => names.get(cmd) ?? `GNTTABOP_${cmd}`;

/** The low 12 bits of the command are the op; the rest is Xen's continuation state. */
export const GNTTABOP_CMD_MASK = 0xfffn;

/** grant_entry_v1.flags: the type in bits 0-1, then the status/attribute bits. */
export const GTF = {
  invalid: 0,
  permit_access: 1,
  accept_transfer: 2,
  transitive: 3,
  type_mask: 3,
  readonly: 1 << 2,
  reading: 1 << 3,
  writing: 1 << 4,
  sub_page: 1 << 8,
} as const;

/** gnttab_map_grant_ref.flags */
export const GNTMAP = {
  device_map: 1 << 0,
  host_map: 1 << 1,
  readonly: 1 << 2,
  application_map: 1 << 3,
  contains_pte: 1 << 4,
} as const;

/** gnttab_copy.flags */
export const GNTCOPY = { source_gref: 1 << 0, dest_gref: 1 << 1 } as const;

/** Per-op status codes (int16 in the structs). */
export const GNTST = {
  okay: 0,
  general_error: -1,
  bad_domain: -2,
  bad_gntref: -3,
  bad_handle: -4,
  bad_virt_addr: -5,
  bad_dev_addr: -6,
  no_device_space: -7,
  permission_denied: -8,
  bad_page: -9,
  bad_copy_arg: -10,
  address_too_big: -11,
  eagain: -12,
  no_space: -13,
} as const;
const stNames = new Map<number, string>(Object.entries(GNTST).map(([k, v]) => [v, `GNTST_${k}`]));
export const gntstName = (st: number): string => stNames.get(st) ?? `GNTST_${st}`;

/** grant_entry_v1: flags u16, domid u16, frame u32 — 512 entries per 4 KiB frame. */
export const GRANT_ENTRY_V1_SIZE = 8;
export const GRANT_ENTRIES_PER_FRAME = 4096 / GRANT_ENTRY_V1_SIZE;

export const GnttabMapGrantRef = layout('gnttab_map_grant_ref', 32, {
  host_addr: [0, 'u64'],
  flags: [8, 'u32'],
  ref: [12, 'u32'],
  dom: [16, 'u16'],
  status: [18, 'u16'],
  handle: [20, 'u32'],
  dev_bus_addr: [24, 'u64'],
});
export const GnttabUnmapGrantRef = layout('gnttab_unmap_grant_ref', 24, {
  host_addr: [0, 'u64'],
  dev_bus_addr: [8, 'u64'],
  handle: [16, 'u32'],
  status: [20, 'u16'],
});
export const GnttabSetupTable = layout('gnttab_setup_table', 24, {
  dom: [0, 'u16'],
  nr_frames: [4, 'u32'],
  status: [8, 'u16'],
  frame_list: [16, 'u64'],
});
export const GnttabQuerySize = layout('gnttab_query_size', 16, {
  dom: [0, 'u16'],
  nr_frames: [4, 'u32'],
  max_nr_frames: [8, 'u32'],
  status: [12, 'u16'],
});
export const GnttabSetVersion = layout('gnttab_set_version', 4, { version: [0, 'u32'] });
export const GnttabGetVersion = layout('gnttab_get_version', 8, { dom: [0, 'u16'], version: [4, 'u32'] });
/** gnttab_copy: source and dest are { union { ref u32; gmfn u64 } u; domid u16; offset u16 } (16 bytes). */
export const GnttabCopy = layout('gnttab_copy', 40, {
  src_ref: [0, 'u32'],
  src_gmfn: [0, 'u64'],
  src_domid: [8, 'u16'],
  src_offset: [10, 'u16'],
  dst_ref: [16, 'u32'],
  dst_gmfn: [16, 'u64'],
  dst_domid: [24, 'u16'],
  dst_offset: [26, 'u16'],
  len: [32, 'u16'],
  flags: [34, 'u16'],
  status: [36, 'u16'],
});

/** A status as the struct holds it (int16). */
export const st16 = (s: number): number => s & 0xffff;
