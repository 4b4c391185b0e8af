/**
 * One domain's grant table, version 1 (xen/common/grant_table.c, 4.17, as Arm builds it).
 *
 * The shared frames are Xen's memory, not the guest's: here one host buffer of
 * max_grant_frames pages, allocated at domain creation (the host commits only the pages
 * touched). A guest sees frame i once it places it in its physmap with XENMEM_add_to_physmap
 * (XENMAPSPACE_grant_table); the machine then maps that page of this buffer into the guest's
 * address space, so the guest's stores to its grant entries land here with no copy, as with
 * Xen's own frames. Arm has no version 2 (GNTTAB_MAX_VERSION is 1 there).
 */
import { GRANT_ENTRIES_PER_FRAME, GRANT_ENTRY_V1_SIZE } from './layout.ts';

export const PAGE_SIZE = 4096;
/** opt_max_grant_frames / opt_max_maptrack_frames: a dom0less domU is created with the defaults. */
export const DEFAULT_MAX_GRANT_FRAMES = 64;
export const DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
/** gnttab_grow_table's floor: a new table has this many frames (INITIAL_NR_GRANT_FRAMES). */
export const INITIAL_NR_GRANT_FRAMES = 1;
/** struct grant_mapping is 16 bytes: 256 handles per maptrack frame. */
const MAPTRACK_PER_FRAME = PAGE_SIZE / 16;

/** Xen's active entry: pins taken by mappings of one of this table's entries. */
export interface ActiveEntry {
  /** GNTPIN_host{r,w}: read-only and writable host mappings of the entry. */
  pinRead: number;
  pinWrite: number;
  /** The grantee, once pinned (act->domid). */
  domid: number;
  /** The granted frame (a gfn of the granting domain), as the entry said when first pinned. */
  frame: number;
}

/** One maptrack handle of the mapping domain (struct grant_mapping). */
export interface GrantMapping {
  /** The granting domain and its grant reference. */
  domid: number;
  ref: number;
  readonly: boolean;
  /** Guest-physical address of the page in the mapping domain. */
  hostAddr: bigint;
}

export class GrantTable {
  /** gt_version: 0 until the guest sets the table up (setup_table, a frame mapped, set_version). */
  version = 0;
  nrFrames = INITIAL_NR_GRANT_FRAMES;
  readonly shared: Uint8Array;
  private readonly view: DataView;
  /** Where frame i sits in the guest's physmap (Arm's shared_gfn[]; undefined = INVALID_GFN). */
  readonly frameGfn: (bigint | undefined)[];
  readonly active = new Map<number, ActiveEntry>();
  readonly maptrack: (GrantMapping | undefined)[] = [];

  constructor(
    readonly maxFrames = DEFAULT_MAX_GRANT_FRAMES,
    readonly maxMaptrackFrames = DEFAULT_MAX_MAPTRACK_FRAMES,
  ) {
    this.shared = new Uint8Array(maxFrames * PAGE_SIZE);
    this.view = new DataView(this.shared.buffer);
    this.frameGfn = new Array(maxFrames).fill(undefined);
  }

  get nrEntries(): number {
    return this.nrFrames * GRANT_ENTRIES_PER_FRAME;
  }

  /** gnttab_grow_table: frames up to `n` exist from now on (Xen zeroes new ones; ours are zero). */
  grow(n: number): boolean {
    if (n > this.maxFrames) return false;
    if (n > this.nrFrames) this.nrFrames = n;
    return true;
  }

  /** The bytes of frame `i`, to be mapped into the guest. */
  frame(i: number): Uint8Array {
    return this.shared.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  }

  entryFlags(ref: number): number {
    return this.view.getUint16(ref * GRANT_ENTRY_V1_SIZE, true);
  }
  entryDomid(ref: number): number {
    return this.view.getUint16(ref * GRANT_ENTRY_V1_SIZE + 2, true);
  }
  entryFrame(ref: number): number {
    return this.view.getUint32(ref * GRANT_ENTRY_V1_SIZE + 4, true);
  }
  setEntryFlags(ref: number, flags: number): void {
    this.view.setUint16(ref * GRANT_ENTRY_V1_SIZE, flags, true);
  }

  /** get_maptrack_handle: the lowest free handle, or undefined when the maptrack is full. */
  newHandle(m: GrantMapping): number | undefined {
    let h = this.maptrack.findIndex((x) => x === undefined);
    if (h < 0) {
      if (this.maptrack.length >= this.maxMaptrackFrames * MAPTRACK_PER_FRAME) return undefined;
      h = this.maptrack.length;
      this.maptrack.push(undefined);
    }
    this.maptrack[h] = m;
    return h;
  }
}
