/**
 * What the machine needs to know about a board, read from its devicetree: RAM, the GIC
 * and its version, the Xen event-channel interrupt, a console UART, the timer PPIs and
 * the CPU count.
 *
 * Interrupt specifiers for the Arm GIC are three cells (Linux/DT binding
 * arm,gic.yaml and arm,gic-v3.yaml): <type number flags>, type 0 = SPI (INTID number+32),
 * 1 = PPI (INTID number+16); flags bits [3:0] are the trigger (1 rising edge, 2 falling
 * edge, 4 level high, 8 level low), bits [15:8] the PPI CPU mask (GICv2 only).
 * INTID ranges: IHI0048B §2.2.1 (GICv2) and IHI0069 §2.2 (GICv3): PPIs 16-31, SPIs 32-1019.
 */
import { type Result, ok, err, hex } from '../result.ts';
import { type Fdt, type FdtNode, parseFdt } from './fdt.ts';
import { GUEST_EVTCHN_PPI } from './domu.ts';
import {
  findByPath,
  findCompatible,
  getString,
  interruptsOf,
  isCompatible,
  isEnabled,
  nodePath,
  regOfNumbers,
  allNodes,
  type InterruptSpec,
} from './props.ts';

export type GicDescription =
  | { version: 2; distBase: number; cpuBase: number }
  | { version: 3; distBase: number; redistBase: number; redistSize: number };

export interface XenEventIrq {
  intid: number;
  type: 'edge' | 'level';
  /** PPI target mask from flags bits [15:8]; 0 for SPIs or when not given. */
  cpuMask: number;
  /** The specifier cells as written in the devicetree. */
  raw: number[];
}

/**
 * Xen on Arm raises a domU's event-channel upcall on PPI 15 (INTID 31, GUEST_EVTCHN_PPI in Xen's
 * public arch-arm.h) whether or not the guest's devicetree has a hypervisor node to say so: a
 * plain dom0less domU (not "enhanced") gets no such node, yet may still make hypercalls.
 * Specifier as Xen writes it in an enhanced domU's hypervisor node: PPI 15, level, all CPUs.
 */
export const GUEST_EVTCHN_IRQ: XenEventIrq = { intid: GUEST_EVTCHN_PPI, type: 'level', cpuMask: 0xf, raw: [1, GUEST_EVTCHN_PPI - 16, 0xf08] };

export interface Board {
  memory: { base: number; size: number }[];
  gic: GicDescription;
  xenEventIrq: XenEventIrq;
  /** False when the devicetree has no "xen,xen" node (xenEventIrq is then Xen's default). */
  hypervisorNode: boolean;
  uart?: { base: number; compatible: string };
  timer?: { ppis: number[] };
  cpus: number;
}

/** Compatible strings of GIC distributors this machine emulates, and the version each implies. */
const GIC_COMPATIBLES: [string, 2 | 3][] = [
  ['arm,gic-v3', 3],
  ['arm,gic-400', 2],
  ['arm,cortex-a15-gic', 2],
  ['arm,cortex-a9-gic', 2],
  ['arm,cortex-a7-gic', 2],
];

const UART_COMPATIBLES = ['arm,sbsa-uart', 'arm,pl011'];

const GIC_SPI = 0;
const GIC_PPI = 1;

export function describeBoard(dtb: Uint8Array): Result<Board> {
  const parsed = parseFdt(dtb);
  if (!parsed.ok) return parsed;
  return describeParsedBoard(parsed.value);
}

export function describeParsedBoard(fdt: Fdt): Result<Board> {
  const memory = readMemory(fdt);
  if (!memory.ok) return memory;

  const gic = readGic(fdt);
  if (!gic.ok) return gic;
  const { node: gicNode, desc } = gic.value;

  const xen = readXenEventIrq(fdt, gicNode);
  if (!xen.ok) return xen;

  const timer = readTimer(fdt, gicNode);
  if (!timer.ok) return timer;

  const uart = readUart(fdt);
  if (!uart.ok) return uart;

  const cpus = readCpuCount(fdt);
  if (!cpus.ok) return cpus;

  const board: Board = {
    memory: memory.value,
    gic: desc,
    xenEventIrq: xen.value ?? GUEST_EVTCHN_IRQ,
    hypervisorNode: xen.value !== undefined,
    cpus: cpus.value,
  };
  if (uart.value) board.uart = uart.value;
  if (timer.value) board.timer = timer.value;
  return ok(board);
}

function readMemory(fdt: Fdt): Result<{ base: number; size: number }[]> {
  const out: { base: number; size: number }[] = [];
  for (const n of fdt.root.children) {
    const dt = n.props.get('device_type');
    if (dt === undefined || !isEnabled(n)) continue;
    const t = getString(n, 'device_type');
    if (!t.ok || t.value !== 'memory') continue;
    const reg = regOfNumbers(n);
    if (!reg.ok) return reg;
    for (const r of reg.value) if (r.size > 0) out.push({ base: r.address, size: r.size });
  }
  if (out.length === 0) return err(`devicetree has no memory: no node under / with device_type = "memory" and a non-empty reg`);
  out.sort((a, b) => a.base - b.base);
  return ok(out);
}

