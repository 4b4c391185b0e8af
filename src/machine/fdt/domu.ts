/**
 * The devicetree Xen 4.17 builds for a dom0less domU, from the domain's configuration.
 *
 * Node by node and property by property this follows what the real Xen 4.17 hands a domU
 * (recorded with firmware/apps/dtb-dump, test/golden/dtb-domu.*.txt): same nodes, same order,
 * same property order and values, and the blob layout of libfdt's sequential write (see
 * writer.ts), so a generated blob is byte-identical to Xen's for the same configuration.
 *
 * Addresses, sizes and interrupt numbers are the fixed guest memory map of Xen's Arm public
 * ABI (xen/include/public/arch-arm.h, 4.17). Interrupt specifiers follow the Arm GIC binding:
 * <type number flags>, type 0 = SPI (INTID - 32), 1 = PPI (INTID - 16); flags[3:0] is the
 * trigger (4 = level active-high, 8 = level active-low) and flags[15:8] a CPU mask, which
 * Xen sets to 0xf for every interrupt it describes, GICv3 included.
 */
import { vcpuAffinity } from '../../gic/index.ts';
import { serializeFdt, node, u32Prop, u64Prop, stringProp, stringListProp, emptyProp, type FdtNode, type FdtProp } from './writer.ts';

/** arch-arm.h: guest RAM banks (the domain's memory fills RAM0 first, then RAM1). */
export const GUEST_RAM0_BASE = 0x4000_0000n;
export const GUEST_RAM0_SIZE = 0xc000_0000n;
export const GUEST_RAM1_BASE = 0x02_0000_0000n;
export const GUEST_RAM1_SIZE = 0xfe_0000_0000n;
/** GICv2 distributor and CPU interface. */
export const GUEST_GICD_BASE = 0x0300_1000n;
export const GUEST_GICD_SIZE = 0x1000n;
export const GUEST_GICC_BASE = 0x0300_2000n;
export const GUEST_GICC_SIZE = 0x2000n;
/** GICv3 distributor and the first redistributor region. */
export const GUEST_GICV3_GICD_BASE = 0x0300_1000n;
export const GUEST_GICV3_GICD_SIZE = 0x1_0000n;
export const GUEST_GICV3_GICR0_BASE = 0x0302_0000n;
export const GUEST_GICV3_GICR0_SIZE = 0x100_0000n;
/** The emulated SBSA UART (vpl011). */
export const GUEST_PL011_BASE = 0x2200_0000n;
export const GUEST_PL011_SIZE = 0x1000n;
/** Grant-table window, the first `reg` range of the hypervisor node. */
export const GUEST_GNTTAB_BASE = 0x3800_0000n;
export const GUEST_GNTTAB_SIZE = 0x100_0000n;
/** INTIDs. */
export const GUEST_EVTCHN_PPI = 31;
export const GUEST_TIMER_VIRT_PPI = 27;
export const GUEST_TIMER_PHYS_S_PPI = 29;
export const GUEST_TIMER_PHYS_NS_PPI = 30;
export const GUEST_VPL011_SPI = 32;
/** The phandle Xen gives the guest's GIC node (65000). */
export const GUEST_PHANDLE_GIC = 0xfde8;
/** GUEST_ROOT_ADDRESS_CELLS / GUEST_ROOT_SIZE_CELLS. */
export const GUEST_ROOT_ADDRESS_CELLS = 2;
export const GUEST_ROOT_SIZE_CELLS = 2;

/** Function ids of the PSCI 0.1 binding's cpu_off/cpu_on properties (Xen's PSCI_cpu_off/on). */
const PSCI_CPU_OFF = 1;
const PSCI_CPU_ON = 2;
/** Trigger types of the GIC binding. */
const IRQ_TYPE_LEVEL_HIGH = 4;
const IRQ_TYPE_LEVEL_LOW = 8;
/** The vpl011's `current-speed`. */
const VPL011_BAUD = 115200;
/** Xen's smallest extended region (find_domU_holes). */
const EXT_REGION_MIN = 64n << 20n;
const SZ_2M = 2n << 20n;

export interface MemoryBank {
  base: bigint;
  size: bigint;
}

export interface DomUHypervisorNode {
  /** Grant-table window; Xen's GUEST_GNTTAB_BASE/SIZE by default. */
  gnttab?: MemoryBank;
  /**
   * Extended regions (reg 1..N): the guest address space Xen leaves free for foreign
   * mappings. Default: computed as Xen 4.17 does for a domU (domUExtendedRegions).
   */
  extendedRegions?: MemoryBank[];
  /** The event-channel upcall INTID; GUEST_EVTCHN_PPI (31) by default. */
  evtchnIntid?: number;
}

