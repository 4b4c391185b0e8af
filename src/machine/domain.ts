/**
 * One guest domain as the machine assembles it: its RAM, its vCPUs (each on its own engine,
 * all mapping the same RAM buffer), its vGIC, its console UART, and the Xen-side view
 * (`XenDomain`). Nothing here schedules; `Machine` does.
 */
import { GUEST_PL011_BASE } from './fdt/domu.ts';
import { Vcpu, type VcpuTraps } from '../cpu/vcpu.ts';
import { createGic, gicMaxVcpus, vcpuAffinity, type VirtualGic } from '../gic/index.ts';
import { GuestMemory } from '../mem/guest-memory.ts';
import type { XenDomain, XenVcpu } from '../xen/domain.ts';
import { DomainVcpu } from './domain-vcpu.ts';
import { SysReg } from '../cpu/arm64.ts';
import { GuestTimers, type TimerEvent } from '../xen/vtimer.ts';
import type { HypercallOutcome } from '../xen/hypercall.ts';
import { physicalHandles, type GuestHandles } from '../xen/guest-handle.ts';
import type { Board } from './fdt/board.ts';
import type { LoadedImage } from './loader/load.ts';
import { symbolize, type ElfSymbol } from './loader/symbols.ts';
import { loadBootModules, type DtbBuilder } from './loader/boot.ts';
import type { GuestRange } from './loader/place-modules.ts';
import { GUEST_VPL011_SPI, LineBuffer, PL011_SIZE, Vpl011 } from './pl011.ts';
import { UartBlock } from '../unicorn/counter.ts';
import { hex, type Result } from './result.ts';
import type { GuestBitWatch } from './guest-bits.ts';
import type { VTime } from './vtime.ts';

/** Why a vCPU is not running right now. */
export type RunState =
  | { kind: 'runnable' }
  /** WFI: wakes when the vGIC signals an interrupt for it (even if PSTATE.I masks it). */
  | { kind: 'wfi'; pc: bigint }
  /** SCHEDOP_block: wakes when an event is pending (evtchn_upcall_pending) or an IRQ is signalled. */
  | { kind: 'blocked'; pc: bigint }
  /** SCHEDOP_poll: wakes when a polled port becomes pending, an IRQ is signalled, or at `deadline` (virtual ns). */
  | { kind: 'poll'; pc: bigint; ports: number[]; deadline: VTime | undefined }
  /** Powered off (Xen's _VPF_down): a secondary vCPU before PSCI CPU_ON, or after CPU_OFF. */
  | { kind: 'down' }
  | { kind: 'done'; reason: string };

export interface DomainSpec {
  domid: number;
  name: string;
  privileged: boolean;
  image: Uint8Array;
  imagePath: string;
  /** The devicetree blob (its /chosen is filled in), or a builder of one (loader/boot.ts). */
  dtb: Uint8Array | DtbBuilder;
  /** Initial ramdisk, placed after the DTB and named in /chosen (loader/boot.ts). */
  initrd?: Uint8Array;
  /** Kernel command line: /chosen/bootargs. */
  cmdline?: string;
  /** Xen's `xen,enhanced` dom0less option: the xenstore HVM params (and a grant table in use). */
  enhanced?: boolean;
  board: Board;
  /** RAM size in bytes (the base comes from the board's first memory bank). */
  memoryBytes: number;
  /** Number of vCPUs (default 1): vCPU 0 boots, the others wait for PSCI CPU_ON. */
  vcpus?: number;
  exactCount?: boolean;
  counted?: boolean;
  /** Symbols for an image without its own (an arm64 Image built from an ELF beside it). */
  symbolSource?: (loaded: LoadedImage) => ElfSymbol[] | undefined;
}

export interface DomainHooks {
  traps: VcpuTraps;
  /** Console line from this domain (PL011 or console_io). */
  onConsoleLine(domain: MachineDomain, text: string, via: 'pl011' | 'console_io'): void;
  /** The vGIC's IRQ output for a vCPU changed. */
  onIrqLine(domain: MachineDomain, vcpu: number, level: boolean): void;
  observer?: Parameters<typeof createGic>[0]['observer'];
  /**
   * The vpl011 may queue the guest's characters natively between drains (MachineDomain
   * drainConsole): off while a trace wants each character at the time it is written.
   */
  consoleFastPath?: boolean;
  /** Called before every vGIC register access of this domain (a trace sync point). */
  beforeGicAccess?: (domain: MachineDomain) => void;
  /**
   * A line Xen would log about this domain's device use, as Xen writes it: the vGIC's begin
   * "dNvM: " (its "%pv:"), the vpl011's "dNvM " (gprintk).
   */
  onDeviceLog?: (domain: MachineDomain, text: string) => void;
  /** A generic timer was programmed or fired (only wired while a trace sink listens). */
  onTimer?: (domain: MachineDomain, vcpu: number, e: TimerEvent) => void;
}

