import type { GuestMemory } from '../../mem/guest-memory.ts';
import { PAGE_SIZE } from './layout.ts';
import type { EvtchnPortOps } from './port-ops.ts';

/*
 * The FIFO event-channel ABI as Xen 4.17 implements it (xen/common/event_fifo.c), facts from
 * xen/include/public/event_channel.h:
 *  - every port has a 32-bit event word in a guest page of the domain's *event array*
 *    (1024 words a page, added one page at a time by EVTCHNOP_expand_array);
 *  - bit 31 PENDING, 30 MASKED, 29 LINKED, 28 BUSY, bits 0..16 LINK (the next port in a queue);
 *  - each vCPU has a control block in a guest page (EVTCHNOP_init_control): `ready` (u32, one
 *    bit per priority with a non-empty queue), a reserved u32, then head[16] (u32 ports);
 *  - 16 queues per vCPU, priority 0 (highest) to 15 (lowest), 7 by default; Xen keeps each
 *    queue's tail to itself, the guest sees only the heads.
 * Xen and the guest share the words with atomic operations; here the guest never runs while
 * Xen code does (see GuestMemory), so each read-modify-write below is as atomic as Xen's
 * guest_test_and_set_bit / cmpxchg, and Xen's retry paths (the BUSY lock, the three tries to
 * take the queue locks) can never be taken: their outcome is that of the first try.
 */

export const EVTCHN_FIFO = {
  PENDING: 31,
  MASKED: 30,
  LINKED: 29,
  BUSY: 28,
  LINK_BITS: 17,
  LINK_MASK: (1 << 17) - 1,
  /** 2^17 ports: the most a LINK field can name. */
  NR_CHANNELS: 1 << 17,
  PRIORITY_MAX: 0,
  PRIORITY_DEFAULT: 7,
  PRIORITY_MIN: 15,
  MAX_QUEUES: 16,
  WORDS_PER_PAGE: PAGE_SIZE / 4,
  MAX_EVENT_ARRAY_PAGES: (1 << 17) / (PAGE_SIZE / 4),
} as const;

/** struct evtchn_fifo_control_block (72 bytes). */
export const FifoControlBlock = { ready: 0, head: 8, size: 72 } as const;

/** Bits 28..31 all live in byte 3 of a little-endian event word. */
const B3 = {
  PENDING: 1 << (EVTCHN_FIFO.PENDING - 24),
  MASKED: 1 << (EVTCHN_FIFO.MASKED - 24),
  LINKED: 1 << (EVTCHN_FIFO.LINKED - 24),
  BUSY: 1 << (EVTCHN_FIFO.BUSY - 24),
} as const;

/** The non-ABI work FIFO hands back to the channel layer (same hooks as 2-level). */
export interface FifoHooks {
  markEventsPending(vcpuId: number): void;
  checkPollers(port: number): void;
  /** A channel's notify vCPU and whether it is valid, for re-raising after expand_array. */
  channelAt(port: number): { notifyVcpu: number } | undefined;
}

/** One vCPU's queues: the control block (a byte offset in guest RAM) and Xen's private tails. */
interface FifoVcpu {
  controlBlock: number;
  readonly tails: Uint32Array;
}

export type FifoResult = { ok: true } | { ok: false; error: 'EINVAL' | 'ENOSPC' };

export class Fifo implements EvtchnPortOps {
  readonly name = 'fifo' as const;
  private readonly bytes: Uint8Array;
  private readonly vcpus: FifoVcpu[];
  /** event_array[]: byte offset in guest RAM of each page, in the order they were added. */
  private readonly arrayPages: number[] = [];
  /** num_evtchns: ports that have an event word. */
  private numEvtchns = 0;
  /** Per port, what Xen keeps in struct evtchn for FIFO: priority, fifo_lastq and pending. */
  private readonly priority = new Uint8Array(EVTCHN_FIFO.NR_CHANNELS);
  private readonly lastPriority = new Uint8Array(EVTCHN_FIFO.NR_CHANNELS);
  private readonly lastVcpu = new Uint16Array(EVTCHN_FIFO.NR_CHANNELS);
  /** Set when an event arrived for a port that had no event word yet. */
  private readonly savedPending = new Uint8Array(EVTCHN_FIFO.NR_CHANNELS);

  constructor(
    private readonly memory: GuestMemory,
    nrVcpus: number,
    private readonly hooks: FifoHooks,
  ) {
    this.bytes = memory.bytes;
    this.vcpus = Array.from({ length: nrVcpus }, () => ({ controlBlock: -1, tails: new Uint32Array(EVTCHN_FIFO.MAX_QUEUES) }));
  }

