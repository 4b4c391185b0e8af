import { Errno } from '../xen/errno.ts';
import { PAGE_SIZE } from '../xen/evtchn/layout.ts';
import { twoLevelModel, type EventAbiModel, type Shadow } from './event-model.ts';
import { FUZZ_RAM_BASE, FUZZ_RAM_SIZE } from './world.ts';

/*
 * The fuzzer's own reference for the FIFO event ABI, written from the facts in Xen's public
 * header (xen/include/public/event_channel.h: event word bits, the 72-byte control block,
 * 16 priorities, link_bits 17) and the behaviour of Xen 4.17's event_fifo.c as
 * src/xen/evtchn/README.md states it (and the real Xen confirmed there). It shares no code
 * with src/xen/evtchn/fifo.ts: the two are compared, byte for byte, after every step.
 *
 * All state that the guest can see lives in the shadow RAM (event words, control blocks);
 * what Xen keeps to itself (the tail of each queue, each port's priority and the queue it was
 * last linked on, events saved for a port with no event word yet) lives here, per domain, in
 * the shadow. A domain without FIFO state is on 2-level and the 2-level model answers.
 */

/** Event word bits (event_channel.h), all in the word's top byte (byte 3, little-endian). */
const TOP = { pending: 0x80, masked: 0x40, linked: 0x20, busy: 0x10 } as const;
const LINK_MASK = 0x1ffff;
const QUEUES = 16;
const LOWEST_PRIORITY = 15;
const DEFAULT_PRIORITY = 7;
const CONTROL_BLOCK_SIZE = 72;
/** Offsets in the control block: ready (u32), a reserved u32, head[16] (u32). */
const READY = 0;
const HEAD = 8;
const WORDS_PER_PAGE = PAGE_SIZE / 4;
/** 2^17 ports at most (link_bits), so 128 array pages. */
const MAX_ARRAY_PAGES = (1 << 17) / WORDS_PER_PAGE;
/** max_evtchns of a 2-level domain: the ports setup_ports looks at when a domain switches. */
const TWO_LEVEL_PORTS = 64 * 64;

/** Per-port state Xen keeps in struct evtchn for FIFO. */
export interface FifoPortState {
  /** evtchn->priority */
  readonly priority: Map<number, number>;
  /** evtchn->pending: an event came while the port had no event word. */
  readonly saved: Set<number>;
  /** evtchn->last_vcpu_id and last_priority: the queue the port was last linked on. */
  readonly lastQueue: Map<number, { vcpu: number; prio: number }>;
}

/** One FIFO domain as the model sees it. */
export interface FifoState {
  /** Shadow-RAM offset of each vCPU's control block (undefined: none yet). */
  readonly control: (number | undefined)[];
  /** Xen's private tail of every queue, [vcpu][priority] (0: empty). */
  readonly tails: Uint32Array[];
  /** Shadow-RAM offset of each event-array page, in the order they were added. */
  readonly pages: number[];
  readonly ports: FifoPortState;
}

function newPorts(): FifoPortState {
  return { priority: new Map(), saved: new Set(), lastQueue: new Map() };
}

/** A frame as an offset in the domain's RAM, or -1 when the whole page is not RAM. */
function frameOffset(gfn: bigint): number {
  const gpa = gfn * BigInt(PAGE_SIZE);
  const off = gpa - BigInt(FUZZ_RAM_BASE);
  return off >= 0n && off + BigInt(PAGE_SIZE) <= BigInt(FUZZ_RAM_SIZE) ? Number(off) : -1;
}