/**
 * Timer PPIs from the board's arm,armv8-timer node (secure phys, non-secure phys, virt, hyp, in
 * the binding's order), else Xen's fixed guest PPIs: GUEST_TIMER_PHYS_NS_PPI 30 and
 * GUEST_TIMER_VIRT_PPI 27 (xen/include/public/arch-arm.h).
 */
function timerIntids(board: Board): { phys: number; virt: number } {
  const p = board.timer?.ppis ?? [];
  return { phys: p[1] ?? 30, virt: p[2] ?? 27 };
}


export class MachineDomain {
  readonly domid: number;
  readonly name: string;
  readonly memory: GuestMemory;
  /** The guest's buffers with its MMU off (VA = IPA): one view for all its hypercalls. */
  readonly physicalHandles: GuestHandles;
  /** Every vCPU, vCPU 0 first. */
  readonly vcpus: DomainVcpu[] = [];
  readonly gic: VirtualGic;
  readonly xen: XenDomain;
  readonly image: LoadedImage;
  /** The image file as given (or a note that it came as bytes), for tools that read its ELF again. */
  readonly imagePath: string;
  readonly dtbAddress: number;
  /** Where the initrd is in guest RAM, when there is one. */
  initrd: GuestRange | undefined;
  readonly eventIntid: number;
  readonly symbols: readonly ElfSymbol[];
  readonly pl011: LineBuffer;
  readonly consoleIo: LineBuffer;
  /** The vpl011 device, and its native transmit queue when the fast path is on. */
  uart: Vpl011 | undefined;
  uartNative: UartBlock | undefined;
  /** Set once the domain has ended (shutdown, fault, every vCPU off, killed). */
  ended: string | undefined;
  /** Text after "Test result:", once the domain printed it. */
  result: string | undefined;
  /** Guest-side shared_info bit changes, for the trace (only while a sink listens). */
  bits: GuestBitWatch | undefined;

  private constructor(spec: DomainSpec, memory: GuestMemory, gic: VirtualGic, image: LoadedImage, dtbAddress: number, pl011: LineBuffer, consoleIo: LineBuffer) {
    this.domid = spec.domid;
    this.name = spec.name;
    this.memory = memory;
    this.physicalHandles = physicalHandles(memory);
    this.gic = gic;
    this.image = image;
    this.imagePath = spec.imagePath;
    this.dtbAddress = dtbAddress;
    this.eventIntid = spec.board.xenEventIrq.intid;
    this.symbols = image.symbols.length ? image.symbols : (spec.symbolSource?.(image) ?? []);
    this.pl011 = pl011;
    this.consoleIo = consoleIo;
    this.xen = {
      domid: spec.domid,
      name: spec.name,
      privileged: spec.privileged,
      memory,
      vcpus: [],
      dying: false,
      // Grant frames and granted pages go into every vCPU's engine beside RAM (each vCPU has
      // an engine of its own; all exist from domain creation, the down ones included).
      physmap: {
        map: (gpa, bytes, w) => {
          for (let i = 0; i < this.vcpus.length; i++) {
            const err = this.vcpus[i].cpu.mapHostPages(gpa, bytes, w);
            if (err === undefined) continue;
            // All or nothing: take the mapping back from the engines that took it.
            for (let k = 0; k < i; k++) this.vcpus[k].cpu.unmapHostPages(gpa, bytes.length);
            return err;
          }
          return undefined;
        },
        unmap: (gpa, size) => {
          let first: string | undefined;
          for (const v of this.vcpus) first ??= v.cpu.unmapHostPages(gpa, size);
          return first;
        },
      },
    };
  }

  /** vCPU 0's engine: what single-vCPU callers (the library API, tests) mean by "the vCPU". */
  get vcpu(): Vcpu {
    return this.vcpus[0].cpu;
  }

