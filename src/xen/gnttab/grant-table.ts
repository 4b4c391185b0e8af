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
import { PAGE_SIZE } from '../evtchn/layout.ts';
import { GRANT_ENTRIES_PER_FRAME, GRANT_ENTRY_V1_SIZE } from './layout.ts';

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
  /** gt_version: 1 from creation (the real Xen 4.17 answers 1 before any set-up); Arm has no 2. */
  version = 1;
  nrFrames = INITIAL_NR_GRANT_FRAMES;
  readonly shared: Uint8Array;
  private readonly view: DataView;
  /** Where frame i sits in the guest's physmap (Arm's shared_gfn[]; undefined = INVALID_GFN). */
  readonly frameGfn: (bigint | undefined)[];
  readonly active = new Map<number, ActiveEntry>();
  readonly maptrack: (GrantMapping | undefined)[] = [];
  /**
   * Free maptrack handles in the order Xen hands them out: a vCPU's free list takes from its
   * head and gives back at its tail, and it always keeps one entry (a new maptrack page of 256
   * handles is added instead of taking the last). So a handle freed by a failed map is not the
   * next one given: the real Xen 4.17 gives handle 3 to a map after three failed ones.
   */
  private readonly freeHandles: number[] = [];

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

  /** get_maptrack_handle: the next handle of the free list, or undefined when the maptrack is full. */
  takeHandle(): number | undefined {
    if (this.freeHandles.length <= 1) {
      const limit = this.maptrack.length;
      if (limit >= this.maxMaptrackFrames * MAPTRACK_PER_FRAME) return undefined;
      for (let i = 0; i < MAPTRACK_PER_FRAME; i++) {
        this.maptrack.push(undefined);
        this.freeHandles.push(limit + i);
      }
    }
    return this.freeHandles.shift();
  }

  /** put_maptrack_handle: back at the tail of the free list. */
  putHandle(h: number): void {
    this.maptrack[h] = undefined;
    this.freeHandles.push(h);
  }
}