function wordOf(f: FifoState, port: number): number {
  if (port < 0 || port >= f.pages.length * WORDS_PER_PAGE) return -1;
  return f.pages[Math.floor(port / WORDS_PER_PAGE)] + (port % WORDS_PER_PAGE) * 4;
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function putU32(b: Uint8Array, o: number, x: number): void {
  b[o] = x & 0xff;
  b[o + 1] = (x >>> 8) & 0xff;
  b[o + 2] = (x >>> 16) & 0xff;
  b[o + 3] = (x >>> 24) & 0xff;
}

export interface FifoModelOptions {
  /**
   * Xen keeps struct evtchn (priority, saved event, last queue) across EVTCHNOP_reset and a
   * second init_control; the emulator starts them afresh at each switch (a documented
   * difference, src/xen/evtchn/README.md). Default false: the emulator's stated behaviour.
   */
  keepPortStateAcrossReset?: boolean;
}

/**
 * The event model of a world where any domain may switch from 2-level to FIFO and back:
 * 2-level rules until the model accepted an init_control, FIFO rules after, 2-level again
 * after a reset. Its extra operations predict the answer of init_control, expand_array and
 * set_priority from the model's own state and apply their effects.
 */
export function fifoEventModel(opts: FifoModelOptions = {}): EventAbiModel {
  const kept = new WeakMap<Shadow, Map<number, FifoPortState>>();

  /** evtchn_fifo_set_pending, step by step in Xen's order. */
  function setPending(sh: Shadow, d: number, v: number, port: number): void {
    const f = sh.fifo.get(d);
    if (!f) return twoLevelModel.setPending(sh, d, v, port);
    const w = wordOf(f, port);
    if (w < 0) {
      // No event word yet: remembered for expand_array; no poller is woken.
      f.ports.saved.add(port);
      sh.fifoStats.saved++;
      return;
    }
    const ram = sh.ram.get(d)!;
    const wasPending = (ram[w + 3] & TOP.pending) !== 0;
    ram[w + 3] |= TOP.pending;
    const cb = f.control[v];
    // Linked only when unmasked and not linked already, and only with a control block (else dropped).
    if ((ram[w + 3] & (TOP.masked | TOP.linked)) === 0 && cb !== undefined) {
      const prio = f.ports.priority.get(port) ?? 0;
      ram[w + 3] |= TOP.linked;
      const last = f.ports.lastQueue.get(port) ?? { vcpu: 0, prio: 0 };
      // It was that queue's tail: the queue is empty now, its tail is forgotten.
      if (f.tails[last.vcpu][last.prio] === port) f.tails[last.vcpu][last.prio] = 0;
      if (last.vcpu !== v || last.prio !== prio) f.ports.lastQueue.set(port, { vcpu: v, prio });
      let linked = false;
      const tail = f.tails[v][prio];
      if (tail !== 0) {
        // The old tail gets LINK = port (and loses BUSY) only while it is still LINKED.
        const tw = wordOf(f, tail);
        const old = u32(ram, tw);
        if (old & (TOP.linked << 24)) {
          putU32(ram, tw, ((old & ~((TOP.busy << 24) | LINK_MASK)) | port) >>> 0);
          linked = true;
        }
      }
      if (!linked) putU32(ram, cb + HEAD + 4 * prio, port);
      sh.fifoStats[linked ? 'links' : 'heads']++;
      f.tails[v][prio] = port;
      if (!linked) {
        const rb = cb + READY + (prio >> 3);
        const m = 1 << (prio & 7);
        const was = (ram[rb] & m) !== 0;
        ram[rb] |= m;
        if (!was) sh.markEventsPending(d, v);
      }
    }
    if (!wasPending) sh.checkPollers(d, port);
  }

  return {
    name: 'fifo+2-level',
    setPending,
    clearPending(sh, d, port) {
      const f = sh.fifo.get(d);
      if (!f) return twoLevelModel.clearPending(sh, d, port);
      const w = wordOf(f, port);
      // PENDING only: a LINKED port stays on its queue for the guest to skip.
      if (w >= 0) sh.ram.get(d)![w + 3] &= ~TOP.pending;
    },
    unmask(sh, d, v, port) {
      const f = sh.fifo.get(d);
      if (!f) return twoLevelModel.unmask(sh, d, v, port);
      const w = wordOf(f, port);
      if (w < 0) return;
      const ram = sh.ram.get(d)!;
      ram[w + 3] &= ~TOP.masked;
      // Pending: raised again, whether or not it was masked before.
      if (ram[w + 3] & TOP.pending) setPending(sh, d, v, port);
    },
    bind(sh, d, port) {
      // evtchn_port_init: 2-level has no init hook; FIFO puts the port back at the default priority.
      sh.fifo.get(d)?.ports.priority.set(port, DEFAULT_PRIORITY);
    },
    initControl(sh, d, gfn, offset, vcpu) {
      const nvcpus = sh.upcalls.get(d)!.length;
      if (vcpu >= nvcpus) return -Errno.ENOENT;
      if (offset > PAGE_SIZE - CONTROL_BLOCK_SIZE || offset % 8 !== 0) return -Errno.EINVAL;
      const page = frameOffset(gfn);
      const f = sh.fifo.get(d);
      if (f) {
        if (f.control[vcpu] !== undefined || page < 0) return -Errno.EINVAL;
        f.control[vcpu] = page + offset;
        return 0;
      }
      if (page < 0) return -Errno.EINVAL;
      // The switch: empty queues on every vCPU, no array page yet (setup_ports for the rest).
      const ports = (opts.keepPortStateAcrossReset ? kept.get(sh)?.get(d) : undefined) ?? newPorts();
      const nf: FifoState = {
        control: Array.from({ length: nvcpus }, () => undefined),
        tails: Array.from({ length: nvcpus }, () => new Uint32Array(QUEUES)),
        pages: [],
        ports,
      };
      nf.control[vcpu] = page + offset;
      // setup_ports: each valid port from 1 keeps its 2-level pending bit as a saved event
      // and gets the default priority.
      const si = sh.sharedInfo(d);
      const valid = Math.min(sh.validPorts(d), TWO_LEVEL_PORTS);
      for (let p = 1; p < valid; p++) {
        if (si.buf[si.off + 48 + (p >> 3)] & (1 << (p & 7))) ports.saved.add(p);
        ports.priority.set(p, DEFAULT_PRIORITY);
      }
      sh.fifo.set(d, nf);
      sh.fifoStats.switches++;
      return 0;
    },
    expandArray(sh, d, gfn) {
      const f = sh.fifo.get(d);
      if (!f) return -Errno.EOPNOTSUPP;
      if (f.pages.length >= MAX_ARRAY_PAGES) return -Errno.ENOSPC;
      const page = frameOffset(gfn);
      if (page < 0) return -Errno.EINVAL;
      const first = f.pages.length * WORDS_PER_PAGE;
      f.pages.push(page);
      // Events that came while these ports had no word are raised now, on each port's
      // notify vCPU, whatever its state.
      const valid = sh.validPorts(d);
      for (let p = first; p < first + WORDS_PER_PAGE && p < valid; p++) {
        if (!f.ports.saved.has(p)) continue;
        sh.fifoStats.reraised++;
        setPending(sh, d, sh.notifyVcpu(d, p), p);
      }
      return 0;
    },
    setPriority(sh, d, port, priority) {
      if (port >= sh.validPorts(d)) return -Errno.EINVAL;
      const f = sh.fifo.get(d);
      if (!f) return -Errno.ENOSYS;
      if (!sh.usable(d, port)) return -Errno.EACCES;
      if (priority > LOWEST_PRIORITY) return -Errno.EINVAL;
      // Only later links use it: a port on a queue stays there.
      f.ports.priority.set(port, priority);
      return 0;
    },
    reset(sh, d) {
      const f = sh.fifo.get(d);
      if (!f) return;
      if (opts.keepPortStateAcrossReset) {
        let m = kept.get(sh);
        if (!m) kept.set(sh, (m = new Map()));
        m.set(d, f.ports);
      }
      // Control blocks and array pages are let go; shared_info's 2-level bits are as they were.
      sh.fifo.delete(d);
      sh.fifoStats.backTo2Level++;
    },
  };
}
