import { Hypercall } from '../xen/abi.ts';
import { ECS } from '../xen/evtchn/channel.ts';
import { EVTCHNOP, evtchnOpName } from '../xen/evtchn/codec.ts';
import { Errno } from '../xen/errno.ts';
import type { XsmPolicy } from '../xen/hypervisor.ts';
import { physicalHandles } from '../xen/guest-handle.ts';
import { VCPUOP, VCPU_RUNSTATE_INFO_SIZE } from '../xen/ops/vcpu-op.ts';
import { XENMEM } from '../xen/ops/memory-op.ts';
import { Shadow, type EventAbiModel, type PortSnap } from './event-model.ts';
import { fifoEventModel } from './fifo-model.ts';
import { GrantModel, MAX_GRANT_FRAMES, type GrantDom } from './grant-model.ts';
import { ShuffledPaging } from './paging.ts';
import type { GuestHandles } from '../xen/guest-handle.ts';
import { callKey, copyOutWindows, Generator, type Knowledge, type Patch, type Step } from './generator.ts';
import { Rng } from './rng.ts';
import { FUZZ_RAM_BASE, FUZZ_RAM_SIZE, makeWorld, type FuzzDomain, type World } from './world.ts';

export interface FuzzConfig {
  seed: number;
  /** Steps (hypercalls and guest writes) in all. */
  steps: number;
  xsm: XsmPolicy;
  /** Steps before the world is rebuilt with fresh domains (default 4000). */
  worldSteps?: number;
  /** The event ABI's reference model (default: 2-level with FIFO, `fifoEventModel()`). */
  abi?: EventAbiModel;
}

export type FifoStats = Shadow['fifoStats'];

export interface FuzzFailure {
  seed: number;
  xsm: XsmPolicy;
  /** 0-based index of the step that broke an invariant. */
  step: number;
  message: string;
  /** The step, readable. */
  what: string;
}

/** Results per hypercall/sub-op: how often each return value came back. */
export type Coverage = Map<string, Map<number, number>>;

export interface FuzzReport {
  steps: number;
  calls: number;
  worlds: number;
  coverage: Coverage;
  /** The longest single hypercall, in ms of wall time (informative: not an invariant). */
  maxCallMs: number;
  /**
   * What the FIFO model saw: domains switched to FIFO, ports linked behind a tail, ports that
   * became a queue's head, events saved for a port with no word, saved events raised by
   * expand_array, resets back to 2-level.
   */
  fifo: FifoStats;
  failure?: FuzzFailure;
}

const KNOWN_ERRNOS = new Set<number>(Object.values(Errno));
const HEX = (n: number | bigint) => `0x${n.toString(16)}`;

// A port as the invariants compare it: state, remote domain, remote port or VIRQ, notify vCPU.

const scratch = new Int32Array(4 * 4096 + 4);

/** The domain's ports now: `prev` itself when nothing changed (no allocation on the hot path). */
function snapPorts(w: World, domid: number, prev?: PortSnap): PortSnap {
  const ev = w.xen.evtchn;
  const n = ev.validCount(domid);
  const s = scratch;
  for (let p = 0; p < n; p++) {
    const c = ev.channel(domid, p)!;
    const b = c.binding;
    s[4 * p] = ECS[b.state];
    s[4 * p + 1] = b.state === 'unbound' || b.state === 'interdomain' ? b.remoteDomid : -1;
    s[4 * p + 2] = b.state === 'interdomain' ? b.remotePort : b.state === 'virq' ? b.virq : -1;
    s[4 * p + 3] = c.notifyVcpu;
  }
  if (prev && prev.length === 4 * n) {
    let same = true;
    for (let i = 0; i < 4 * n; i++) {
      if (prev[i] !== s[i]) {
        same = false;
        break;
      }
    }
    if (same) return prev;
  }
  return s.slice(0, 4 * n);
}

const STATE_NAMES = Object.fromEntries(Object.entries(ECS).map(([k, v]) => [v, k]));
function portText(s: PortSnap | undefined, p: number): string {
  if (!s || 4 * p >= s.length) return 'invalid';
  const st = STATE_NAMES[s[4 * p]];
  return `${st}${s[4 * p + 1] >= 0 ? ` d${s[4 * p + 1]}` : ''}${s[4 * p + 2] >= 0 ? `:${s[4 * p + 2]}` : ''} vcpu${s[4 * p + 3]}`;
}

class InvariantBroken extends Error {}
function broken(msg: string): never {
  throw new InvariantBroken(msg);
}

/** Text for a step, for failure reports. */
export function describeStep(s: Step): string {
  if (s.kind === 'poke') return `d${s.dom} writes ${s.patch.bytes.length} bytes at ${HEX(s.patch.gpa)}`;
  if (s.kind === 'timeout') return `d${s.dom}v${s.vcpu} poll times out`;
  if (s.kind === 'grant') return `d${s.dom} writes grant entry ${s.ref}: ${Buffer.from(s.bytes).toString('hex')}`;
  if (s.kind === 'foreign') return `d${s.dom} writes ${s.bytes.length} bytes at ${HEX(s.gpa)} (beyond its RAM)`;
  return `d${s.dom}v${s.vcpu} ${callKey(s.nr, s.args)} nr=${s.nr} args=[${s.args.map(HEX).join(', ')}]`;
}

/**
 * One fuzz campaign: `steps` steps from a seed, in worlds of 2-4 hostile domUs (sometimes with
 * a dom0), every invariant checked after every step. Stops at the first broken invariant (or
 * exception from the emulator) and says which step it was; the seed replays it exactly.
 */
