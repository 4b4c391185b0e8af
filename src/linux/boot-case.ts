// The Linux boot case of issue 12 in one place: which kernel, which initramfs, which command
// line and how much memory. The test (test/linux/boot.test.ts), the golden recorder
// (scripts/linux-golden.ts) and the bench call prepareLinuxBoot() so all three boot the same.
import { buildInitramfs } from './initramfs.ts';
import { ensureCloudKernel, type CloudKernel } from './kernel.ts';

/**
 * A dom0less domU has no stdout-path (Xen's guest devicetree names none), so the console
 * and the early console are named on the command line: the vpl011 at 0x22000000.
 */
export const LINUX_CMDLINE = 'console=ttyAMA0 earlycon=pl011,0x22000000';
export const LINUX_MEMORY_MIB = 256;

export interface LinuxBootAssets {
  kernel: CloudKernel;
  initrd: string;
  cmdline: string;
  memoryMiB: number;
}

/**
 * The boot case as run options, the same for the emulator (runImages) and the real Xen
 * (runReference): the kernel as d1's image, the initramfs, the command line and the memory.
 */
export function linuxBootOptions(a: LinuxBootAssets): { images: string[]; initrd: string; cmdline: string; memoryMiB: number } {
  return { images: [a.kernel.image], initrd: a.initrd, cmdline: a.cmdline, memoryMiB: a.memoryMiB };
}

export type PrepareResult = ({ ok: true } & LinuxBootAssets) | { ok: false; error: string };

/** Fetches (or finds in .cache/linux) the kernel and builds (or finds) the initramfs. */
export async function prepareLinuxBoot(opts: { fetch?: boolean; cacheDir?: string } = {}): Promise<PrepareResult> {
  const k = await ensureCloudKernel({ fetch: opts.fetch ?? true, cacheDir: opts.cacheDir });
  if (!k.ok) return k;
  const rd = await buildInitramfs({ cacheDir: opts.cacheDir });
  if (!rd.ok) return rd;
  const { ok: _ok, ...kernel } = k;
  return { ok: true, kernel, initrd: rd.path, cmdline: LINUX_CMDLINE, memoryMiB: LINUX_MEMORY_MIB };
}