function readGic(fdt: Fdt): Result<{ node: FdtNode; desc: GicDescription }> {
  for (const [compat, version] of GIC_COMPATIBLES) {
    const node = findCompatible(fdt, compat).find(isEnabled);
    if (node === undefined) continue;
    const reg = regOfNumbers(node);
    if (!reg.ok) return reg;
    const r = reg.value;
    if (r.length < 2) {
      return err(
        `${nodePath(node)}: GICv${version} 'reg' has ${r.length} region(s), expected at least 2 (distributor and ${version === 3 ? 'redistributor' : 'CPU interface'})`,
      );
    }
    const desc: GicDescription =
      version === 3
        ? { version: 3, distBase: r[0].address, redistBase: r[1].address, redistSize: r[1].size }
        : { version: 2, distBase: r[0].address, cpuBase: r[1].address };
    return ok({ node, desc });
  }
  return err(`devicetree has no GIC: no enabled node compatible with ${GIC_COMPATIBLES.map(([c]) => c).join(', ')}`);
}

/** Decodes a GIC interrupt specifier <type number flags> to an INTID and trigger. */
export function gicIntid(spec: InterruptSpec, where: string): Result<XenEventIrq> {
  const raw = spec.cells;
  if (raw.length < 3) {
    return err(`${where}: GIC interrupt specifier has ${raw.length} cells, expected 3 <type number flags>`);
  }
  const [type, num, flags] = raw;
  let intid: number;
  if (type === GIC_SPI) {
    if (num > 987) return err(`${where}: SPI ${num} out of range (0-987)`);
    intid = num + 32;
  } else if (type === GIC_PPI) {
    if (num > 15) return err(`${where}: PPI ${num} out of range (0-15)`);
    intid = num + 16;
  } else {
    return err(`${where}: unsupported GIC interrupt type ${type} (expected 0 = SPI or 1 = PPI)`);
  }
  const sense = flags & 0xf;
  let trig: 'edge' | 'level';
  if (sense === 1 || sense === 2) trig = 'edge';
  else if (sense === 4 || sense === 8) trig = 'level';
  else {
    return err(`${where}: interrupt flags ${hex(flags)} have trigger bits ${hex(sense)}, expected 1/2 (edge) or 4/8 (level)`);
  }
  return ok({ intid, type: trig, cpuMask: type === GIC_PPI ? (flags >>> 8) & 0xff : 0, raw: [...raw] });
}

/** The hypervisor node's event-channel interrupt; undefined when there is no such node. */
function readXenEventIrq(fdt: Fdt, gic: FdtNode): Result<XenEventIrq | undefined> {
  const node = findCompatible(fdt, 'xen,xen')[0];
  if (node === undefined) return ok(undefined);
  const where = `${nodePath(node)} (xen,xen)`;
  const irqs = interruptsOf(fdt, node);
  if (!irqs.ok) return irqs;
  if (irqs.value.length === 0) return err(`${where}: no 'interrupts' property (the event-channel interrupt)`);
  const spec = irqs.value[0];
  if (spec.controller !== gic) {
    return err(`${where}: interrupt goes to ${nodePath(spec.controller)}, not to the GIC ${nodePath(gic)}`);
  }
  return gicIntid(spec, where);
}

function readTimer(fdt: Fdt, gic: FdtNode): Result<{ ppis: number[] } | undefined> {
  const node = findCompatible(fdt, 'arm,armv8-timer').find(isEnabled);
  if (node === undefined) return ok(undefined);
  const irqs = interruptsOf(fdt, node);
  if (!irqs.ok) return irqs;
  const ppis: number[] = [];
  for (const spec of irqs.value) {
    if (spec.controller !== gic) continue;
    const d = gicIntid(spec, `${nodePath(node)} (arm,armv8-timer)`);
    if (!d.ok) return d;
    ppis.push(d.value.intid);
  }
  return ok({ ppis });
}

/** The console UART: the one /chosen/stdout-path names if it is a PL011, else the first PL011. */
function readUart(fdt: Fdt): Result<{ base: number; compatible: string } | undefined> {
  const candidates: FdtNode[] = [];
  const chosen = findByPath(fdt, '/chosen');
  const sp = chosen?.props.has('stdout-path') ? getString(chosen, 'stdout-path') : undefined;
  if (sp?.ok) {
    // "serial0:115200n8" — options after ':' are not part of the path (DT spec v0.4 §3.6).
    const n = findByPath(fdt, sp.value.split(':')[0]);
    if (n) candidates.push(n);
  }
  for (const n of allNodes(fdt.root)) if (UART_COMPATIBLES.some((c) => isCompatible(n, c))) candidates.push(n);
  for (const n of candidates) {
    const compatible = UART_COMPATIBLES.find((c) => isCompatible(n, c));
    if (compatible === undefined || !isEnabled(n)) continue;
    const reg = regOfNumbers(n);
    if (!reg.ok) return reg;
    if (reg.value.length === 0) return err(`${nodePath(n)}: UART has an empty 'reg'`);
    return ok({ base: reg.value[0].address, compatible });
  }
  return ok(undefined);
}

function readCpuCount(fdt: Fdt): Result<number> {
  const cpus = findByPath(fdt, '/cpus');
  if (cpus === undefined) return err(`devicetree has no /cpus node`);
  const n = cpus.children.filter((c) => {
    const dt = c.props.get('device_type');
    const isCpu = dt !== undefined ? new TextDecoder('latin1').decode(dt) === 'cpu\0' : c.name === 'cpu';
    return isCpu && isEnabled(c);
  }).length;
  if (n === 0) return err(`/cpus has no cpu nodes`);
  return ok(n);
}