export function runFuzz(cfg: FuzzConfig): FuzzReport {
  const rng = new Rng(cfg.seed);
  const worldSteps = cfg.worldSteps ?? 4000;
  const coverage: Coverage = new Map();
  const abi = cfg.abi ?? fifoEventModel();
  const report: FuzzReport = { steps: 0, calls: 0, worlds: 0, coverage, maxCallMs: 0, fifo: { switches: 0, links: 0, heads: 0, saved: 0, reraised: 0, backTo2Level: 0 } };
  let step = 0;
  while (step < cfg.steps) {
    const wrng = rng.fork();
    const world = makeWorld({
      xsm: cfg.xsm,
      domUs: wrng.range(2, 4),
      vcpus: wrng.range(1, 2),
      dom0: wrng.chance(0.3),
      // Now and then a small port space, so that running out of ports is reached too.
      maxEvtchnPort: wrng.chance(0.2) ? wrng.range(1, 70) : undefined,
    });
    report.worlds++;
    // Half the worlds' guests have their MMU on: handles go through shuffled, partly read-only pages.
    const paging = wrng.chance(0.5);
    const c = new WorldCampaign(world, wrng, abi, coverage, report, paging);
    const n = Math.min(worldSteps, cfg.steps - step);
    const addStats = () => {
      for (const k of Object.keys(report.fifo) as (keyof FifoStats)[]) report.fifo[k] += c.fifoStats[k];
    };
    for (let i = 0; i < n; i++, step++) {
      let s: Step | undefined;
      try {
        s = c.gen.next();
        c.apply(s);
      } catch (e) {
        const message = e instanceof InvariantBroken ? e.message : `the emulator threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
        report.steps = step + 1;
        report.failure = { seed: cfg.seed, xsm: cfg.xsm, step, message, what: s ? describeStep(s) : '(generating the step)' };
        addStats();
        return report;
      }
      if (c.live() === 0) {
        step++;
        break;
      }
    }
    addStats();
  }
  report.steps = step;
  return report;
}

/** One world's domains, its shadow and the invariant checks. */
class WorldCampaign {
  readonly gen: Generator;
  private readonly shadow: Shadow;
  private ports = new Map<number, PortSnap>();
  private readonly byId = new Map<number, FuzzDomain>();
  /** How each domain's handles translate (the identity for a guest with its MMU off). */
  private readonly paging = new Map<number, ShuffledPaging>();
  /** What the hypervisor is handed for the domain's handles. */
  private readonly handles = new Map<number, GuestHandles>();
  /** The grant-table reference (grant-model.ts). */
  private readonly grants: GrantModel;

  constructor(
    private readonly w: World,
    rng: Rng,
    abi: EventAbiModel,
    private readonly coverage: Coverage,
    private readonly report: FuzzReport,
    mmuOn: boolean,
  ) {
    for (const d of w.doms) {
      this.byId.set(d.domid, d);
      const p = new ShuffledPaging(d.memory, mmuOn ? rng : undefined);
      this.paging.set(d.domid, p);
      this.handles.set(d.domid, mmuOn ? p : physicalHandles(d.memory));
      this.ports.set(d.domid, snapPorts(w, d.domid));
    }
    this.shadow = new Shadow(w, abi);
    this.shadow.portsOf = (d) => this.ports.get(d)!;
    const ramBuffers = new Set(w.doms.map((x) => x.memory.bytes.buffer));
    this.grants = new GrantModel(w.doms, w.opts.xsm === 'silo', (d) => this.shadow.ram.get(d)!, (d, page) => {
      const p = this.byId.get(d)!.physmap.pages.get(page);
      return p !== undefined && !ramBuffers.has(p.bytes.buffer);
    });
    const know: Knowledge = {
      ports: (domid) => {
        const s = this.ports.get(domid);
        const out: number[] = [];
        if (s) for (let p = 1; 4 * p < s.length; p++) if (s[4 * p] !== ECS.free) out.push(p);
        return out;
      },
      offers: (domid) => {
        const out: { domid: number; port: number }[] = [];
        for (const [x, s] of this.ports) for (let p = 1; 4 * p < s.length; p++) if (s[4 * p] === ECS.unbound && s[4 * p + 1] === domid) out.push({ domid: x, port: p });
        return out;
      },
      idleVcpus: (domid) => this.byId.get(domid)!.vcpus.filter((v) => !this.shadow.polling.get(domid)!.has(v.id)).map((v) => v.id),
      pollingVcpus: (domid) => [...this.shadow.polling.get(domid)!.keys()],
      grantsTo: (domid) => this.grants.grantsTo(domid, 16),
      mappings: (domid) => {
        const out: { handle: number; hostPage: bigint }[] = [];
        this.grants.doms.get(domid)!.maptrack.forEach((m, handle) => m && out.push({ handle, hostPage: m.hostPage }));
        return out;
      },
      foreignPages: (domid) => [...this.grants.doms.get(domid)!.foreign.keys()],
      fifo: (domid) => {
        const f = this.shadow.fifo.get(domid);
        return f && { control: f.control.map((o) => (o === undefined ? undefined : FUZZ_RAM_BASE + o)), pages: f.pages.map((o) => FUZZ_RAM_BASE + o) };
      },
    };
    this.gen = new Generator(rng, w, know);
  }

  get fifoStats(): FifoStats {
    return this.shadow.fifoStats;
  }

  live(): number {
    return this.w.doms.filter((d) => !d.stopped).length;
  }

  apply(s: Step): void {
    const sh = this.shadow;
    if (s.kind === 'poke') {
      this.patch(s.dom, s.patch);
    } else if (s.kind === 'grant') {
      // Through the guest's mapping of its grant frame: the table is Xen's memory.
      this.w.xen.gnttab.table(this.byId.get(s.dom)!).shared.set(s.bytes, s.ref * 8);
      this.grants.doms.get(s.dom)!.table.set(s.bytes, s.ref * 8);
    } else if (s.kind === 'foreign') {
      this.foreignWrite(s.dom, s.gpa, s.bytes);
    } else if (s.kind === 'timeout') {
      sh.polling.get(s.dom)!.delete(s.vcpu);
      sh.pollWoken.get(s.dom)!.delete(s.vcpu);
      this.w.xen.endPoll(s.dom, s.vcpu);
    } else {
      for (const p of s.prep) this.patchVirtual(s.dom, p);
      let args = s.args;
      for (let round = 0; ; round++) {
        if (round > 64) broken(`a continued call did not finish in 64 rounds (last args [${args.map(HEX).join(', ')}])`);
        const next = this.call(s.dom, s.vcpu, s.nr, args);
        if (!next) break;
        args = next;
      }
    }
    this.checkEverything();
  }

  /** The guest writes a buffer at a virtual address, through its own mapping (the shadow sees it too). */
  private patchVirtual(domid: number, p: Patch): void {
    this.paging.get(domid)!.pieces(BigInt(p.gpa), p.bytes.length, (pos, n, t) => {
      if (t && t.access !== 'none') this.patch(domid, { gpa: t.gpa, bytes: p.bytes.subarray(pos, pos + n) });
    });
  }

  /** The guest writes its own RAM (the shadow sees the same write). */
  private patch(domid: number, p: Patch): void {
    this.byId.get(domid)!.memory.write(p.gpa, p.bytes);
    this.shadow.ram.get(domid)!.set(p.bytes, p.gpa - FUZZ_RAM_BASE);
  }

  /** One hypercall and what the shadow predicts of it; returns the arguments of a continuation. */
  private call(domid: number, vcpuId: number, nr: number, a: bigint[]): bigint[] | undefined {
    const w = this.w;
    const d = this.byId.get(domid)!;
    const sh = this.shadow;
    // What Xen will read, before the call (the struct's port, the port's binding).
    const evCmd = nr === Hypercall.event_channel_op ? Number(BigInt.asIntN(32, a[0])) : -1;
    let argPort = -1;
    if (evCmd === EVTCHNOP.send || evCmd === EVTCHNOP.unmask || evCmd === EVTCHNOP.close) {
      const b = this.handles.get(domid)!.copyFrom(BigInt.asUintN(64, a[1]), 4);
      if (b) argPort = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    }
    // A nested handle: the runstate area named inside the struct, which Xen writes at once.
    const windows = copyOutWindows(nr, a);
    if (nr === Hypercall.vcpu_op && Number(BigInt.asIntN(32, a[0])) === VCPUOP.register_runstate_memory_area) {
      const b = this.handles.get(domid)!.copyFrom(BigInt.asUintN(64, a[2]), 8);
      if (b) windows.push({ ptr: new DataView(b.buffer, b.byteOffset).getBigUint64(0, true), len: VCPU_RUNSTATE_INFO_SIZE });
    }
    // FIFO set-up calls: their struct as Xen will read it (undefined: unreadable, -EFAULT).
    let fifoArg: DataView | undefined;
    const fifoSize = evCmd === EVTCHNOP.init_control ? 24 : evCmd === EVTCHNOP.expand_array || evCmd === EVTCHNOP.set_priority ? 8 : 0;
    if (fifoSize) {
      const b = this.handles.get(domid)!.copyFrom(BigInt.asUintN(64, a[1]), fifoSize);
      if (b) fifoArg = new DataView(b.buffer, b.byteOffset, b.length);
    }
    // Without a FIFO model: the frames a domain hands Xen for its control blocks and event arrays.
    let fifoFrame: bigint | undefined;
    if (!sh.abi.initControl && fifoArg && (evCmd === EVTCHNOP.init_control || evCmd === EVTCHNOP.expand_array)) fifoFrame = fifoArg.getBigUint64(0, true);
    const before = new Map(this.ports);

    const t0 = performance.now();
    const res = w.hv.hypercall(d, d.vcpus[vcpuId], nr, a, FUZZ_RAM_BASE, undefined, this.handles.get(domid));
    const ms = performance.now() - t0;
    if (ms > this.report.maxCallMs) this.report.maxCallMs = ms;
    this.report.calls++;
    const r = res.value;

    // Any return value is a number Xen could give: non-negative, or minus a Xen errno.
    if (!Number.isInteger(r) || (r < 0 && !KNOWN_ERRNOS.has(-r))) broken(`returned ${r}, not 0, a positive value or -errno`);
    const key = callKey(nr, a);
    let m = this.coverage.get(key);
    if (!m) this.coverage.set(key, (m = new Map()));
    if (res.outcome.kind !== 'continuation') m.set(r, (m.get(r) ?? 0) + 1);

    for (const x of w.doms) this.ports.set(x.domid, snapPorts(w, x.domid, this.ports.get(x.domid)));
    this.checkPortChanges(d, before);

    // Placement: only the caller's own successful call moves shared_info or a vcpu_info.
    for (const x of w.doms) {
      const was = sh.sharedInfoGpa.get(x.domid);
      if (x.sharedInfoGpa !== was) {
        const legit = nr === Hypercall.memory_op && r === 0 && (x === d || d.privileged);
        if (!legit) broken(`d${x.domid}'s shared_info moved from ${was === undefined ? 'Xen' : HEX(was)} to ${x.sharedInfoGpa === undefined ? 'Xen' : HEX(x.sharedInfoGpa)}`);
        if (was !== undefined) sh.unmapSharedInfo(x.domid);
        if (x.sharedInfoGpa !== undefined) {
          const op = Number(a[0] & 63n);
          if (op !== XENMEM.add_to_physmap) broken(`shared_info mapped by XENMEM op ${op}`);
          sh.mapSharedInfo(x.domid, x.sharedInfoGpa);
        }
      }
      x.vcpus.forEach((v, i) => {
        const was = sh.vcpuInfoGpa.get(x.domid)![i];
        if (v.vcpuInfoGpa === was) return;
        const legit = nr === Hypercall.vcpu_op && Number(BigInt.asIntN(32, a[0])) === VCPUOP.register_vcpu_info && r === 0 && x === d && was === undefined;
        if (!legit || v.vcpuInfoGpa === undefined) broken(`d${x.domid}v${i}'s vcpu_info moved from ${was} to ${v.vcpuInfoGpa}`);
        sh.moveVcpuInfo(x.domid, i, v.vcpuInfoGpa);
      });
    }

    // Read in whole, so -EFAULT can only be the copy-out of link_bits: the switch is done anyway.
    if (fifoFrame !== undefined && (r === 0 || r === -Errno.EFAULT)) {
      let frames = sh.unmodelled.get(domid);
      if (!frames) sh.unmodelled.set(domid, (frames = new Set()));
      if (fifoFrame < 1n << 40n) frames.add(Number(fifoFrame));
    }
    // Event bits the call should have set or cleared.
    if (nr === Hypercall.grant_table_op) {
      const want = this.simulateGnttab(domid, a);
      if (r !== want) broken(`grant_table_op returned ${r}, the grant model expects ${want}`);
    }
    // XENMAPSPACE_grant_table grows a table (not modelled: taken as it is).
    if (nr === Hypercall.memory_op) for (const x of w.doms) this.grants.doms.get(x.domid)!.nrFrames = w.xen.gnttab.table(x).nrFrames;
    if (nr === Hypercall.event_channel_op) {
      this.noteBinds(before);
      this.predictEvtchn(d, evCmd, argPort, r, before);
      if (fifoSize && sh.abi.initControl) this.predictFifoSetup(d, evCmd, fifoArg, r, a[1]);
    }

    if (res.outcome.kind === 'poll') {
      const ports = res.outcome.ports;
      sh.polling.get(domid)!.set(vcpuId, ports.length === 1 ? ports[0] : -1);
      sh.pollWoken.get(domid)!.delete(vcpuId);
    }
    if (res.outcome.kind === 'shutdown') d.stopped = true;

    // The copy-out of the call's own result: whatever Xen wrote there is the call's answer.
    const ram = sh.ram.get(domid)!;
    const paging = this.paging.get(domid)!;
    for (const win of windows) {
      paging.pieces(win.ptr, win.len, (_pos, n, t) => {
        if (t && t.access === 'rw') ram.set(d.memory.bytes.subarray(t.gpa - FUZZ_RAM_BASE, t.gpa - FUZZ_RAM_BASE + n), t.gpa - FUZZ_RAM_BASE);
      });
    }
    if (res.outcome.kind === 'continuation') {
      const next = [...a];
      res.outcome.args.forEach((v, i) => (next[i] = v));
      return next;
    }
    return undefined;
  }

  /**
   * A store beyond RAM: the real one goes through the domain's stage 2 (a read-only page
   * takes the write as an abort: nothing changes), the shadow's through the model's idea of
   * which granted page is there. Where they disagree, the RAM compare shows it.
   */
  private foreignWrite(domid: number, gpa: bigint, bytes: Uint8Array): void {
    const page = gpa & ~0xfffn;
    const off = Number(gpa - page);
    const real = this.byId.get(domid)!.physmap.pages.get(page);
    if (real?.writable) real.bytes.set(bytes, off);
    const m = this.grants.doms.get(domid)!.foreign.get(page);
    if (m?.writable) this.shadow.ram.get(m.domid)!.set(bytes, m.off + off);
  }

  /** Reads guest-virtual bytes of the shadow as the hypervisor would (undefined: -EFAULT). */
  private readV(domid: number, va: bigint, len: number): DataView | undefined {
    const out = this.paging.get(domid)!.readFrom(this.shadow.ram.get(domid)!, va, len);
    return out ? new DataView(out.buffer) : undefined;
  }

  /** Writes guest-virtual bytes into the shadow page by page, stopping where the guest may not write. */
  private writeV(domid: number, va: bigint, bytes: Uint8Array): boolean {
    return this.paging.get(domid)!.writeTo(this.shadow.ram.get(domid)!, va, bytes);
  }

  /** A struct's copy back: read it whole, set fields, write it whole (false: -EFAULT). */
  private writeBack(domid: number, va: bigint, size: number, set: (v: DataView) => void): boolean {
    const v = this.readV(domid, va, size);
    if (!v) return false;
    set(v);
    return this.writeV(domid, va, new Uint8Array(v.buffer));
  }

  /**
   * HYPERVISOR_grant_table_op on the shadow: the return value the model expects. Batches go
   * element by element (read, do, write the status back) so that an element that overlaps an
   * earlier one's result, or a copy's destination, reads what Xen would read.
   */
  private simulateGnttab(domid: number, a: bigint[]): number {
    const EFAULT = -Errno.EFAULT;
    const g = this.grants;
    const cmdFull = BigInt.asUintN(64, a[0]);
    const cmd = Number(cmdFull & 0xfffn);
    const uop = BigInt.asUintN(64, a[1]);
    const count = Number(BigInt.asUintN(32, a[2] ?? 0n));
    if ((count | 0) < 0) return -Errno.EINVAL;
    if (cmdFull >> 12n !== 0n && cmd !== 12) return -Errno.EINVAL;
    const one = [2, 6, 8, 10].includes(cmd);
    if (one && count !== 1) return -Errno.EINVAL;
    const st16 = (x: number) => x & 0xffff;
    switch (cmd) {
      case 6: {
        const s = this.readV(domid, uop, 16);
        if (!s) return EFAULT;
        const q = g.querySize(domid, s.getUint16(0, true));
        return this.writeBack(domid, uop, 16, (v) => {
          v.setUint16(12, st16(q.status), true);
          if (q.nr !== undefined) {
            v.setUint32(4, q.nr, true);
            v.setUint32(8, MAX_GRANT_FRAMES, true);
          }
        })
          ? 0
          : EFAULT;
      }
      case 2: {
        const s = this.readV(domid, uop, 24);
        if (!s) return EFAULT;
        const nr = s.getUint32(4, true);
        let status = g.setupTable(domid, s.getUint16(0, true), nr);
        if (status === 0) {
          // The frame list (where each frame is placed) is not modelled: its bytes are the answer.
          const list = s.getBigUint64(16, true);
          const d = this.byId.get(domid)!;
          for (let i = 0; i < nr; i++) {
            const at = list + BigInt(8 * i);
            let whole = true;
            this.paging.get(domid)!.pieces(at, 8, (_p, _n, t) => {
              if (!t || t.access !== 'rw') whole = false;
            });
            const got = new Uint8Array(8);
            this.paging.get(domid)!.pieces(at, 8, (pos, n, t) => {
              if (t && t.access === 'rw') got.set(d.memory.bytes.subarray(t.gpa - FUZZ_RAM_BASE, t.gpa - FUZZ_RAM_BASE + n), pos);
            });
            this.writeV(domid, at, got);
            if (!whole) status = -5; // GNTST_bad_virt_addr
          }
        }
        const b = new Uint8Array(2);
        new DataView(b.buffer).setUint16(0, st16(status), true);
        return this.writeV(domid, uop + 8n, b) ? 0 : EFAULT;
      }
      case 8: {
        const s = this.readV(domid, uop, 4);
        if (!s) return EFAULT;
        const ver = s.getUint32(0, true);
        const rc = ver === 1 ? 0 : ver === 2 ? -Errno.ENOSYS : -Errno.EINVAL;
        return this.writeBack(domid, uop, 4, (v) => v.setUint32(0, 1, true)) ? rc : EFAULT;
      }
      case 10: {
        const s = this.readV(domid, uop, 8);
        if (!s) return EFAULT;
        const q = g.querySize(domid, s.getUint16(0, true));
        if (q.status === -2) return -Errno.ESRCH;
        if (q.status !== 0) return -Errno.EPERM;
        return this.writeBack(domid, uop, 8, (v) => v.setUint32(4, 1, true)) ? 0 : EFAULT;
      }
      case 0:
      case 1:
      case 5: {
        const size = cmd === 0 ? 32 : cmd === 1 ? 24 : 40;
        for (let i = 0; i < count; i++) {
          const at = uop + BigInt(i * size);
          const s = this.readV(domid, at, size);
          if (!s) return EFAULT;
          let set: (v: DataView) => void;
          if (cmd === 0) {
            const r = g.map(domid, { hostAddr: s.getBigUint64(0, true), flags: s.getUint32(8, true), ref: s.getUint32(12, true), dom: s.getUint16(16, true) });
            set = (v) => {
              v.setUint16(18, st16(r.status), true);
              if (r.handle !== undefined) {
                v.setUint32(20, r.handle, true);
                v.setBigUint64(24, 0n, true);
              }
            };
          } else if (cmd === 1) {
            const st = g.unmap(domid, s.getBigUint64(0, true), s.getUint32(16, true));
            set = (v) => v.setUint16(20, st16(st), true);
          } else {
            const side = (o: number) => ({ ref: s.getUint32(o, true), gmfn: s.getBigUint64(o, true), domid: s.getUint16(o + 8, true), offset: s.getUint16(o + 10, true) });
            const st = g.copy(domid, side(0), side(16), s.getUint16(32, true), s.getUint16(34, true));
            set = (v) => v.setUint16(36, st16(st), true);
          }
          this.countStatus(cmd === 0 ? 'map_grant_ref' : cmd === 1 ? 'unmap_grant_ref' : 'copy', s, cmd === 0 ? 18 : cmd === 1 ? 20 : 36, set);
          if (!this.writeBack(domid, at, size, set)) return EFAULT;
        }
        return 0;
      }
      default:
        return -Errno.ENOSYS;
    }
  }

  /** Coverage of the per-element GNTST codes (the call itself answers 0). */
  private countStatus(op: string, s: DataView, at: number, set: (v: DataView) => void): void {
    const v = new DataView(s.buffer.slice(0));
    set(v);
    const st = v.getInt16(at, true);
    const key = `grant_table_op/GNTTABOP_${op} status`;
    let m = this.coverage.get(key);
    if (!m) this.coverage.set(key, (m = new Map()));
    m.set(st, (m.get(st) ?? 0) + 1);
  }

  /**
   * Grants against the model after every step: each table's frames byte for byte (entries and
   * Xen's GTF_reading/GTF_writing), the live maptrack handles, and every granted page mapped
   * beyond a domain's RAM (whose page, writable or not).
   */
  private checkGrants(d: FuzzDomain): void {
    const m = this.grants.doms.get(d.domid)!;
    const t = this.w.xen.gnttab.table(d);
    if (t.nrFrames !== m.nrFrames) broken(`d${d.domid}'s grant table has ${t.nrFrames} frames, the model ${m.nrFrames}`);
    const n = m.nrFrames * 4096;
    if (Buffer.compare(t.shared.subarray(0, n), m.table.subarray(0, n)) !== 0) broken(`d${d.domid}'s grant table differs from the model: ${diff(t.shared.subarray(0, n), m.table.subarray(0, n), 0)}`);
    const len = Math.max(t.maptrack.length, m.maptrack.length);
    for (let h = 0; h < len; h++) {
      const a = t.maptrack[h];
      const b = m.maptrack[h];
      if (!a && !b) continue;
      if (!a || !b || a.domid !== b.domid || a.ref !== b.ref || a.readonly !== b.readonly || a.hostAddr !== b.hostPage) {
        broken(`d${d.domid} grant handle ${h}: ${a ? `d${a.domid} ref ${a.ref}${a.readonly ? ' ro' : ''} at ${HEX(a.hostAddr)}` : 'free'}, the model ${b ? `d${b.domid} ref ${b.ref}${b.readonly ? ' ro' : ''} at ${HEX(b.hostPage)}` : 'free'}`);
      }
    }
    this.checkForeign(d, m);
  }

  private checkForeign(d: FuzzDomain, m: GrantDom): void {
    let seen = 0;
    for (const [page, p] of d.physmap.pages) {
      const owner = this.w.doms.find((x) => x.memory.bytes.buffer === p.bytes.buffer);
      if (!owner) continue;
      seen++;
      const f = m.foreign.get(page);
      if (!f || f.domid !== owner.domid || f.off !== p.bytes.byteOffset || f.writable !== p.writable) {
        broken(`d${d.domid} has d${owner.domid}'s page ${HEX(FUZZ_RAM_BASE + p.bytes.byteOffset)} mapped at ${HEX(page)}${p.writable ? ' writable' : ''}; the model ${f ? `d${f.domid} ${HEX(FUZZ_RAM_BASE + f.off)}${f.writable ? ' writable' : ''}` : 'nothing'}`);
      }
    }
    if (seen !== m.foreign.size) broken(`d${d.domid} has ${seen} granted pages mapped, the model ${m.foreign.size}`);
  }

  /** evtchn_port_init for every port that came into use (in any domain: dom0 binds in others). */
  private noteBinds(before: Map<number, PortSnap>): void {
    const abi = this.shadow.abi;
    if (!abi.bind) return;
    for (const x of this.w.doms) {
      const pre = before.get(x.domid)!;
      const post = this.ports.get(x.domid)!;
      if (pre === post) continue;
      for (let p = 1; 4 * p < post.length; p++) {
        const was = 4 * p < pre.length ? pre[4 * p] : ECS.free;
        if (was === ECS.free && post[4 * p] !== ECS.free) abi.bind(this.shadow, x.domid, p);
      }
    }
  }

  /**
   * init_control, expand_array and set_priority: the model predicts the answer from its own
   * state and the struct Xen read, and applies the effects. init_control's copy-out of
   * link_bits may still fail (-EFAULT, the switch done) where the struct is not writable.
   */
  private predictFifoSetup(d: FuzzDomain, cmd: number, arg: DataView | undefined, r: number, ptr: bigint): void {
    const sh = this.shadow;
    const abi = sh.abi;
    const name = evtchnOpName(cmd);
    let want: number;
    if (!arg) want = -Errno.EFAULT;
    else if (cmd === EVTCHNOP.init_control) want = abi.initControl!(sh, d.domid, arg.getBigUint64(0, true), arg.getUint32(8, true), arg.getUint32(12, true));
    else if (cmd === EVTCHNOP.expand_array) want = abi.expandArray!(sh, d.domid, arg.getBigUint64(0, true));
    else want = abi.setPriority!(sh, d.domid, arg.getUint32(0, true), arg.getUint32(4, true));
    if (r === want) {
      if (cmd === EVTCHNOP.set_priority && r === 0) {
        const port = arg!.getUint32(0, true);
        const got = this.w.xen.evtchn.fifo(d.domid)?.priorityOf(port);
        const model = sh.fifo.get(d.domid)?.ports.priority.get(port);
        if (got !== model) broken(`d${d.domid} port ${port} has priority ${got}, the model ${model}`);
      }
      return;
    }
    if (cmd === EVTCHNOP.init_control && want === 0 && r === -Errno.EFAULT) {
      let writable = true;
      this.paging.get(d.domid)!.pieces(BigInt.asUintN(64, ptr), 24, (_p, _n, t) => {
        if (!t || t.access !== 'rw') writable = false;
      });
      if (!writable) return;
    }
    broken(`${name} returned ${r}, the FIFO model expects ${want}`);
  }

  /** What an event-channel sub-op does to event bits, from the bindings before and after it. */
  private predictEvtchn(d: FuzzDomain, cmd: number, port: number, r: number, before: Map<number, PortSnap>): void {
    const sh = this.shadow;
    const abi = sh.abi;
    const pre = before.get(d.domid)!;
    const post = this.ports.get(d.domid)!;
    const state = (s: PortSnap | undefined, p: number) => (s && 4 * p < s.length ? s[4 * p] : -1);
    switch (cmd) {
      case EVTCHNOP.bind_interdomain:
        // The new local port is raised, even when the copy-out then failed.
        for (let p = 0; 4 * p < post.length; p++) {
          if (post[4 * p] === ECS.interdomain && state(pre, p) <= ECS.free) abi.setPending(sh, d.domid, post[4 * p + 3], p);
        }
        return;
      case EVTCHNOP.send: {
        if (r !== 0 || port < 0) return;
        const st = state(pre, port);
        if (st === ECS.interdomain) {
          const rd = pre[4 * port + 1];
          const rp = pre[4 * port + 2];
          const peer = before.get(rd)!;
          abi.setPending(sh, rd, peer[4 * rp + 3], rp);
        } else if (st === ECS.ipi) abi.setPending(sh, d.domid, pre[4 * port + 3], port);
        return;
      }
      case EVTCHNOP.close:
        if (r === 0) abi.clearPending(sh, d.domid, port);
        return;
      case EVTCHNOP.unmask: {
        const st = state(pre, port);
        if (r === 0 && st !== ECS.free && st !== ECS.reserved) abi.unmask(sh, d.domid, pre[4 * port + 3], port);
        return;
      }
      case EVTCHNOP.reset:
      case EVTCHNOP.reset_cont:
        if (r !== 0) return;
        for (let p = 1; 4 * p < pre.length; p++) if (pre[4 * p] !== ECS.free && pre[4 * p] !== ECS.reserved) abi.clearPending(sh, d.domid, p);
        abi.reset?.(sh, d.domid);
        return;
    }
  }

  /**
   * Ports of other domains change only through a binding with the caller: its unbound port for
   * the caller becomes interdomain (bind_interdomain), its interdomain port with the caller
   * goes back to unbound (close, reset). New buckets may appear (Xen allocates before it checks
   * permission) but stay free. A privileged caller may do more. Bindings stay symmetric, and
   * under SILO no two domUs are ever connected.
   */
  private checkPortChanges(caller: FuzzDomain, before: Map<number, PortSnap>): void {
    const xsm = this.w.opts.xsm;
    for (const x of this.w.doms) {
      const pre = before.get(x.domid)!;
      const post = this.ports.get(x.domid)!;
      if (pre === post) continue;
      if (post.length < pre.length) broken(`d${x.domid}'s port table shrank from ${pre.length / 4} to ${post.length / 4}`);
      for (let p = 0; 4 * p < post.length; p++) {
        const was = 4 * p < pre.length ? pre.subarray(4 * p, 4 * p + 4) : undefined;
        const now = post.subarray(4 * p, 4 * p + 4);
        if (was && was[0] === now[0] && was[1] === now[1] && was[2] === now[2] && was[3] === now[3]) continue;
        const change = `d${x.domid} port ${p}: ${portText(pre, p)} -> ${portText(post, p)}`;
        if (!was) {
          if (now[0] !== ECS.free && x !== caller && !caller.privileged) broken(`${change} (a new port of another domain in use)`);
          continue;
        }
        if (x !== caller && !caller.privileged) {
          const bound = was[0] === ECS.unbound && was[1] === caller.domid && now[0] === ECS.interdomain && now[1] === caller.domid && now[3] === was[3];
          const closed = was[0] === ECS.interdomain && was[1] === caller.domid && now[0] === ECS.unbound && now[1] === caller.domid && now[3] === was[3];
          if (!bound && !closed) broken(`${change}, by d${caller.domid}`);
        }
        // SILO: a domU may not offer a port to another domU (dom0 may, and then nobody can bind).
        if (xsm === 'silo' && now[0] === ECS.unbound && !caller.privileged && now[1] !== x.domid && now[1] !== 0 && !x.privileged && !(was[0] === ECS.unbound && was[1] === now[1]) && !(was[0] === ECS.interdomain && was[1] === now[1])) {
          broken(`SILO: ${change}, by d${caller.domid}`);
        }
      }
    }
    // Symmetry and SILO over every interdomain port, whenever any port changed.
    if (this.w.doms.every((x) => this.ports.get(x.domid) === before.get(x.domid))) return;
    for (const x of this.w.doms) {
      const s = this.ports.get(x.domid)!;
      for (let p = 0; 4 * p < s.length; p++) {
        if (s[4 * p] !== ECS.interdomain) continue;
        const rd = s[4 * p + 1];
        const rp = s[4 * p + 2];
        const peer = this.ports.get(rd);
        if (!peer || 4 * rp >= peer.length || peer[4 * rp] !== ECS.interdomain || peer[4 * rp + 1] !== x.domid || peer[4 * rp + 2] !== p) {
          broken(`d${x.domid} port ${p} is bound to d${rd}:${rp}, which is ${portText(peer, rp)}`);
        }
        const y = this.byId.get(rd)!;
        if (xsm === 'silo' && x !== y && !x.privileged && !y.privileged) broken(`SILO: d${x.domid}:${p} and d${rd}:${rp} are connected`);
      }
    }
  }

  /** A FIFO domain's event state, taken as it is (a model without FIFO): see Shadow.unmodelled. */
  private takeEventState(d: FuzzDomain, frames: Set<number>): void {
    const sh = this.shadow;
    const ram = sh.ram.get(d.domid)!;
    const take = (gpa: number, len: number) => {
      const off = gpa - FUZZ_RAM_BASE;
      if (off >= 0 && off + len <= FUZZ_RAM_SIZE) ram.set(d.memory.bytes.subarray(off, off + len), off);
    };
    for (const f of frames) take(f * 4096, 4096);
    if (d.sharedInfoGpa !== undefined) take(d.sharedInfoGpa, 4096);
    d.vcpus.forEach((v, i) => {
      if (v.vcpuInfoGpa !== undefined) take(v.vcpuInfoGpa, 48);
      sh.upcalls.get(d.domid)![i] = v.upcalls;
      if (this.w.xen.pollSatisfied(d.domid, i)) sh.pollWoken.get(d.domid)!.add(i);
      if (!this.w.xen.evtchn.isPolling(d.domid, i)) sh.polling.get(d.domid)!.delete(i);
    });
    const pages = this.w.xen.evtchn.pages(d);
    sh.xenPage.get(d.domid)!.set(pages.xenPage);
    d.vcpus.forEach((_v, i) => {
      if (!pages.usesDummy(i)) return;
      const ref = pages.vcpuInfo(i);
      sh.dummy.set(ref.buf.subarray(ref.off, ref.off + sh.dummy.length));
    });
  }

  /**
   * What Xen keeps to itself of FIFO, against the model: which ABI the domain is on, which
   * vCPUs have a control block, how many ports have an event word, and every queue's tail
   * (the guest sees heads and links, byte for byte, in the RAM compare).
   */
  private checkFifo(d: FuzzDomain): void {
    const ev = this.w.xen.evtchn;
    const m = this.shadow.fifo.get(d.domid);
    const abi = ev.abiName(d.domid);
    if (abi !== (m ? 'fifo' : '2-level')) broken(`d${d.domid} is on ${abi}, the model says ${m ? 'fifo' : '2-level'}`);
    if (!m) return;
    const f = ev.fifo(d.domid)!;
    if (f.eventWords !== m.pages.length * 1024) broken(`d${d.domid} has ${f.eventWords} FIFO event words, the model ${m.pages.length * 1024}`);
    for (let v = 0; v < m.control.length; v++) {
      if (f.hasControlBlock(v) !== (m.control[v] !== undefined)) broken(`d${d.domid}v${v}: control block ${f.hasControlBlock(v) ? 'present' : 'absent'}, not in the model`);
      for (let q = 0; q < 16; q++) {
        if (f.tail(v, q) !== m.tails[v][q]) broken(`d${d.domid}v${v} queue ${q}: tail ${f.tail(v, q)}, the model ${m.tails[v][q]}`);
      }
    }
  }

  /** Every byte Xen can write, compared with the shadow; upcalls and polls with the model's. */
  private checkEverything(): void {
    const w = this.w;
    const sh = this.shadow;
    let dummyChecked = false;
    for (const d of w.doms) {
      const frames = sh.unmodelled.get(d.domid);
      if (frames) this.takeEventState(d, frames);
    }
    for (const d of w.doms) {
      const want = sh.ram.get(d.domid)!;
      const got = d.memory.bytes;
      if (Buffer.compare(got, want) !== 0) broken(`d${d.domid}'s RAM differs from the model: ${diff(got, want, FUZZ_RAM_BASE)}`);
      if (sh.abi.initControl) this.checkFifo(d);
      this.checkGrants(d);
      const pages = w.xen.evtchn.pages(d);
      if (Buffer.compare(pages.xenPage, sh.xenPage.get(d.domid)!) !== 0) {
        broken(`d${d.domid}'s shared_info (Xen's copy) differs from the model: ${diff(pages.xenPage, sh.xenPage.get(d.domid)!, 0)}`);
      }
      d.vcpus.forEach((v, i) => {
        if (v.upcalls !== sh.upcalls.get(d.domid)![i]) broken(`d${d.domid}v${i} saw ${v.upcalls} upcalls, the model ${sh.upcalls.get(d.domid)![i]}`);
        if (!dummyChecked && pages.usesDummy(i)) {
          const ref = pages.vcpuInfo(i);
          if (Buffer.compare(ref.buf.subarray(ref.off, ref.off + sh.dummy.length), sh.dummy) !== 0) broken(`Xen's dummy vcpu_info differs from the model: ${diff(ref.buf, sh.dummy, 0)}`);
          dummyChecked = true;
        }
        const woken = sh.pollWoken.get(d.domid)!.has(i);
        if (w.xen.pollSatisfied(d.domid, i) !== woken) broken(`d${d.domid}v${i}: poll woken ${!woken}, the model says ${woken}`);
        if (w.xen.evtchn.isPolling(d.domid, i) !== sh.polling.get(d.domid)!.has(i)) broken(`d${d.domid}v${i}: polling disagrees with the model`);
        if (woken) {
          // The machine wakes the vCPU and forgets the poll.
          w.xen.endPoll(d.domid, i);
          sh.pollWoken.get(d.domid)!.delete(i);
        }
      });
    }
  }
}

function diff(got: Uint8Array, want: Uint8Array, base: number): string {
  const out: string[] = [];
  for (let i = 0; i < Math.min(got.length, want.length) && out.length < 6; i++) {
    if (got[i] !== want[i]) out.push(`${HEX(base + i)}: ${HEX(got[i])} (model ${HEX(want[i])})`);
  }
  return out.join(', ');
}