export interface DomUDeviceTreeSpec {
  /** The domain's RAM, in address order; Xen's banks start at GUEST_RAM0_BASE (memoryBanks()). */
  memory: MemoryBank[];
  vcpus: number;
  gic: 2 | 3;
  vpl011: boolean;
  /** /chosen/bootargs; Xen writes none for an empty command line. */
  bootargs?: string;
  /**
   * Guest physical [start, end) of the initrd. Without one Xen 4.17 still writes both
   * properties, as 0 (it makes the placeholders whenever the domain has a kernel).
   */
  initrd?: { start: bigint; end: bigint };
  /** Only for "xen,enhanced" domains. */
  hypervisor?: DomUHypervisorNode;
  /**
   * Each cpu node's `compatible`, which Xen copies from the host's first CPU node. The
   * oracle's host is QEMU's `-cpu cortex-a57`.
   */
  cpuCompatible?: string[];
  /** Copied from the host's first CPU node when it has one (QEMU's has none). */
  cpuClockFrequency?: number;
  /** Copied from the host's timer node when it has one (QEMU's has none). */
  timerClockFrequency?: number;
  /** The host's IPA size, which bounds the extended regions (40 on the oracle). */
  ipaBits?: number;
}

export const DEFAULT_CPU_COMPATIBLE = ['arm,cortex-a57'];
export const DEFAULT_IPA_BITS = 40;

/** How Xen 4.17 splits a domU's memory: GUEST_RAM0 up to its size, the rest in GUEST_RAM1. */
export function memoryBanks(bytes: bigint): MemoryBank[] {
  const banks: MemoryBank[] = [];
  const ram0 = bytes < GUEST_RAM0_SIZE ? bytes : GUEST_RAM0_SIZE;
  if (ram0 > 0n) banks.push({ base: GUEST_RAM0_BASE, size: ram0 });
  const ram1 = bytes - ram0;
  if (ram1 > 0n) banks.push({ base: GUEST_RAM1_BASE, size: ram1 < GUEST_RAM1_SIZE ? ram1 : GUEST_RAM1_SIZE });
  return banks;
}

/**
 * Xen 4.17's extended regions for a domU (find_domU_holes): in each of the two guest RAM
 * banks, what lies above the domain's RAM, from a 2 MiB boundary to the end of the bank or of
 * the IPA space, kept if at least 64 MiB.
 */
export function domUExtendedRegions(memory: MemoryBank[], ipaBits = DEFAULT_IPA_BITS): MemoryBank[] {
  const out: MemoryBank[] = [];
  const ipaLast = (1n << BigInt(ipaBits)) - 1n;
  for (const [base, size] of [
    [GUEST_RAM0_BASE, GUEST_RAM0_SIZE],
    [GUEST_RAM1_BASE, GUEST_RAM1_SIZE],
  ]) {
    const used = memory.find((b) => b.base === base)?.size ?? 0n;
    const start = roundUp(base + used, SZ_2M);
    const bankLast = base + size - 1n;
    const last = ipaLast < bankLast ? ipaLast : bankLast;
    const len = last > start ? last - start + 1n : 0n;
    if (len >= EXT_REGION_MIN) out.push({ base: start, size: len });
  }
  return out;
}

/** MPIDR affinity of vCPU n: the vGIC's (Xen's vcpuid_to_vaffinity), re-exported for the cpu nodes. */
export { vcpuAffinity };

function roundUp(v: bigint, to: bigint): bigint {
  return ((v + to - 1n) / to) * to;
}

/** One <type number flags> specifier for INTID `intid` (a PPI or an SPI). */
function gicInterrupt(intid: number, trigger: number): number[] {
  const ppi = intid < 32;
  return [ppi ? 1 : 0, intid - (ppi ? 16 : 32), (0xf << 8) | trigger];
}

/** A `reg` of (address, size) pairs with two cells each (the guest root's cell sizes). */
function regProp(ranges: MemoryBank[]): FdtProp {
  return u64Prop('reg', ...ranges.flatMap((r) => [r.base, r.size]));
}

/** The `interrupts` + `interrupt-parent` pair Xen writes for every device it describes. */
function interruptProps(specs: number[][]): FdtProp[] {
  return [u32Prop('interrupts', ...specs.flat()), u32Prop('interrupt-parent', GUEST_PHANDLE_GIC)];
}

function chosenNode(spec: DomUDeviceTreeSpec): FdtNode {
  const props: FdtProp[] = [];
  if (spec.bootargs) props.push(stringProp('bootargs', spec.bootargs));
  props.push(u64Prop('linux,initrd-start', spec.initrd?.start ?? 0n));
  props.push(u64Prop('linux,initrd-end', spec.initrd?.end ?? 0n));
  return node('chosen', props);
}

