// Prepares the real-Xen reference (Debian's Xen 4.17 arm64 hypervisor + qemu-system-aarch64) so
// the live differential tests run. As root it installs what is missing; otherwise it says what
// to install and exits 0: the reference is optional for the emulator itself.
import { ensureOraclePrereqs } from '../src/oracle/prereqs.ts';

const r = await ensureOraclePrereqs({ install: true });
if (r.ok) {
  if (!process.argv.includes('--quiet')) process.stderr.write(`setup: real-Xen reference ready (${r.xen})\n`);
} else {
  process.stderr.write(`setup: the real-Xen reference is not available; live differential tests will be skipped.\n${r.error}\n`);
}