  // ---- set-up (EVTCHNOP_init_control, EVTCHNOP_expand_array) ---------------------------

  hasControlBlock(vcpuId: number): boolean {
    return (this.vcpus[vcpuId]?.controlBlock ?? -1) >= 0;
  }

  /** map_control_block: a second block for a vCPU, or a frame that is not RAM, is -EINVAL. */
  mapControlBlock(vcpuId: number, gpa: number, offset: number): FifoResult {
    const v = this.vcpus[vcpuId];
    if (v.controlBlock >= 0) return { ok: false, error: 'EINVAL' };
    const page = this.memory.offsetOf(gpa, PAGE_SIZE);
    if (page < 0) return { ok: false, error: 'EINVAL' };
    v.controlBlock = page + offset;
    return { ok: true };
  }

  /**
   * setup_ports, at the switch from 2-level: each valid port from 1 up keeps its 2-level
   * pending bit as the saved pending state (re-raised once its event word exists) and goes
   * back to the default priority. Mask bits are not carried over: the guest initialises the
   * event words of each array page it adds.
   */
  adoptPorts(validPorts: number, prevEvtchns: number, wasPending: (port: number) => boolean): void {
    for (let port = 1; port < prevEvtchns && port < validPorts; port++) {
      if (wasPending(port)) this.savedPending[port] = 1;
      this.priority[port] = EVTCHN_FIFO.PRIORITY_DEFAULT;
    }
  }

  /**
   * add_page_to_event_array: the next 1024 ports get their words in `gpa`'s page (-ENOSPC
   * past 2^17 ports, -EINVAL if the frame is not RAM); then every valid port of the new page
   * whose event arrived while it had no word is raised again (on its notify vCPU; Xen calls
   * its set_pending directly here, without the usable-channel check).
   */
  addArrayPage(gpa: number, validPorts: number): FifoResult {
    const slot = this.numEvtchns / EVTCHN_FIFO.WORDS_PER_PAGE;
    if (slot >= EVTCHN_FIFO.MAX_EVENT_ARRAY_PAGES) return { ok: false, error: 'ENOSPC' };
    const page = this.memory.offsetOf(gpa, PAGE_SIZE);
    if (page < 0) return { ok: false, error: 'EINVAL' };
    this.arrayPages.push(page);
    const first = this.numEvtchns;
    this.numEvtchns += EVTCHN_FIFO.WORDS_PER_PAGE;
    for (let port = first; port < this.numEvtchns && port < validPorts; port++) {
      if (!this.savedPending[port]) continue;
      const c = this.hooks.channelAt(port);
      if (c) this.setPending(c.notifyVcpu, port);
    }
    return { ok: true };
  }

  get eventWords(): number {
    return this.numEvtchns;
  }

  // ---- the event word ------------------------------------------------------------------

  /** evtchn_fifo_word_from_port: byte offset of the port's word in guest RAM, or -1. */
  wordOf(port: number): number {
    if (port >= this.numEvtchns || port < 0) return -1;
    return this.arrayPages[port >>> 10] + (port & (EVTCHN_FIFO.WORDS_PER_PAGE - 1)) * 4;
  }

  /** The whole event word (for reports and tests); undefined without a word. */
  word(port: number): number | undefined {
    const w = this.wordOf(port);
    return w < 0 ? undefined : this.readU32(w);
  }

  private readU32(o: number): number {
    const b = this.bytes;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }

  private writeU32(o: number, x: number): void {
    const b = this.bytes;
    b[o] = x & 0xff;
    b[o + 1] = (x >>> 8) & 0xff;
    b[o + 2] = (x >>> 16) & 0xff;
    b[o + 3] = (x >>> 24) & 0xff;
  }

  /** guest_test_and_set_bit on one of the top four bits (all in byte 3). */
  private testAndSet(w: number, m: number): boolean {
    const was = (this.bytes[w + 3] & m) !== 0;
    this.bytes[w + 3] |= m;
    return was;
  }

  /**
   * evtchn_fifo_set_link: set the tail's LINK to `port` only while the tail is still LINKED
   * (the guest may have consumed it meanwhile, which empties the queue). The write also clears
   * BUSY, which Xen sets only while it retries against a guest that keeps changing the word.
   */
  private setLink(tailWord: number, port: number): boolean {
    const old = this.readU32(tailWord);
    if ((old & (1 << EVTCHN_FIFO.LINKED)) === 0) return false;
    this.writeU32(tailWord, ((old & ~((1 << EVTCHN_FIFO.BUSY) | EVTCHN_FIFO.LINK_MASK)) | port) >>> 0);
    return true;
  }