function psciNode(): FdtNode {
  return node('psci', [
    stringListProp('compatible', ['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci']),
    stringProp('method', 'hvc'),
    u32Prop('cpu_off', PSCI_CPU_OFF),
    u32Prop('cpu_on', PSCI_CPU_ON),
  ]);
}

function cpusNode(spec: DomUDeviceTreeSpec): FdtNode {
  const cpus: FdtNode[] = [];
  for (let n = 0; n < spec.vcpus; n++) {
    const aff = vcpuAffinity(n);
    const props = [
      stringListProp('compatible', spec.cpuCompatible ?? DEFAULT_CPU_COMPATIBLE),
      stringProp('device_type', 'cpu'),
      u32Prop('reg', aff),
    ];
    if (spec.cpuClockFrequency !== undefined) props.push(u32Prop('clock-frequency', spec.cpuClockFrequency));
    props.push(stringProp('enable-method', 'psci'));
    cpus.push(node(`cpu@${aff.toString(16)}`, props));
  }
  return node('cpus', [u32Prop('#address-cells', 1), u32Prop('#size-cells', 0)], cpus);
}

function memoryNode(banks: MemoryBank[]): FdtNode {
  return node(`memory@${banks[0].base.toString(16)}`, [stringProp('device_type', 'memory'), regProp(banks)]);
}

function gicNode(gic: 2 | 3): FdtNode {
  const [compatible, regs] =
    gic === 2
      ? [
          'arm,gic-400',
          [
            { base: GUEST_GICD_BASE, size: GUEST_GICD_SIZE },
            { base: GUEST_GICC_BASE, size: GUEST_GICC_SIZE },
          ],
        ]
      : [
          'arm,gic-v3',
          [
            { base: GUEST_GICV3_GICD_BASE, size: GUEST_GICV3_GICD_SIZE },
            { base: GUEST_GICV3_GICR0_BASE, size: GUEST_GICV3_GICR0_SIZE },
          ],
        ];
  return node(`interrupt-controller@${regs[0].base.toString(16)}`, [
    u32Prop('#address-cells', 0),
    u32Prop('#interrupt-cells', 3),
    emptyProp('interrupt-controller'),
    stringProp('compatible', compatible),
    regProp(regs),
    u32Prop('linux,phandle', GUEST_PHANDLE_GIC),
    u32Prop('phandle', GUEST_PHANDLE_GIC),
  ]);
}

function timerNode(spec: DomUDeviceTreeSpec): FdtNode {
  const props = [
    stringProp('compatible', 'arm,armv8-timer'),
    // Secure physical, non-secure physical, virtual: the order of the arm,armv8-timer binding.
    ...interruptProps([
      gicInterrupt(GUEST_TIMER_PHYS_S_PPI, IRQ_TYPE_LEVEL_LOW),
      gicInterrupt(GUEST_TIMER_PHYS_NS_PPI, IRQ_TYPE_LEVEL_LOW),
      gicInterrupt(GUEST_TIMER_VIRT_PPI, IRQ_TYPE_LEVEL_LOW),
    ]),
  ];
  if (spec.timerClockFrequency !== undefined) props.push(u32Prop('clock-frequency', spec.timerClockFrequency));
  return node('timer', props);
}

function vpl011Node(): FdtNode {
  return node(`sbsa-uart@${GUEST_PL011_BASE.toString(16)}`, [
    stringProp('compatible', 'arm,sbsa-uart'),
    regProp([{ base: GUEST_PL011_BASE, size: GUEST_PL011_SIZE }]),
    ...interruptProps([gicInterrupt(GUEST_VPL011_SPI, IRQ_TYPE_LEVEL_HIGH)]),
    u32Prop('current-speed', VPL011_BAUD),
  ]);
}

function hypervisorNode(spec: DomUDeviceTreeSpec, h: DomUHypervisorNode): FdtNode {
  const gnttab = h.gnttab ?? { base: GUEST_GNTTAB_BASE, size: GUEST_GNTTAB_SIZE };
  const ext = h.extendedRegions ?? domUExtendedRegions(spec.memory, spec.ipaBits);
  return node('hypervisor', [
    stringListProp('compatible', ['xen,xen-4.17', 'xen,xen']),
    regProp([gnttab, ...ext]),
    // The event-channel upcall: active-low level-sensitive, as Xen describes it.
    ...interruptProps([gicInterrupt(h.evtchnIntid ?? GUEST_EVTCHN_PPI, IRQ_TYPE_LEVEL_LOW)]),
  ]);
}

