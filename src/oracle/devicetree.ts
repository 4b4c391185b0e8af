// Builds the devicetree source fragment that turns QEMU's own `virt` DTB into a Xen
// dom0less boot description. The fragment is appended to the decompiled QEMU tree; dtc
// merges a second `/ { ... }` block into the first, so QEMU's nodes stay untouched.
//
// Bindings used (Xen docs/misc/arm/device-tree/booting.txt and dom0less.pandoc, 4.17):
//   /chosen/xen,xen-bootargs             Xen's command line
//   /chosen/<node> compatible "xen,domain"   one dom0less domU
//       memory  = <hi lo>  in KiB (two cells)
//       cpus    = <n>
//       vpl011                          emulated PL011 at 0x22000000 whose output Xen prints
//       xen,enhanced = "enabled"        give the domU a hypervisor node (needs a dom0 in 4.17)
//       module  compatible "multiboot,kernel", "multiboot,module", reg = <addr size>
//               bootargs                the domU's command line (its /chosen/bootargs)
//       module  compatible "multiboot,ramdisk", "multiboot,module": the domU's initrd
//   /chosen/<module> without a xen,domain parent: the dom0 kernel

/**
 * First address for boot modules. QEMU puts the DTB at RAM base + 128 MiB (0x48000000)
 * when the kernel is Xen; modules start well above it and far below the top of a
 * 1 GiB RAM, where Xen relocates itself.
 */
export const MODULE_BASE = 0x5000_0000;
/** Modules are placed on 2 MiB boundaries (Xen copies them out; alignment keeps it simple). */
export const MODULE_ALIGN = 0x20_0000;
/** Highest end address allowed for modules with `-m 1024` (leave the top 256 MiB to Xen). */
export const MODULE_LIMIT = 0x7000_0000;

export interface BootModule {
  addr: number;
  size: number;
}

export interface DomUSpec {
  memoryMiB: number;
  cpus: number;
  kernel: BootModule;
  /** Command line, written as the kernel module's `bootargs`. */
  bootargs?: string;
  ramdisk?: BootModule;
  /** `xen,enhanced = "enabled"`: Xen adds a hypervisor node (grant table, event PPI). */
  enhanced?: boolean;
}

export interface ChosenSpec {
  bootargs: string;
  domUs: DomUSpec[];
  dom0?: { kernel: BootModule; bootargs?: string };
}

export type LayoutResult = { ok: true; modules: BootModule[] } | { ok: false; error: string };

/** Places modules of the given sizes one after another from MODULE_BASE, 2 MiB aligned. */
export function layoutModules(sizes: number[]): LayoutResult {
  const modules: BootModule[] = [];
  let next = MODULE_BASE;
  for (const size of sizes) {
    if (!Number.isInteger(size) || size <= 0) return { ok: false, error: `bad module size ${size}` };
    const end = next + size;
    if (end > MODULE_LIMIT) {
      return { ok: false, error: `boot modules do not fit below 0x${MODULE_LIMIT.toString(16)} (total too large)` };
    }
    modules.push({ addr: next, size });
    next = Math.ceil(end / MODULE_ALIGN) * MODULE_ALIGN;
  }
  return { ok: true, modules };
}

export interface BootargsSpec {
  xsm: 'dummy' | 'silo';
  dom0MemMiB?: number;
}

/**
 * Xen's command line. Why each item:
 * - console=dtuart dtuart=/pl011@9000000: Xen's console on QEMU's PL011 (the serial we read).
 * - xsm=<policy>: Debian builds default to SILO; we always say which one we want.
 * - loglvl=all guest_loglvl=all: a domU's CONSOLEIO_write is printed at guest debug level,
 *   which release builds drop by default; we want to see it.
 * - dom0_mem: only with a dom0 (Xen refuses to guess a size for a dom0less dom0 kernel).
 */
export function xenBootargs(spec: BootargsSpec): string {
  const args = ['console=dtuart', 'dtuart=/pl011@9000000', `xsm=${spec.xsm}`, 'loglvl=all', 'guest_loglvl=all'];
  if (spec.dom0MemMiB !== undefined) args.push(`dom0_mem=${spec.dom0MemMiB}M`);
  return args.join(' ');
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** Two-cell (64-bit) value as DTS cells. */
function cells64(n: number): string {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n % 0x1_0000_0000;
  return `${hex(hi)} ${hex(lo)}`;
}

function dtsString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function moduleNode(indent: string, m: BootModule, extra: string[] = [], kind: 'kernel' | 'ramdisk' = 'kernel'): string[] {
  return [
    `${indent}module@${m.addr.toString(16)} {`,
    `${indent}\tcompatible = "multiboot,${kind}", "multiboot,module";`,
    `${indent}\treg = <${cells64(m.addr)} ${cells64(m.size)}>;`,
    ...extra.map((l) => `${indent}\t${l}`),
    `${indent}};`,
  ];
}

/** The `/ { chosen { ... } }` fragment to append to QEMU's decompiled DTS. */
export function chosenFragment(spec: ChosenSpec): string {
  const out: string[] = ['', '/ {', '\tchosen {'];
  out.push('\t\t#address-cells = <0x2>;', '\t\t#size-cells = <0x2>;');
  out.push(`\t\txen,xen-bootargs = ${dtsString(spec.bootargs)};`);
  if (spec.dom0) {
    const extra = spec.dom0.bootargs ? [`bootargs = ${dtsString(spec.dom0.bootargs)};`] : [];
    out.push(...moduleNode('\t\t', spec.dom0.kernel, extra));
  }
  spec.domUs.forEach((d, i) => {
    out.push(
      `\t\tdomU${i + 1} {`,
      '\t\t\tcompatible = "xen,domain";',
      '\t\t\t#address-cells = <0x2>;',
      '\t\t\t#size-cells = <0x2>;',
      `\t\t\tmemory = <${cells64(d.memoryMiB * 1024)}>;`,
      `\t\t\tcpus = <${hex(d.cpus)}>;`,
      '\t\t\tvpl011;',
      ...(d.enhanced ? ['\t\t\txen,enhanced = "enabled";'] : []),
      ...moduleNode('\t\t\t', d.kernel, d.bootargs !== undefined ? [`bootargs = ${dtsString(d.bootargs)};`] : []),
      ...(d.ramdisk ? moduleNode('\t\t\t', d.ramdisk, [], 'ramdisk') : []),
      '\t\t};',
    );
  });
  out.push('\t};', '};', '');
  return out.join('\n');
}

/** arm64 Image header: "ARM\x64" at byte 56 (Linux Documentation/arm64/booting.rst). */
export const ARM64_IMAGE_MAGIC = 0x644d5241;

export type ImageCheck = { ok: true } | { ok: false; error: string };

export function checkArm64Image(bytes: Uint8Array, name: string): ImageCheck {
  if (bytes.length < 64) return { ok: false, error: `${name}: too small for an arm64 Image (${bytes.length} bytes)` };
  const magic = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(56, true);
  if (magic !== ARM64_IMAGE_MAGIC) {
    return { ok: false, error: `${name}: not an arm64 Image (no "ARM\\x64" magic at offset 56); Xen's dom0less loader needs one` };
  }
  return { ok: true };
}
