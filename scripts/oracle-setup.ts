// Prepares the real-Xen reference (Debian's Xen 4.17 arm64 hypervisor + qemu-system-aarch64) so
// the live differential tests run. The hypervisor package is fetched into .cache/oracle with a
// private apt directory (no root needed); QEMU and dtc are installed as root, otherwise the
// exact command is printed. It exits 0 either way: the reference is optional for the emulator.
import { ensureOraclePrereqs } from '../src/oracle/prereqs.ts';

const r = await ensureOraclePrereqs({ install: true });
if (r.ok) {
  if (!process.argv.includes('--quiet')) process.stderr.write(`setup: real-Xen reference ready (${r.xen})\n`);
} else {
  process.stderr.write(`setup: the real-Xen reference is not available; live differential tests will be skipped.\n${r.error}\n`);
}
