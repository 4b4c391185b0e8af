import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/xen/abi.ts';
import { EVTCHN_FIFO, FifoControlBlock } from '../../src/xen/evtchn/fifo.ts';
import { RAM_BASE, rig } from './helpers.ts';

/*
 * The FIFO ABI end to end against a plain description of what a guest must see: one domain,
 * four loopback channels (odd port -> even port), a guest that drains its queues the way the
 * ABI prescribes (highest priority first, one event at a time, clear LINKED|LINK at the head,
 * clear PENDING and deliver if not masked). Random rounds of set_priority, mask, unmask and
 * sends between drains. What must hold:
 *  - every event sent to an unmasked port is delivered once per drain (merged while pending);
 *  - a masked port is not delivered and stays pending; EVTCHNOP_unmask delivers it next drain;
 *  - within a drain, ports come out by priority at the time they were queued, and in arrival
 *    order within one priority;
 *  - the upcall is raised exactly when a `ready` bit goes 0 -> 1 while upcall_pending is clear.
 */

const CB = RAM_BASE + 0x10000;
const ARRAY = RAM_BASE + 0x20000;
const RX = [2, 4, 6, 8];
const { PENDING, MASKED, LINKED, LINK_MASK } = EVTCHN_FIFO;
const bit = (n: number) => (1 << n) >>> 0;

type Step =
  | { k: 'prio'; i: number; p: number }
  | { k: 'mask'; i: number }
  | { k: 'unmask'; i: number }
  | { k: 'send'; i: number };

const idx = fc.integer({ min: 0, max: 3 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ k: fc.constant('prio' as const), i: idx, p: fc.integer({ min: 0, max: 15 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('mask' as const), i: idx }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unmask' as const), i: idx }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('send' as const), i: idx }) },
);

describe('FIFO: random rounds against the guest-visible contract', () => {
  it('no event lost or duplicated; priority, then arrival order; upcall on the ready edge', () => {
    fc.assert(
      fc.property(fc.array(fc.array(step, { maxLength: 10 }), { minLength: 1, maxLength: 8 }), (rounds) => {
        const r = rig({ domains: 1 });
        const a = r.doms[0];
        const ev = r.xen.evtchn;
        const m = a.memory;
        ev.initControl(a, BigInt(CB >>> 12), 0, 0);
        ev.expandArray(a, BigInt(ARRAY >>> 12));
        for (let i = 0; i < 4; i++) {
          const u = ev.allocUnbound(a, DOMID_SELF, DOMID_SELF);
          const b = u.ok ? ev.bindInterdomain(a, DOMID_SELF, u.value) : u;
          expect(b).toEqual({ ok: true, value: RX[i] });
        }
        const word = (p: number) => m.readU32(ARRAY + p * 4)!;
        const setWord = (p: number, w: number) => m.writeU32(ARRAY + p * 4, w >>> 0);
        const vi = ev.pages(a).vcpuInfo(0);
        let upcalls = a.vcpus[0].upcalls;

        // The guest's drain (as firmware/lib/zephyr/evtchn_fifo.c does it).
        const drain = (): number[] => {
          const out: number[] = [];
          const localHead = new Array<number>(16).fill(0);
          vi.buf[vi.off] = 0;
          let ready = m.readU32(CB)!;
          m.writeU32(CB, 0);
          while (ready !== 0) {
            const q = 31 - Math.clz32(ready & -ready);
            let port = localHead[q] || m.readU32(CB + FifoControlBlock.head + q * 4)!;
            const w = word(port);
            setWord(port, w & ~(bit(LINKED) | LINK_MASK));
            const next = w & LINK_MASK;
            if (next === 0) ready &= ~(1 << q);
            localHead[q] = next;
            const now = word(port);
            if (now & bit(PENDING) && !(now & bit(MASKED))) {
              setWord(port, now & ~bit(PENDING));
              out.push(port);
            }
            ready |= m.readU32(CB)!;
            m.writeU32(CB, 0);
            port = 0;
          }
          return out;
        };

        // Settle the four bind events.
        expect(drain()).toEqual(RX);
        upcalls = a.vcpus[0].upcalls;
        const prio = [7, 7, 7, 7];
        const masked = [false, false, false, false];
        const heldPending = new Set<number>(); // masked and pending, waiting for unmask

        for (const round of rounds) {
          // Expected: per priority (at queue time), first-arrival order.
          const queued: { i: number; p: number }[] = [];
          let readyBits = 0;
          let expectUpcalls = 0;
          const queue = (i: number) => {
            if (queued.some((x) => x.i === i)) return;
            queued.push({ i, p: prio[i] });
            if (!(readyBits & (1 << prio[i]))) {
              if (readyBits === 0) expectUpcalls++; // upcall_pending was cleared by the drain
              readyBits |= 1 << prio[i];
            }
          };
          for (const s of round) {
            const port = RX[s.i];
            if (s.k === 'prio') {
              expect(ev.setPriority(a, port, s.p).ok).toBe(true);
              prio[s.i] = s.p;
            } else if (s.k === 'mask') {
              setWord(port, word(port) | bit(MASKED));
              masked[s.i] = true;
            } else if (s.k === 'unmask') {
              expect(ev.unmask(a, port).ok).toBe(true);
              masked[s.i] = false;
              if (heldPending.delete(s.i) || (word(port) & bit(PENDING) && !(word(port) & bit(LINKED)))) queue(s.i);
            } else {
              expect(ev.send(a, port - 1).ok).toBe(true);
              if (masked[s.i]) heldPending.add(s.i);
              else queue(s.i);
            }
          }
          // A port masked after it was queued is skipped by the drain and stays pending.
          const want = [...queued]
            .map((x, n) => ({ ...x, n }))
            .sort((x, y) => x.p - y.p || x.n - y.n)
            .filter((x) => {
              if (masked[x.i]) heldPending.add(x.i);
              return !masked[x.i];
            })
            .map((x) => RX[x.i]);
          expect(a.vcpus[0].upcalls - upcalls).toBe(expectUpcalls);
          expect(drain()).toEqual(want);
          upcalls = a.vcpus[0].upcalls;
          for (const i of heldPending) expect(word(RX[i]) & bit(PENDING)).not.toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