export type DomUSpecCheck = { ok: true } | { ok: false; error: string };

/** What buildDomUDeviceTree needs to produce a tree Xen could have produced. */
export function checkDomUSpec(spec: DomUDeviceTreeSpec): DomUSpecCheck {
  if (spec.memory.length === 0) return { ok: false, error: 'a domU needs at least one memory bank' };
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 128) {
    return { ok: false, error: `vcpus must be 1..128, not ${spec.vcpus}` };
  }
  if (spec.gic !== 2 && spec.gic !== 3) return { ok: false, error: `gic must be 2 or 3, not ${String(spec.gic)}` };
  if (spec.gic === 2 && spec.vcpus > 8) return { ok: false, error: `a GICv2 domain has at most 8 vCPUs, not ${spec.vcpus}` };
  if (spec.initrd && spec.initrd.end < spec.initrd.start) return { ok: false, error: 'initrd end is below its start' };
  return { ok: true };
}

/** The domU's devicetree as a node tree, in Xen 4.17's node and property order. */
export function domUDeviceTree(spec: DomUDeviceTreeSpec): FdtNode {
  const children = [chosenNode(spec), psciNode(), cpusNode(spec), memoryNode(spec.memory), gicNode(spec.gic), timerNode(spec)];
  if (spec.vpl011) children.push(vpl011Node());
  if (spec.hypervisor) children.push(hypervisorNode(spec, spec.hypervisor));
  return node(
    '',
    [u32Prop('#address-cells', GUEST_ROOT_ADDRESS_CELLS), u32Prop('#size-cells', GUEST_ROOT_SIZE_CELLS)],
    children,
  );
}

/**
 * Xen 4.17 builds a domU's devicetree in a buffer of this many bytes (DOMU_DTB_SIZE) with
 * libfdt's sequential write, whose running size is exactly the final blob's size.
 */
export const DOMU_DTB_SIZE = 4096;

/** Bytes written after the vpl011's current-speed: its END_NODE, the root's END_NODE, FDT_END. */
const TOKENS_AFTER_CURRENT_SPEED = 12;

function withoutCurrentSpeed(tree: FdtNode): FdtNode {
  return {
    ...tree,
    children: tree.children.map((c) =>
      c.name.startsWith('sbsa-uart@') ? { ...c, props: c.props.filter((p) => p.name !== 'current-speed') } : c,
    ),
  };
}

/**
 * The domU's devicetree blob, or why Xen 4.17 would not build it.
 *
 * Size limit, as the real Xen behaves (checked with 31 and 32 vCPUs and long bootargs): every
 * property that does not fit in DOMU_DTB_SIZE makes Xen panic ("Device tree generation
 * failed"), except the vpl011's `current-speed`, whose error Xen ignores: when that property
 * is the one that does not fit, it is left out and the rest is written as usual.
 */
export function tryBuildDomUDeviceTree(spec: DomUDeviceTreeSpec): { ok: true; dtb: Uint8Array } | { ok: false; error: string } {
  const c = checkDomUSpec(spec);
  if (!c.ok) return c;
  const tree = domUDeviceTree(spec);
  const full = serializeFdt(tree);
  if (full.length <= DOMU_DTB_SIZE) return { ok: true, dtb: full };
  if (spec.vpl011) {
    const dropped = serializeFdt(withoutCurrentSpeed(tree));
    // What Xen had written once current-speed was in: everything but what comes after it.
    const afterVpl011 = spec.hypervisor ? full.length - serializeFdt({ ...tree, children: tree.children.slice(0, -1) }).length : 0;
    const usedWithCurrentSpeed = full.length - afterVpl011 - TOKENS_AFTER_CURRENT_SPEED;
    if (usedWithCurrentSpeed > DOMU_DTB_SIZE && dropped.length <= DOMU_DTB_SIZE) return { ok: true, dtb: dropped };
  }
  return {
    ok: false,
    error:
      `the domU devicetree needs ${full.length} bytes; Xen 4.17 builds it in ${DOMU_DTB_SIZE} ` +
      `and fails the domain (fewer vCPUs or shorter bootargs)`,
  };
}

/**
 * The domU's devicetree blob. A spec that tryBuildDomUDeviceTree refuses throws: callers that
 * take the configuration from the user should call that one.
 */
export function buildDomUDeviceTree(spec: DomUDeviceTreeSpec): Uint8Array {
  const r = tryBuildDomUDeviceTree(spec);
  if (!r.ok) throw new Error(`buildDomUDeviceTree: ${r.error}`);
  return r.dtb;
}