  // ---- EvtchnPortOps -------------------------------------------------------------------

  /** evtchn_fifo_init, at every bind: the channel starts at the default priority. */
  init(port: number): void {
    this.priority[port] = EVTCHN_FIFO.PRIORITY_DEFAULT;
  }

  /**
   * evtchn_fifo_set_pending, in Xen's order:
   *  1. no event word yet: remember the event for expand_array, nothing else;
   *  2. test-and-set PENDING (its old value decides the poller check at the end);
   *  3. the vCPU has no control block: the event is dropped (the guest must not unmask before
   *     it has one);
   *  4. if not MASKED and test-and-set LINKED was clear: the port leaves the queue it was last
   *     linked on (if it was that queue's tail, the tail is forgotten: the queue is empty), is
   *     recorded on its new queue (this vCPU, its current priority), and is appended: linked to
   *     the tail if the tail is still LINKED, else it becomes the queue's head in the control
   *     block; either way it is the new tail;
   *  5. only if it became a head: test-and-set the priority's bit in `ready`, and on its 0->1
   *     edge mark events pending on the vCPU (evtchn_upcall_pending and the PPI).
   */
  setPending(vcpuId: number, port: number): void {
    const w = this.wordOf(port);
    if (w < 0) {
      this.savedPending[port] = 1;
      return;
    }
    const v = this.vcpus[vcpuId];
    const prio = this.priority[port];
    const wasPending = this.testAndSet(w, B3.PENDING);
    let linked = true;
    if (v.controlBlock >= 0 && (this.bytes[w + 3] & B3.MASKED) === 0 && !this.testAndSet(w, B3.LINKED)) {
      const oldV = this.vcpus[this.lastVcpu[port]];
      const oldP = this.lastPriority[port];
      if (oldV.tails[oldP] === port) oldV.tails[oldP] = 0;
      if (oldV !== v || oldP !== prio) {
        this.lastVcpu[port] = vcpuId;
        this.lastPriority[port] = prio;
      }
      const tail = v.tails[prio];
      linked = tail !== 0 && this.setLink(this.wordOf(tail), port);
      if (!linked) this.writeU32(v.controlBlock + FifoControlBlock.head + prio * 4, port);
      v.tails[prio] = port;
    }
    if (!linked) {
      const ready = v.controlBlock + FifoControlBlock.ready + (prio >>> 3);
      const m = 1 << (prio & 7);
      const was = (this.bytes[ready] & m) !== 0;
      this.bytes[ready] |= m;
      if (!was) this.hooks.markEventsPending(vcpuId);
    }
    if (!wasPending) this.hooks.checkPollers(port);
  }

  /** evtchn_fifo_clear_pending: PENDING only; a linked port stays linked (the guest skips it). */
  clearPending(port: number): void {
    const w = this.wordOf(port);
    if (w >= 0) this.bytes[w + 3] &= ~B3.PENDING;
  }

  /**
   * evtchn_fifo_unmask: clear MASKED, and if PENDING, run set_pending again, which links the
   * port unless it is still LINKED. Unlike 2-level, a port that was not masked is re-linked too.
   */
  unmask(vcpuId: number, port: number): void {
    const w = this.wordOf(port);
    if (w < 0) return;
    this.bytes[w + 3] &= ~B3.MASKED;
    if (this.bytes[w + 3] & B3.PENDING) this.setPending(vcpuId, port);
  }

  isPending(port: number): boolean {
    const w = this.wordOf(port);
    return w >= 0 && (this.bytes[w + 3] & B3.PENDING) !== 0;
  }

  isMasked(port: number): boolean {
    const w = this.wordOf(port);
    return w < 0 || (this.bytes[w + 3] & B3.MASKED) !== 0;
  }

  /** evtchn_fifo_is_busy: a LINKED port cannot be handed out again by get_free_port (bound: PortTable.allocate takes it as is). */
  readonly isBusy = (port: number): boolean => {
    const w = this.wordOf(port);
    return w >= 0 && (this.bytes[w + 3] & B3.LINKED) !== 0;
  };

  /**
   * evtchn_fifo_set_priority: 0..15, else -EINVAL. Only future links use it: a port already
   * on a queue stays there.
   */
  readonly setPriority = (port: number, priority: number): number => {
    if (priority > EVTCHN_FIFO.PRIORITY_MIN || priority < 0) return -1;
    this.priority[port] = priority;
    return 0;
  };

  priorityOf(port: number): number {
    return this.priority[port];
  }

  /** Xen's private tail of a queue (tests and reports). */
  tail(vcpuId: number, priority: number): number {
    return this.vcpus[vcpuId]?.tails[priority] ?? 0;
  }
}