  /** Guest instructions retired by all of this domain's vCPUs. */
  get retired(): number {
    let n = 0;
    for (const v of this.vcpus) n += v.cpu.retired;
    return n;
  }

  /** vCPU 0's timers. */
  get timers(): GuestTimers {
    return this.vcpus[0].timers;
  }

  /** The domain's state: 'done' once it ended, else vCPU 0's. */
  get state(): RunState {
    return this.ended !== undefined ? { kind: 'done', reason: this.ended } : this.vcpus[0].state;
  }

  static create(spec: DomainSpec, hooks: DomainHooks): Result<MachineDomain> {
    const bank = spec.board.memory[0];
    if (!bank) return { ok: false, error: `d${spec.domid}: the devicetree describes no memory` };
    const g = spec.board.gic;
    const nrVcpus = spec.vcpus ?? 1;
    if (!Number.isInteger(nrVcpus) || nrVcpus < 1 || nrVcpus > gicMaxVcpus(g.version)) {
      return { ok: false, error: `d${spec.domid}: ${nrVcpus} vCPUs asked; a GICv${g.version} domain has 1 to ${gicMaxVcpus(g.version)}` };
    }
    const memory = new GuestMemory(bank.base, spec.memoryBytes);
    const boot = loadBootModules(memory, { kernel: spec.image, dtb: spec.dtb, initrd: spec.initrd, cmdline: spec.cmdline });
    if (!boot.ok) return { ok: false, error: `d${spec.domid} (${spec.imagePath}): ${boot.error}` };
    const { image, dtbAddress } = boot.value;

    let self: MachineDomain | undefined;
    // A dom0less domU gets as many SPIs as the host GIC has lines (Xen sizes its vGIC so):
    // QEMU's virt board has 288 lines with GICv2 and 256 with GICv3 (GICD_TYPER 0x8 / 0x480007).
    const gic = createGic(
      g.version === 2
        ? { version: 2, nrVcpus, distBase: g.distBase, cpuBase: g.cpuBase, nrSpis: 256 }
        : { version: 3, nrVcpus, distBase: g.distBase, redistBase: g.redistBase, nrSpis: 224 },
    );
    if (hooks.onDeviceLog) gic.log = (vcpu, t) => self && hooks.onDeviceLog!(self, `d${spec.domid}v${vcpu}: ${t}`);
    gic.onLineChange = (vcpu, level) => {
      if (self) hooks.onIrqLine(self, vcpu, level);
    };
    if (hooks.observer) gic.observer = hooks.observer;

    const pl011 = new LineBuffer((t) => self && hooks.onConsoleLine(self, t, 'pl011'));
    const consoleIo = new LineBuffer((t) => self && hooks.onConsoleLine(self, t, 'console_io'));
    const uartBase = spec.board.uart?.base ?? Number(GUEST_PL011_BASE);
    /** The vCPU whose access reaches a device: only the running engine calls its MMIO hooks. */
    let accessor = 0;
    const uart = new Vpl011({
      out: pl011,
      raiseIrq: () => gic.pulse(0, GUEST_VPL011_SPI),
      log: hooks.onDeviceLog ? (t) => self && hooks.onDeviceLog!(self, `d${spec.domid}v${accessor} ${t}`) : undefined,
    });
    const uartNative = hooks.consoleFastPath ? new UartBlock() : undefined;
    if (uartNative) uart.attachNative(uartNative, true);
    self = new MachineDomain(spec, memory, gic, image, dtbAddress, pl011, consoleIo);
    self.uart = uart;
    self.uartNative = uartNative;
    self.initrd = boot.value.initrd;
    const ppis = timerIntids(spec.board);
    const eventIntid = self.eventIntid;
    for (let id = 0; id < nrVcpus; id++) {
      const v = Vcpu.create({ id, memory, traps: hooks.traps, exactCount: spec.exactCount, counted: spec.counted, mpidr: vcpuAffinity(id) });
      if (!v.ok) {
        self.close();
        return { ok: false, error: v.error };
      }
      const cpu = v.vcpu;
      const errs: (string | undefined)[] = [];
      errs.push(
        cpu.mapMmio(uartBase, PL011_SIZE, {
          read: (off, sz) => ((accessor = id), uart.read(off, sz)),
          write: (off, sz, val) => {
            accessor = id;
            uart.write(off, sz, val);
          },
        }, uartNative),
      );
      // A refused vGIC access is logged (Xen logs most of them too) for whoever debugs the guest.
      const refused = (reason: string) => hooks.onDeviceLog && self && hooks.onDeviceLog(self, `d${spec.domid}v${id} vGIC: ${reason} (Xen injects a data abort)`);
      const gicWindow = (base: number, size: number) =>
        cpu.mapMmio(base, size, {
          // Registers a guest must not touch read as zero and ignore writes (Xen would inject an
          // abort); the vGIC reports them and the access is otherwise harmless.
          read: (off, sz) => {
            uart.drain();
            if (hooks.beforeGicAccess && self) hooks.beforeGicAccess(self);
            const r = gic.mmioRead(id, base + off, sz as 1 | 2 | 4 | 8);
            if (!r.ok) refused(r.reason);
            return r.ok ? r.value : 0;
          },
          write: (off, sz, val) => {
            uart.drain();
            if (hooks.beforeGicAccess && self) hooks.beforeGicAccess(self);
            // The engine hands over a number below 2^53 (a bigint above): the low 32 bits either way.
            const r = gic.mmioWrite(id, base + off, sz as 1 | 2 | 4 | 8, typeof val === 'number' ? val >>> 0 : Number(BigInt.asUintN(32, val)));
            if (!r.ok) refused(r.reason);
          },
        });
      if (g.version === 2) {
        errs.push(gicWindow(g.distBase, 0x1000), gicWindow(g.cpuBase, 0x2000));
      } else {
        // Every redistributor frame (RD + SGI, 128 KiB each), one per vCPU.
        errs.push(gicWindow(g.distBase, 0x10000), gicWindow(g.redistBase, 0x20000 * nrVcpus));
      }
      // Several vCPUs: each one's TLB and cache maintenance must reach the others (DomainVcpu.catchUp).
      if (nrVcpus > 1) errs.push(cpu.watchMaintenance());
      const mapErr = errs.find((e) => e !== undefined);
      if (mapErr) {
        cpu.close();
        self.close();
        return { ok: false, error: `d${spec.domid}: ${mapErr}` };
      }
      cpu.gicSystemRegisters = gic.version === 3;
      const sctlrAtReset = cpu.readSys(SysReg.SCTLR_EL1);
      if (id === 0) cpu.reset(image.entry, dtbAddress);
      const timers = new GuestTimers({
        virtIntid: ppis.virt,
        physIntid: ppis.phys,
        raise: (intid) => gic.pulse(id, intid),
        onEvent: hooks.onTimer ? (e) => self && hooks.onTimer!(self, id, e) : undefined,
      });
      const xenVcpu: XenVcpu = {
        id,
        // Secondary vCPUs start down (Xen's _VPF_down) until PSCI CPU_ON.
        online: id === 0,
        // Xen on Arm injects the event-channel PPI on the 0->1 edge of evtchn_upcall_pending.
        raiseUpcall: () => gic.pulse(id, eventIntid),
      };
      self.xen.vcpus.push(xenVcpu);
      self.vcpus.push(new DomainVcpu(self, id, cpu, timers, xenVcpu, sctlrAtReset));
    }
    return { ok: true, value: self };
  }

  get done(): boolean {
    return this.ended !== undefined;
  }

  /** "main+0x23", or undefined when no symbol covers `pc`. */
  symbolAt(pc: number | bigint): string | undefined {
    if (!this.symbols.length) return undefined;
    // ELF symbols are held as numbers; an address beyond 2^53 has none we could name exactly.
    if (typeof pc === 'bigint') {
      if (pc > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      pc = Number(pc);
    }
    const s = symbolize(this.symbols, pc);
    return s.startsWith('0x') ? undefined : s;
  }

  /** "pc 0x40000123 (main+0x23)" when the image has symbols. */
  where(pc: number | bigint): string {
    const sym = this.symbolAt(pc);
    return sym ? `pc ${hex(pc)} (${sym})` : `pc ${hex(pc)}`;
  }

  /** Hands the characters the native vpl011 path queued to the console (see Vpl011.drain). */
  drainConsole(): void {
    this.uart?.drain();
  }

  close(): void {
    for (const v of this.vcpus) v.cpu.close();
    // After the engines that point at it.
    this.uartNative?.free();
    this.uartNative = undefined;
  }
}
